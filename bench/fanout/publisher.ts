import http from 'node:http';
import { BENCH_TOPIC, publishBody } from './bench-message';

/**
 * Publishes through the system's real publish endpoint (`POST
 * /api/notifications` with the internal key; the references take the same
 * request), over a few keep-alive connections. It runs in the orchestrator,
 * a process apart from both the server and the load clients, and stamps the
 * send time into each body just before the request leaves.
 */
export class Publisher {
  private readonly agent: http.Agent;
  failures = 0;
  lastFailure = '';
  /** The first few distinct failure reasons, for the results. */
  readonly failureReasons: string[] = [];

  constructor(
    private readonly port: number,
    private readonly apiKey: string,
    /** Broadcast to BENCH_TOPIC's followers rather than to the one bench user. */
    private readonly toTopic = false,
    /** Publishes in flight at most: each waits for its 202. */
    readonly maxInFlight = 8,
  ) {
    // Idle sockets are dropped after 2 s, before any server's 5 s keep-alive timeout can
    // close one under a request that is just being sent on it.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight, timeout: 2_000 });
  }

  /** Resolves once the server answered; a failure is counted, not thrown (the phase's losses show it). */
  publish(phase: number, seq: number): Promise<void> {
    return this.send(publishBody(phase, seq, this.toTopic), true);
  }

  private send(body: string, mayRetry: boolean): Promise<void> {
    return new Promise((resolve) => {
      const request = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: 'POST',
          path: this.toTopic ? `/api/topics/${BENCH_TOPIC}/events` : '/api/notifications',
          agent: this.agent,
          headers: { 'Content-Type': 'application/json', 'X-Api-Key': this.apiKey },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            if (response.statusCode !== 202) this.fail(`HTTP ${response.statusCode} ${text.slice(0, 200)}`);
            resolve();
          });
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed as the request left: nothing was processed,
        // so sending again (same body, same stamp) cannot duplicate (Node's documented retry).
        if (mayRetry && request.reusedSocket && error.code === 'ECONNRESET') return void this.send(body, false).then(resolve);
        this.fail(error.message);
        resolve();
      });
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private fail(reason: string): void {
    this.failures++;
    this.lastFailure = reason;
    if (this.failureReasons.length < 5 && !this.failureReasons.includes(reason)) this.failureReasons.push(reason);
  }
}
