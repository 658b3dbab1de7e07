import fs from 'node:fs';
import path from 'node:path';
import { Queue as BullQueue, type ConnectionOptions, type Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { parseRedisUrl, sentinelOptions } from '../../libs/notifications/src/redis/redis-deployment';
import { RedisKeys } from '../../libs/notifications/src/redis/redis-keys';
import { gatewayEnv, type GatewayProcess, runGateway } from './gateway-process';
import { randomUserId } from './prefix';
import { testQueue, testRedisClient } from './redis';
import { resumingSse, type ResumingSse } from './resuming-sse';
import { connectSocket, type TestSocket } from './socket-client';
import { TEST_API_KEY } from './start-gateway';
import { userToken } from './tokens';
import { waitFor } from './wait-for';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain-JS tool shared with npm scripts
const topologies = require('../../scripts/redis-topology') as {
  start(kind: string, base: number): Promise<string>;
  stop(kind: string, base: number): Promise<void>;
  restartNode(kind: string, base: number, port: number): void;
  topologyOf(kind: string, base: number): { nodes: number[] };
};

export interface DrillOptions {
  readonly kind: 'sentinel' | 'cluster';
  /** First port of the drill's own deployment. */
  readonly basePort: number;
  readonly prefix: string;
  readonly replicaAcks: number;
  /** Publishes per second, spread over the users and both gateways. */
  readonly rate?: number;
  readonly users?: number;
  /** Publishing before the kill, and after it. */
  readonly beforeMs?: number;
  readonly afterMs?: number;
  /** When the killed node is started again (it returns as a replica), from the kill. */
  readonly restartAfterMs?: number;
}

export interface DrillReport {
  kind: string;
  replicaAcks: number;
  attempted: number;
  accepted: number;
  refused503: number;
  otherFailures: number;
  /** What the other failures were: status or error, and how many. */
  otherFailureKinds: Record<string, number>;
  /** Answered 202 but not in the history once the deployment recovered. */
  lost: number;
  /** Received by a reader twice. */
  duplicated: number;
  /** In the history, not received by a reader that follows that user. */
  missedByReaders: number;
  /** Received by a reader, not in the history: delivered live, then lost with the primary. */
  phantoms: number;
  /** From the kill to the first 202 after the last refusal. */
  publishRecoveryMs: number | null;
  /** Per gateway: the spans during which /health was not 200, relative to the kill. */
  healthDown: string[];
  readers: number;
  /** Cluster only: SPUBLISH calls per primary (INFO commandstats) just before the kill: how fan-out spread over the shards. */
  spublishPerPrimary?: number[];
  /** `notify` jobs the queue took during the drill (20/s), and what became of them. */
  jobs: { queued: number; refused: number; completed: number; failed: number; missing: number; duplicated: number; failedReasons: string[] };
  /** The answer of the last refused publish, for the record. */
  lastRefusal: string;
}

interface Reader {
  readonly userId: string;
  ids(): string[];
  close(): void;
}

/**
 * A steady publisher, SSE and Socket.IO readers on two gateways, and the
 * primary of a real Sentinel or Cluster deployment SIGKILLed mid-stream:
 * what was accepted, lost, duplicated, and how long the system took to
 * recover, as issue 14's failure tests report them.
 */
export async function runFailoverDrill(options: DrillOptions): Promise<DrillReport> {
  const { kind, basePort, prefix, replicaAcks } = options;
  const rate = options.rate ?? 500;
  const users = Array.from({ length: options.users ?? 8 }, (_, i) => randomUserId(`fo${i}`));
  for (const kind of Object.keys(failureKinds)) delete failureKinds[kind];
  lastRefusalAnswer = '';
  const url = await topologies.start(kind, basePort);
  const gateways: GatewayProcess[] = [];
  const readers: Reader[] = [];
  try {
    const env = { ...gatewayEnv(prefix, url), REDIS_REPLICA_ACKS: String(replicaAcks) };
    // g0 also runs the job-match worker: it must keep consuming through the failover.
    for (let i = 0; i < 2; i++) gateways.push(runGateway({ ...env, INSTANCE_ID: `g${i}`, WORKER_EMBEDDED: String(i === 0) }));
    // On Sentinel, BullMQ gets options and owns its connection, as a producing service would
    // configure it (a shared ioredis instance ended for good in one run under a CPU hog).
    const queue: Queue =
      kind === 'cluster'
        ? testQueue('notifications', { queuePrefix: `{${prefix}}` }, url)
        : new BullQueue('notifications', { connection: { ...sentinelOptionsOf(url), maxRetriesPerRequest: null } as ConnectionOptions, prefix });
    const bases = await Promise.all(gateways.map(async (gateway) => `http://127.0.0.1:${await gateway.waitForListening(30_000)}`));
    for (const [i, userId] of users.entries()) {
      readers.push(sseReader(bases[i % 2], userId), socketReader(bases[(i + 1) % 2], userId));
    }

    const accepted = new Map<string, string[]>(users.map((user) => [user, []]));
    const outcomes: Array<{ at: number; status: number }> = [];
    const health: Array<{ at: number; statuses: number[] }> = [];
    let killedAt = Infinity;
    let publishing = true;
    let attempted = 0;

    const publisher = (async () => {
      const interval = 1000 / rate;
      const started = performance.now();
      const inFlight = new Set<Promise<void>>();
      while (publishing) {
        const n = attempted++;
        const userId = users[n % users.length];
        const sent = publishOnce(bases[n % 2], userId, n).then((status) => {
          outcomes.push({ at: performance.now(), status: status.status });
          if (status.status === 202) accepted.get(userId)!.push(status.id!);
        });
        inFlight.add(sent);
        void sent.finally(() => inFlight.delete(sent));
        if (inFlight.size >= 200) await Promise.race(inFlight);
        const due = started + attempted * interval - performance.now();
        if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
      }
      await Promise.all(inFlight);
    })();
    const jobs = { queued: [] as number[], refused: 0 };
    const producer = (async () => {
      // Not awaited one by one: an add sent during the outage waits in the client for the new
      // primary, and the producer goes on, as a service's would.
      const adds: Promise<unknown>[] = [];
      for (let n = 0; publishing; n++) {
        adds.push(queue.add('notify', { userId: users[n % users.length], type: 'failover-job', data: { job: n } }).then(() => jobs.queued.push(n), () => jobs.refused++));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await Promise.all(adds);
    })();
    const healthPoller = (async () => {
      while (publishing) {
        health.push({ at: performance.now(), statuses: await Promise.all(bases.map((base) => healthOf(base))) });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, options.beforeMs ?? 3_000));
    const spublishPerPrimary = kind === 'cluster' ? await spublishCounts(topologies.topologyOf(kind, basePort).nodes.slice(0, 3)) : undefined;
    killedAt = performance.now();
    const killedPort = killPrimary(kind, basePort);
    const restartAfterMs = options.restartAfterMs ?? 5_000;
    await new Promise((resolve) => setTimeout(resolve, restartAfterMs));
    // Only once a replica has taken over: a node without persistence that came back as the primary would bring an empty dataset.
    await waitFor(() => replicaPromoted(kind, basePort), 'a replica to be promoted', 20_000);
    topologies.restartNode(kind, basePort, killedPort);
    await new Promise((resolve) => setTimeout(resolve, (options.afterMs ?? 10_000) - restartAfterMs));
    publishing = false;
    await Promise.all([publisher, healthPoller, producer]);
    // Everything answered: give the readers time to catch up on what the deployment kept.
    await waitFor(async () => (await Promise.all(bases.map(healthOf))).every((status) => status === 200), 'both gateways healthy', 30_000);

    await waitFor(async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(counts).every((count) => count === 0);
    }, 'the queue to drain', 40_000);
    const finished = await queue.getJobCounts('completed', 'failed');
    const failedReasons = [...new Set((await queue.getFailed()).map((job) => `${job.failedReason} (attempts ${job.attemptsMade})`))];
    await queue.close();

    const { history, jobMarks } = await readHistories(url, prefix, users);
    await waitFor(
      () => readers.every((reader) => new Set(reader.ids()).size >= history.get(reader.userId)!.length),
      'every reader to hold its user\'s history',
      20_000,
    ).catch(() => undefined);

    let lost = 0;
    let duplicated = 0;
    let missedByReaders = 0;
    let phantoms = 0;
    for (const userId of users) {
      const kept = new Set(history.get(userId));
      lost += accepted.get(userId)!.filter((id) => !kept.has(id)).length;
    }
    for (const reader of readers) {
      const ids = reader.ids();
      const kept = new Set(history.get(reader.userId));
      duplicated += ids.length - new Set(ids).size;
      missedByReaders += [...kept].filter((id) => !ids.includes(id)).length;
      phantoms += ids.filter((id) => !kept.has(id)).length;
    }
    const lastRefusal = Math.max(-Infinity, ...outcomes.filter((o) => o.status !== 202 && o.at > killedAt).map((o) => o.at));
    const firstAfter = outcomes.filter((o) => o.status === 202 && o.at > lastRefusal && o.at > killedAt).map((o) => o.at);
    return {
      kind,
      replicaAcks,
      attempted,
      accepted: outcomes.filter((o) => o.status === 202).length,
      refused503: outcomes.filter((o) => o.status === 503).length,
      otherFailures: outcomes.filter((o) => o.status !== 202 && o.status !== 503).length,
      otherFailureKinds: { ...failureKinds },
      lost,
      duplicated,
      missedByReaders,
      phantoms,
      jobs: {
        queued: jobs.queued.length,
        refused: jobs.refused,
        completed: finished.completed,
        failed: finished.failed,
        missing: jobs.queued.filter((n) => !jobMarks.has(n)).length,
        duplicated: [...jobMarks.values()].filter((count) => count > 1).length,
        failedReasons,
      },
      publishRecoveryMs: lastRefusal === -Infinity ? 0 : firstAfter.length > 0 ? Math.round(Math.min(...firstAfter) - killedAt) : null,
      healthDown: bases.map((_, g) => downSpans(health.map((h) => ({ at: h.at - killedAt, status: h.statuses[g] })))),
      readers: readers.length,
      ...(spublishPerPrimary ? { spublishPerPrimary } : {}),
      lastRefusal: lastRefusalAnswer,
    };
  } finally {
    for (const reader of readers) reader.close();
    for (const gateway of gateways) gateway.child.kill('SIGKILL');
    await Promise.all(gateways.map((gateway) => gateway.exited));
    await topologies.stop(kind, basePort);
  }
}

let lastRefusalAnswer = '';

const failureKinds: Record<string, number> = {};

function sentinelOptionsOf(url: string): RedisOptions {
  const deployment = parseRedisUrl(url);
  if (deployment.kind !== 'sentinel') throw new Error(`not a Sentinel URL: ${url}`);
  return sentinelOptions(deployment);
}

async function publishOnce(base: string, userId: string, n: number): Promise<{ status: number; id?: string }> {
  try {
    const response = await fetch(`${base}/api/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY },
      body: JSON.stringify({ userId, type: 'failover-drill', data: { n } }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { id?: string; message?: string };
    if (response.status !== 202) lastRefusalAnswer = `${response.status} ${body.message ?? ''}`;
    if (response.status !== 202 && response.status !== 503) {
      const kind = `${response.status} ${body.message ?? ''}`;
      failureKinds[kind] = (failureKinds[kind] ?? 0) + 1;
    }
    return { status: response.status, id: body.id };
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    const kind = `no answer: ${(error as Error).name} ${cause?.message ?? (error as Error).message}`;
    failureKinds[kind] = (failureKinds[kind] ?? 0) + 1;
    return { status: 0 };
  }
}

async function healthOf(base: string): Promise<number> {
  try {
    return (await fetch(`${base}/health`, { signal: AbortSignal.timeout(1_000) })).status;
  } catch {
    return 0;
  }
}

function sseReader(base: string, userId: string): Reader {
  const stream: ResumingSse = resumingSse(base, { Authorization: `Bearer ${userToken(userId)}` }, { from: '0-0', retryMs: 100 });
  return { userId, ids: () => stream.events.filter((event) => event.id !== undefined && event.event !== 'reset').map((event) => event.id!), close: () => stream.close() };
}

function socketReader(base: string, userId: string): Reader {
  const auth: Record<string, unknown> = { token: userToken(userId), lastEventId: '0-0' };
  const client: TestSocket = connectSocket(base, userId, { auth });
  const ids: string[] = [];
  client.socket.onAny((_name: string, payload: { id?: unknown; userId?: unknown }) => {
    if (typeof payload?.id !== 'string' || payload.userId !== userId) return;
    ids.push(payload.id);
    // What a client does to resume: the next handshake carries the last id it saw.
    auth.lastEventId = payload.id;
  });
  return { userId, ids: () => ids, close: () => client.close() };
}

/** SIGKILL of the Sentinel primary, or of the first cluster primary; returns its port. */
function killPrimary(kind: 'sentinel' | 'cluster', basePort: number): number {
  const port = topologies.topologyOf(kind, basePort).nodes[0];
  const pidFile = path.join(__dirname, '../../.redis-topology', `${kind}-${basePort}`, `${port}.pid`);
  process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
  return port;
}

/** Whether another node now answers ROLE as a primary in place of the killed one. */
async function replicaPromoted(kind: 'sentinel' | 'cluster', basePort: number): Promise<boolean> {
  const nodes = topologies.topologyOf(kind, basePort).nodes;
  const candidates = kind === 'sentinel' ? nodes.slice(1) : nodes.slice(3);
  for (const port of candidates) {
    const client = testRedisClient({ lazyConnect: true, maxRetriesPerRequest: 0 }, `redis://127.0.0.1:${port}`);
    try {
      await client.connect();
      const role = (await client.call('ROLE')) as unknown[];
      if (role[0] === 'master') return true;
    } catch {
      // not answering yet
    } finally {
      client.disconnect();
    }
  }
  return false;
}

/** Each user's history (ids), and how many times each `notify` job's notification is in it. */
async function readHistories(url: string, prefix: string, users: string[]): Promise<{ history: Map<string, string[]>; jobMarks: Map<number, number> }> {
  const client = testRedisClient({}, url);
  const keys = new RedisKeys(prefix);
  try {
    const history = new Map<string, string[]>();
    const jobMarks = new Map<number, number>();
    for (const userId of users) {
      const entries = await client.xrange(keys.userStream(userId), '-', '+');
      history.set(userId, entries.map(([id]) => id));
      for (const [, fields] of entries) {
        const job = /"data":\{"job":(\d+)\}/.exec(fields[fields.indexOf('n') + 1] ?? '')?.[1];
        if (job !== undefined) jobMarks.set(Number(job), (jobMarks.get(Number(job)) ?? 0) + 1);
      }
    }
    return { history, jobMarks };
  } finally {
    client.disconnect();
  }
}

async function spublishCounts(ports: number[]): Promise<number[]> {
  return Promise.all(
    ports.map(async (port) => {
      const client = testRedisClient({}, `redis://127.0.0.1:${port}`);
      try {
        const stats = String(await client.call('INFO', 'commandstats'));
        return Number(/cmdstat_spublish:calls=(\d+)/.exec(stats)?.[1] ?? 0);
      } finally {
        client.disconnect();
      }
    }),
  );
}

/** `from..to` (ms from the kill) for each run of non-200 answers. */
function downSpans(samples: Array<{ at: number; status: number }>): string {
  const spans: string[] = [];
  let start: number | null = null;
  for (const sample of samples) {
    if (sample.status !== 200 && start === null) start = sample.at;
    if (sample.status === 200 && start !== null) {
      spans.push(`${Math.round(start)}..${Math.round(sample.at)} ms`);
      start = null;
    }
  }
  if (start !== null) spans.push(`${Math.round(start)}.. (still down)`);
  return spans.join(', ') || 'never down';
}

