import request from 'supertest';
import { COMMAND_TIMEOUT_MS } from '@app/notifications';
import { io, type Socket } from 'socket.io-client';
import { gatewayEnv, type GatewayProcess, runApp, runGateway } from './support/gateway-process';
import { randomUserId, uniquePrefix } from './support/prefix';
import { type PrivateRedis, startPrivateRedis } from './support/private-redis';
import { type ResumingSse, resumingSse } from './support/resuming-sse';
import { TEST_API_KEY } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * Redis goes away under load and comes back. A private redis-server (its own
 * port, an fsync-always append-only file in a temp dir) serves a gateway and a
 * job-matcher, both run as the built processes, while an SSE client, a
 * Socket.IO client, and a publisher of notifications and job postings keep
 * going. The promise: /health says 503 and then 200 again; the processes
 * reconnect by themselves; every publish during the outage is refused with a
 * 503, never accepted and dropped; postings queued before the outage are
 * matched after it; and the clients end up with every accepted notification,
 * once each, in order.
 */

type Notification = { id: string; type: string; data: { seq?: number; jobId?: string } };

interface Attempt {
  kind: 'notification' | 'posting';
  key: string;
  status: number;
  startedAt: number;
  endedAt: number;
  id?: string;
}

describe('Redis outage', () => {
  let redis: PrivateRedis;
  let gateway: GatewayProcess;
  let matcher: GatewayProcess;
  let url: string;
  const prefix = uniquePrefix();

  const health = async () => (await request(url).get('/health').timeout(5_000)).status;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const env = {
      ...gatewayEnv(prefix, redis.url),
      WORKER_EMBEDDED: 'false',
      SSE_HEARTBEAT_MS: '500',
      SSE_RETRY_MS: '200',
    };
    gateway = runGateway(env);
    url = `http://127.0.0.1:${await gateway.waitForListening()}`;
    matcher = runApp('job-matcher', env);
    await waitFor(() => matcher.stdout.includes('job-matcher ready'), 'the job-matcher to start', 15_000);
  }, 60_000);

  afterAll(async () => {
    for (const proc of [gateway, matcher]) {
      proc?.child.kill('SIGCONT');
      proc?.child.kill('SIGTERM');
    }
    await Promise.race([Promise.all([gateway?.exited, matcher?.exited]), new Promise((resolve) => setTimeout(resolve, 12_000))]);
    for (const proc of [gateway, matcher]) proc?.child.kill('SIGKILL');
    await redis?.destroy();
  }, 30_000);

  /** Publishes a notification and a posting every few ms until stopped, recording every answer and when it came. */
  const startPublisher = (userId: string, tag: string) => {
    const attempts: Attempt[] = [];
    let running = true;
    let seq = 0;
    const one = async (kind: Attempt['kind'], key: string, send: () => request.Test) => {
      const startedAt = Date.now();
      let status: number;
      let id: string | undefined;
      try {
        const response = await send().timeout(30_000);
        status = response.status;
        id = response.body?.id ?? response.body?.jobId;
      } catch {
        status = -1; // no answer at all: counted as a failure of the promise below
      }
      attempts.push({ kind, key, status, startedAt, endedAt: Date.now(), id });
    };
    const done = (async () => {
      while (running) {
        const n = ++seq;
        await Promise.all([
          one('notification', `${tag}-${n}`, () =>
            request(url).post('/api/notifications').set('X-Api-Key', TEST_API_KEY).send({ userId, type: 'outage-test', data: { seq: n }, idempotencyKey: `${tag}-${n}` }),
          ),
          one('posting', `${tag}-p${n}`, () =>
            request(url).post('/api/jobs').set('X-Api-Key', TEST_API_KEY).send({ id: `${tag}-p${n}`, title: `Outage posting ${n}`, company: 'Acme' }),
          ),
        ]);
        await new Promise((resolve) => setTimeout(resolve, 15)); // pacing, not a wait for anything
      }
    })();
    return {
      attempts,
      accepted: (kind: Attempt['kind']) => attempts.filter((a) => a.kind === kind && a.status === 202),
      stop: async () => {
        running = false;
        await done;
      },
    };
  };

  /** A stock Socket.IO client that resumes after the last notification it saw. */
  const resumingSocket = (userId: string) => {
    const received: Notification[] = [];
    let lastEventId: string | undefined;
    const socket: Socket = io(url, {
      transports: ['websocket'],
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
      auth: (cb) => cb({ token: userToken(userId), ...(lastEventId ? { lastEventId } : { lastEventId: '0' }) }),
    });
    socket.onAny((event: string, payload: Notification) => {
      if (event === 'outage-test' || event === 'job-match') {
        received.push(payload);
        lastEventId = payload.id;
      }
    });
    return { socket, received };
  };

  /** Keys of the accepted publishes that a client has not received yet. */
  const missing = (received: Notification[], attempts: Attempt[]) => {
    const ids = new Set(received.map((n) => n.id));
    const jobs = new Set(received.filter((n) => n.type === 'job-match').map((n) => n.data.jobId));
    return attempts.filter((a) => a.status === 202 && (a.kind === 'notification' ? !ids.has(a.id as string) : !jobs.has(a.key))).map((a) => a.key);
  };
  const sseReceived = (sse: ResumingSse) => sse.events.map((event) => JSON.parse(event.data as string) as Notification);

  /** Every accepted notification and posting reached the client once, in id order; extras only from refused (in-flight) publishes. */
  const expectNothingLost = (received: Notification[], attempts: Attempt[], where: string) => {
    const ids = received.map((n) => n.id);
    expect({ where, duplicates: ids.length - new Set(ids).size }).toEqual({ where, duplicates: 0 });
    const sorted = [...ids].sort((a, b) => {
      const [am, as] = a.split('-').map(BigInt);
      const [bm, bs] = b.split('-').map(BigInt);
      return am === bm ? Number(as - bs) : Number(am - bm);
    });
    expect(ids).toEqual(sorted);
    const gotIds = new Set(ids);
    const missingNotifications = attempts.filter((a) => a.kind === 'notification' && a.status === 202 && !gotIds.has(a.id as string)).map((a) => a.key);
    expect({ where, missingNotifications }).toEqual({ where, missingNotifications: [] });
    const matchedJobs = new Set(received.filter((n) => n.type === 'job-match').map((n) => n.data.jobId));
    const missingMatches = attempts.filter((a) => a.kind === 'posting' && a.status === 202 && !matchedJobs.has(a.key)).map((a) => a.key);
    expect({ where, missingMatches }).toEqual({ where, missingMatches: [] });
    // Anything beyond what was accepted must come from a publish that was answered 503 while in flight.
    const refusedKeys = new Set(attempts.filter((a) => a.status === 503).map((a) => a.key));
    const acceptedKeys = new Set(attempts.filter((a) => a.status === 202).map((a) => a.key));
    const extras = received
      .map((n) => (n.type === 'job-match' ? (n.data.jobId as string) : attempts.find((a) => a.id === n.id)?.key ?? `seq ${n.data.seq}`))
      .filter((key) => !acceptedKeys.has(key));
    for (const key of extras) expect(refusedKeys.has(key) || /^seq /.test(key)).toBe(true);
    return extras.length;
  };

  it('stop and start: 503 while it is away, 200 after; publishes refused meanwhile; nothing accepted is lost', async () => {
    const userId = randomUserId('outage');
    const auth = { Authorization: `Bearer ${userToken(userId)}` };
    expect((await request(url).post('/api/saved-searches').set(auth).send({ keywords: ['outage'] })).status).toBe(201);
    const sse: ResumingSse = resumingSse(url, auth, { from: '0' });
    const socketClient = resumingSocket(userId);
    const publisher = startPublisher(userId, 'stop');
    try {
      await waitFor(() => sse.connections >= 1 && socketClient.socket.connected, 'both clients to connect', 10_000);
      await waitFor(() => publisher.accepted('posting').length >= 10, 'postings accepted before the outage', 15_000);

      // The job-matcher stops taking jobs: what is accepted from now on waits in the queue through the outage.
      matcher.child.kill('SIGSTOP');
      const queuedBefore = publisher.accepted('posting').length;
      await waitFor(() => publisher.accepted('posting').length >= queuedBefore + 10, 'postings queued for the frozen worker', 15_000);

      await redis.stop();
      const stoppedAt = Date.now();
      await waitFor(async () => (await health()) === 503, '/health to say 503', 10_000);
      const downAt = Date.now();
      await waitFor(
        () => publisher.attempts.filter((a) => a.startedAt > downAt && a.status === 503).length >= 20 && Date.now() - downAt > 2_000,
        'publishes refused during an outage of at least 2 s',
        30_000,
      );
      matcher.child.kill('SIGCONT');
      const queuedThroughOutage = publisher.attempts.filter((a) => a.kind === 'posting' && a.status === 202 && a.startedAt < stoppedAt).length - queuedBefore;
      const restartAt = Date.now();
      await redis.start();
      await waitFor(async () => (await health()) === 200, '/health to say 200 again', 30_000);
      const upAt = Date.now();
      await waitFor(
        () => publisher.attempts.filter((a) => a.startedAt > upAt && a.status === 202).length >= 20,
        'publishes accepted after the outage',
        30_000,
      );
      await publisher.stop();

      // During the outage nothing was accepted, and every refusal was a prompt 503.
      const during = publisher.attempts.filter((a) => a.startedAt > downAt && a.endedAt < restartAt);
      expect(during.length).toBeGreaterThan(0);
      expect([...new Set(during.map((a) => a.status))]).toEqual([503]);
      expect(publisher.attempts.filter((a) => a.status !== 202 && a.status !== 503)).toEqual([]);
      const refusalMs = during.map((a) => a.endedAt - a.startedAt);

      // On a timeout, the checks below say what is missing.
      await waitFor(() => missing(sseReceived(sse), publisher.attempts).length === 0, 'SSE to receive every accepted notification and match', 60_000, 100).catch(() => undefined);
      await waitFor(() => missing(socketClient.received, publisher.attempts).length === 0, 'Socket.IO to receive them all', 30_000, 100).catch(() => undefined);
      const sseExtras = expectNothingLost(sseReceived(sse), publisher.attempts, 'SSE');
      const socketExtras = expectNothingLost(socketClient.received, publisher.attempts, 'Socket.IO');

      process.stdout.write(
        `\nredis outage (stop/start): down ${restartAt - stoppedAt} ms (health 503 after ${downAt - stoppedAt} ms, 200 again ${upAt - restartAt} ms after restart); ` +
          `${publisher.attempts.length} publishes: ${publisher.attempts.filter((a) => a.status === 202).length} accepted, ${publisher.attempts.filter((a) => a.status === 503).length} refused 503 ` +
          `(slowest refusal ${Math.max(...refusalMs)} ms); ${queuedThroughOutage} postings queued through the outage, all matched after it; ` +
          `SSE reconnects ${sse.connections - 1} (refused ${sse.refusals.length}), extras from in-flight 503s: SSE ${sseExtras}, Socket.IO ${socketExtras}\n`,
      );
    } finally {
      sse.close();
      socketClient.socket.disconnect();
      await publisher.stop();
    }
  }, 180_000);

  it('frozen (SIGSTOP, connections open but silent): 503 within a bound instead of hanging, 200 after; nothing accepted is lost', async () => {
    const userId = randomUserId('frozen');
    const auth = { Authorization: `Bearer ${userToken(userId)}` };
    expect((await request(url).post('/api/saved-searches').set(auth).send({ keywords: ['outage'] })).status).toBe(201);
    const sse: ResumingSse = resumingSse(url, auth, { from: '0' });
    const socketClient = resumingSocket(userId);
    const publisher = startPublisher(userId, 'frozen');
    try {
      await waitFor(() => sse.connections >= 1 && socketClient.socket.connected, 'both clients to connect', 10_000);
      await waitFor(() => publisher.accepted('posting').length >= 10, 'postings accepted before the freeze', 15_000);
      redis.freeze();
      const frozenAt = Date.now();
      await waitFor(async () => (await health()) === 503, '/health to say 503', 10_000);
      const downAt = Date.now();
      // Each refusal takes COMMAND_TIMEOUT_MS here: Redis keeps the connection and never answers.
      await waitFor(() => publisher.attempts.filter((a) => a.startedAt > downAt && a.status === 503).length >= 4, 'publishes refused while frozen', 30_000);
      const thawAt = Date.now();
      redis.thaw();
      await waitFor(async () => (await health()) === 200, '/health to say 200 again', 30_000);
      const upAt = Date.now();
      await waitFor(() => publisher.attempts.filter((a) => a.startedAt > upAt && a.status === 202).length >= 20, 'publishes accepted after the thaw', 30_000);
      await publisher.stop();

      const during = publisher.attempts.filter((a) => a.startedAt > downAt && a.endedAt < thawAt);
      expect(during.length).toBeGreaterThan(0);
      expect([...new Set(during.map((a) => a.status))]).toEqual([503]);
      expect(publisher.attempts.filter((a) => a.status !== 202 && a.status !== 503)).toEqual([]);
      const refusalMs = publisher.attempts.filter((a) => a.status === 503).map((a) => a.endedAt - a.startedAt);
      // Refused within the command timeout (plus scheduling slack on a busy machine), never left hanging.
      expect(Math.max(...refusalMs)).toBeLessThan(COMMAND_TIMEOUT_MS + 5_000);

      await waitFor(() => missing(sseReceived(sse), publisher.attempts).length === 0, 'SSE to receive every accepted notification and match', 60_000, 100).catch(() => undefined);
      await waitFor(() => missing(socketClient.received, publisher.attempts).length === 0, 'Socket.IO to receive them all', 30_000, 100).catch(() => undefined);
      const sseExtras = expectNothingLost(sseReceived(sse), publisher.attempts, 'SSE');
      const socketExtras = expectNothingLost(socketClient.received, publisher.attempts, 'Socket.IO');
      process.stdout.write(
        `\nredis outage (frozen): frozen ${thawAt - frozenAt} ms (health 503 after ${downAt - frozenAt} ms, 200 again ${upAt - thawAt} ms after the thaw); ` +
          `${publisher.attempts.length} publishes: ${publisher.attempts.filter((a) => a.status === 202).length} accepted, ${publisher.attempts.filter((a) => a.status === 503).length} refused 503 ` +
          `(slowest refusal ${Math.max(...refusalMs)} ms); extras from in-flight 503s: SSE ${sseExtras}, Socket.IO ${socketExtras}\n`,
      );
    } finally {
      redis.thaw();
      sse.close();
      socketClient.socket.disconnect();
      await publisher.stop();
    }
  }, 180_000);
});
