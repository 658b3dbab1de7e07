import { setTimeout as sleep } from 'node:timers/promises';
import { monotonicUs } from '../fanout/bench-message';
import { API_KEY, requestJson } from '../support';
import { STORM_TYPE } from './storm-protocol';

const MAX_PUBLISHES_IN_FLIGHT = 64;
const MAX_PUBLISH_ATTEMPTS = 50;

/** Publishes round-robin at a steady rate through nginx; a refused or failed publish is retried with its idempotency key. */
export class StormPublisher {
  readonly sentUs: number[] = [];
  readonly accepted: boolean[] = [];
  gaveUp = 0;
  /** Failed attempts (each retried), by HTTP status or `error`. */
  readonly failures: Record<string, number> = {};
  private seq = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly port: number,
    private readonly users: number,
    private readonly rate: number,
  ) {}

  get next(): number {
    return this.seq;
  }

  start(): void {
    const startedUs = monotonicUs();
    this.timer = setInterval(() => {
      const due = Math.floor(((monotonicUs() - startedUs) / 1e6) * this.rate);
      while (this.seq < due && this.inFlight < MAX_PUBLISHES_IN_FLIGHT) this.send(this.seq++, 1);
    }, 5);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.inFlight > 0) await sleep(20);
  }

  private send(seq: number, attempt: number): void {
    if (attempt === 1) this.sentUs[seq] = monotonicUs();
    this.inFlight++;
    const body = {
      userId: `storm-user-${seq % this.users}`,
      type: STORM_TYPE,
      data: { stormSeq: seq, title: 'Senior Node.js engineer (realtime systems)', company: 'Acme Benchmarks GmbH' },
      idempotencyKey: `storm-${seq}`,
    };
    const settle = (ok: boolean, why = '') => {
      this.inFlight--;
      if (!ok) this.failures[why] = (this.failures[why] ?? 0) + 1;
      if (ok) this.accepted[seq] = true;
      else if (attempt >= MAX_PUBLISH_ATTEMPTS) this.gaveUp++;
      else setTimeout(() => this.send(seq, attempt + 1), 100);
    };
    requestJson(this.port, 'POST', '/api/notifications', body, { 'X-API-Key': API_KEY }).then(
      (response) => settle(response.status === 202, String(response.status)),
      () => settle(false, 'error'),
    );
  }
}
