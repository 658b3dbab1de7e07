import http from 'node:http';
import path from 'node:path';
import request from 'supertest';
import { io, type Socket } from 'socket.io-client';
import { gatewayEnv, type GatewayProcess, runGateway } from './support/gateway-process';
import { randomUserId, uniquePrefix } from './support/prefix';
import { deletePrefix, type RedisClient, testRedisClient } from './support/redis';
import { TEST_API_KEY } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * 5,000 connections come and go, SSE and Socket.IO half and half, in bounded
 * batches, against the built gateway run as a process. Afterwards the process
 * must hold nothing of them: no connection counted, no Redis subscription of
 * its prefix, no more sockets or timers than before, and its heap (after a
 * full GC, which the test asks for with SIGUSR2 through a preloaded helper)
 * back near where it started. Figures are printed; only structural facts and a
 * generous memory bound are asserted (2 shared cores: no timings).
 */

const TOTAL = Number(process.env.CHURN_CONNECTIONS ?? '5000');
const BATCH = 250;

interface Snapshot {
  rssBytes: number;
  heapUsedBytes: number;
  resources: Record<string, number>;
  connections: Record<string, number>;
}

describe('connection churn', () => {
  const prefix = uniquePrefix();
  let gateway: GatewayProcess;
  let url: string;
  let redis: RedisClient;

  beforeAll(async () => {
    gateway = runGateway({
      ...gatewayEnv(prefix),
      WORKER_EMBEDDED: 'false',
      MAX_CONNECTIONS_PER_USER: '100',
      NODE_OPTIONS: `--expose-gc --require ${path.join(__dirname, 'support/gc-on-signal.js')}`,
    });
    url = `http://127.0.0.1:${await gateway.waitForListening()}`;
    redis = testRedisClient();
  }, 30_000);

  afterAll(async () => {
    redis?.disconnect();
    gateway?.child.kill('SIGTERM');
    await Promise.race([gateway?.exited, new Promise((resolve) => setTimeout(resolve, 12_000))]);
    gateway?.child.kill('SIGKILL');
    await deletePrefix(prefix);
  }, 30_000);

  /** Full GC in the gateway, then its memory, live resources and connection gauges from /metrics. */
  const snapshot = async (): Promise<Snapshot> => {
    const gcLines = () => gateway.stdout.split('\n').filter((line) => line.startsWith('gc done')).length;
    const before = gcLines();
    gateway.child.kill('SIGUSR2');
    await waitFor(() => gcLines() > before, 'the gateway to collect its garbage', 10_000);
    const text = (await request(url).get('/metrics')).text;
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
    const labelled = (name: string, label: string) =>
      Object.fromEntries([...text.matchAll(new RegExp(`^${name}\\{${label}="([^"]+)"\\} (\\S+)$`, 'gm'))].map((m) => [m[1], Number(m[2])]));
    return {
      rssBytes: value(/^process_resident_memory_bytes (\S+)$/m),
      heapUsedBytes: value(/^nodejs_heap_size_used_bytes (\S+)$/m),
      resources: labelled('nodejs_active_resources', 'type'),
      connections: labelled('rtg_connections', 'channel'),
    };
  };

  const openSse = (userId: string) =>
    new Promise<http.ClientRequest>((resolve, reject) => {
      const req = http.get(`${url}/api/events`, { agent: false, headers: { Authorization: `Bearer ${userToken(userId)}` } }, (response) => {
        if (response.statusCode !== 200) return reject(new Error(`SSE answered ${response.statusCode}`));
        response.once('data', () => resolve(req));
      });
      req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    });

  const openSocket = (userId: string) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: userToken(userId) } });
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', reject);
    });

  it(`frees everything after ${TOTAL.toLocaleString('en')} connections come and go`, async () => {
    // Warm up (code paths, pools, JIT) so the baseline is not a cold process.
    const warm = await Promise.all([openSse(randomUserId('warm')), openSocket(randomUserId('warm'))]);
    (warm[0] as http.ClientRequest).destroy();
    (warm[1] as Socket).disconnect();
    await waitFor(async () => Object.values((await snapshot()).connections).every((n) => n === 0), 'the warm-up connections to close', 10_000);
    const baseline = await snapshot();
    let peak = baseline;
    let delivered = 0;

    for (let opened = 0; opened < TOTAL; opened += BATCH) {
      const users = Array.from({ length: BATCH / 2 }, () => randomUserId('churn'));
      const [streams, sockets] = await Promise.all([Promise.all(users.map(openSse)), Promise.all(users.map(openSocket))]);
      // Each batch also carries traffic: one notification to one of its users reaches both channels.
      const target = Math.floor(Math.random() * users.length);
      const got = new Promise<void>((resolve) => sockets[target].once('job-match', () => resolve()));
      await request(url).post('/api/notifications').set('X-Api-Key', TEST_API_KEY).send({ userId: users[target], type: 'job-match', data: { batch: opened } });
      await got;
      delivered++;
      if (opened === 0 || opened + BATCH >= TOTAL / 2) {
        const during = await snapshot();
        if (during.rssBytes > peak.rssBytes) peak = during;
        expect(during.connections).toEqual({ sse: BATCH / 2, socketio: BATCH / 2 });
      }
      for (const stream of streams) stream.destroy();
      for (const socket of sockets) socket.disconnect();
      await waitFor(async () => Object.values((await snapshot()).connections).every((n) => n === 0), `batch ${opened / BATCH + 1} to be released`, 15_000, 100);
    }

    const after = await snapshot();
    const channels = await redis.pubsub('CHANNELS', `${prefix}:live:*`);
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
    process.stdout.write(
      `\nchurn: ${TOTAL} connections (${TOTAL / 2} SSE, ${TOTAL / 2} Socket.IO) in batches of ${BATCH}, ${delivered} deliveries checked\n` +
        `  RSS ${mib(baseline.rssBytes)} before, ${mib(peak.rssBytes)} at a batch, ${mib(after.rssBytes)} after\n` +
        `  heap used after GC ${mib(baseline.heapUsedBytes)} before, ${mib(after.heapUsedBytes)} after\n` +
        `  live resources before ${JSON.stringify(baseline.resources)}, after ${JSON.stringify(after.resources)}\n` +
        `  Redis live channels of the prefix after: ${channels.length}\n`,
    );

    expect(after.connections).toEqual({ sse: 0, socketio: 0 });
    expect(channels).toEqual([]);
    // No socket, timer or handle of any connection is left (a few may come and go on their own, e.g. a scrape).
    for (const type of ['TCPSocketWrap', 'Timeout']) expect(after.resources[type] ?? 0).toBeLessThanOrEqual((baseline.resources[type] ?? 0) + 2);
    // Generous: what stays is allocator slack, not per-connection state (5,000 leaked feeds would be far more).
    expect(after.heapUsedBytes - baseline.heapUsedBytes).toBeLessThan(32 * 1024 * 1024);
    expect(after.rssBytes - baseline.rssBytes).toBeLessThan(256 * 1024 * 1024);
  }, 300_000);
});
