/*
 * Publishing near Redis's limit: how many job-match notifications one
 * job-matcher process stores and publishes per second, and how many items
 * `POST /api/notifications/batch` takes per second, against the limit of this
 * design on this Redis: the very same append script, with the same keys and
 * arguments, pipelined from one ioredis client as fast as Redis takes it.
 *
 * All three write the same shape of work: `users` users, each sent one
 * job-match per posting (idempotency key and inbox included, as the product
 * sends them), after a warm-up that creates every user's keys. Each measures
 * its own users, so each starts from the same state.
 */
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { APPEND_SCRIPT, HISTORY_TTL_MS, IDEMPOTENCY_TTL_SECONDS } from '../libs/notifications/src/notification.scripts';
import { RedisKeys } from '../libs/notifications/src/redis/redis-keys';
import { enqueueAll, finishedCount, waitForJobs } from './matching';
import { ProgressBar } from './progress-bar';
import { openSavedSearchSeeder } from './saved-search-seeder';
import { API_KEY, inParallel, redisUrl, requestJson, startApp } from './support';

export interface PublishingPlan {
  readonly users: number;
  /** Postings (job-matches per user) measured; a tenth as many come first, unmeasured. */
  readonly postings: number;
}

export const PUBLISHING_PLANS: Record<'quick' | 'full', PublishingPlan> = {
  quick: { users: 1_000, postings: 40 },
  full: { users: 1_000, postings: 200 },
};

export interface PublishingRow {
  readonly label: string;
  readonly notifications: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** To the pipelined append script; null for the baseline itself. */
  readonly ratio: number | null;
  readonly detail: string;
}

export interface PublishingResult {
  readonly plan: PublishingPlan;
  readonly baseline: PublishingRow;
  readonly worker: PublishingRow;
  readonly batch: PublishingRow;
}

/** Every search the worker measures against carries this word, so every posting matches every user. */
const PROBE_WORD = 'publishprobe';
const BATCH_ITEMS = 1_000;
const BATCH_REQUESTS_IN_FLIGHT = 4;
/** Pipelines in flight at once, and the sizes tried to find the fastest (each on the same number of appends). */
const PIPELINES_IN_FLIGHT = 2;
const PIPELINE_SIZES = [64, 256, 1024];

const jobMatchData = (posting: string, userId: string) => ({
  jobId: posting,
  title: `Senior TypeScript engineer ${posting}`,
  company: 'Bench Inc',
  location: null,
  // A search id is a UUID: as long as the worker's.
  searchIds: [`00000000-0000-4000-8000-${userId.padStart(12, '0').slice(-12)}`],
});

type AppendingRedis = Redis & { rtgAppend(numKeys: number, ...args: (string | number)[]): Promise<[string, number]> };

/**
 * The baseline: the append script with exactly the keys and arguments
 * NotificationStore.append sends for a user's job-match, in pipelines from one
 * client, posting by posting as the worker goes. The fastest pipeline size of
 * a short trial is the one measured.
 */
async function pipelinedBaseline(prefix: string, plan: PublishingPlan, bar: ProgressBar): Promise<PublishingRow> {
  const redis = new Redis(redisUrl) as AppendingRedis;
  redis.defineCommand('rtgAppend', { lua: APPEND_SCRIPT });
  const keys = new RedisKeys(prefix);
  const feeds = Array.from({ length: plan.users }, (_, i) => keys.userFeed(`base-${i}`));
  const argsOf = (posting: string, user: number): (string | number)[] => {
    const feed = feeds[user];
    const idempotencyKey = `job-match:${posting}`;
    const body = JSON.stringify({ type: 'job-match', userId: feed.name, data: jobMatchData(posting, feed.name), createdAt: new Date().toISOString() }).slice(1);
    const inbox = feed.inbox as NonNullable<typeof feed.inbox>;
    return [5, feed.history, feed.trimmed, keys.streamIdempotency(feed, idempotencyKey), inbox.unread, inbox.state, 1000, 'job-match', body, feed.channel, IDEMPOTENCY_TTL_SECONDS, HISTORY_TTL_MS, 1, 1];
  };
  const run = async (postingLabel: string, postings: number, size: number): Promise<number> => {
    const total = postings * plan.users;
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: PIPELINES_IN_FLIGHT }, async () => {
        while (next < total) {
          const from = next;
          next = Math.min(total, next + size);
          const pipeline = redis.pipeline() as unknown as { rtgAppend(...args: (string | number)[]): void; exec(): Promise<[Error | null, unknown][] | null> };
          for (let i = from; i < next; i++) pipeline.rtgAppend(...argsOf(`${postingLabel}-${Math.floor(i / plan.users)}`, i % plan.users));
          const failed = (await pipeline.exec())?.find(([error]) => error !== null);
          if (failed) throw failed[0];
        }
      }),
    );
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  try {
    await redis.rtgAppend(...(argsOf('warmup-0', 0) as [number, ...string[]]));
    const trialPostings = Math.max(2, Math.round(plan.postings / 20));
    let best = { size: PIPELINE_SIZES[0], seconds: Infinity };
    for (const [i, size] of PIPELINE_SIZES.entries()) {
      bar.update(i / (PIPELINE_SIZES.length + 2), `publishing: baseline, trying pipelines of ${size}`);
      const seconds = await run(`trial${size}`, trialPostings, size);
      if (seconds < best.seconds) best = { size, seconds };
    }
    bar.update(PIPELINE_SIZES.length / (PIPELINE_SIZES.length + 2), `publishing: baseline, pipelines of ${best.size}`);
    const seconds = await run('bench', plan.postings, best.size);
    const notifications = plan.postings * plan.users;
    return {
      label: 'append script pipelined (baseline)',
      notifications,
      seconds: round(seconds, 3),
      perSecond: Math.round(notifications / seconds),
      ratio: null,
      detail: `one ioredis client, ${PIPELINES_IN_FLIGHT} pipelines of ${best.size} in flight (fastest of ${PIPELINE_SIZES.join(', ')})`,
    };
  } finally {
    redis.disconnect();
  }
}

/** One job-matcher process: every posting matches all `users` users' searches. */
async function jobMatcher(prefix: string, plan: PublishingPlan, bar: ProgressBar, profileEnv: Record<string, string>): Promise<Omit<PublishingRow, 'ratio'>> {
  const seeder = await openSavedSearchSeeder(prefix);
  try {
    await seeder.seed(plan.users, (i) => `worker-${i}`, () => ({ keywords: [PROBE_WORD] }));
  } finally {
    await seeder.close();
  }
  const worker = await startApp('job-matcher', prefix, { NODE_ENV: 'production', ...profileEnv });
  const queue = new Queue('job-postings', { connection: { url: redisUrl }, prefix });
  const postings = (label: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({ id: `${label}-${i}`, title: `Senior TypeScript engineer ${PROBE_WORD}`, company: 'Bench Inc', description: 'Remote-friendly, TypeScript and Redis.' }));
  try {
    const warmup = postings('warmup', Math.max(2, Math.round(plan.postings / 10)));
    const beforeWarmup = await finishedCount(queue);
    await enqueueAll(queue, warmup);
    await waitForJobs(queue, warmup.length, beforeWarmup, (done) => bar.update(((done / warmup.length) * 0.1) / 3 + 1 / 3, `publishing: job-matcher warm-up ${done}/${warmup.length}`));
    const measured = postings('bench', plan.postings);
    const before = await finishedCount(queue);
    const started = Date.now();
    await enqueueAll(queue, measured);
    await waitForJobs(queue, measured.length, before, (done) => bar.update((0.1 + (done / measured.length) * 0.9) / 3 + 1 / 3, `publishing: job-matcher ${done}/${measured.length} postings`));
    const jobs = await Promise.all(measured.map((posting) => queue.getJob(posting.id)));
    const notifications = jobs.reduce((sum, job) => sum + ((job?.returnvalue as { notifiedUsers?: number })?.notifiedUsers ?? 0), 0);
    const seconds = (Math.max(...jobs.map((job) => job?.finishedOn ?? 0)) - started) / 1000;
    return {
      label: 'one job-matcher process',
      notifications,
      seconds: round(seconds, 3),
      perSecond: Math.round(notifications / seconds),
      detail: `${plan.postings} postings enqueued at once, each matching ${plan.users.toLocaleString('en-US')} users' searches (first enqueue → last completion)`,
    };
  } finally {
    await queue.close();
    await worker.stop();
  }
}

/** `POST /api/notifications/batch` of BATCH_ITEMS items, BATCH_REQUESTS_IN_FLIGHT at once, to a gateway. */
async function batchPublish(prefix: string, plan: PublishingPlan, bar: ProgressBar, profileEnv: Record<string, string>): Promise<Omit<PublishingRow, 'ratio'>> {
  const gateway = await startApp('gateway', prefix, { NODE_ENV: 'production', WORKER_EMBEDDED: 'false', ...profileEnv });
  const port = gateway.port as number;
  // Items go posting by posting, every user in turn, as the worker sends them.
  const requestsFor = (postings: number) => Math.ceil((plan.users * postings) / BATCH_ITEMS);
  const send = async (label: string, request: number) => {
    const first = request * BATCH_ITEMS;
    const items = Array.from({ length: BATCH_ITEMS }, (_, i) => {
      const posting = `${label}-${Math.floor((first + i) / plan.users)}`;
      const userId = `batch-${(first + i) % plan.users}`;
      return { userId, type: 'job-match', data: jobMatchData(posting, userId), idempotencyKey: `job-match:${posting}` };
    });
    const response = await requestJson(port, 'POST', '/api/notifications/batch', { items }, { 'X-API-Key': API_KEY });
    if (response.status !== 202) throw new Error(`batch publish: ${response.status} ${response.body.slice(0, 200)}`);
  };
  try {
    const warmup = requestsFor(Math.max(2, Math.round(plan.postings / 10)));
    await inParallel(warmup, BATCH_REQUESTS_IN_FLIGHT, (i) => send('warmup', i));
    const count = requestsFor(plan.postings);
    let done = 0;
    const started = process.hrtime.bigint();
    await inParallel(count, BATCH_REQUESTS_IN_FLIGHT, async (i) => {
      await send('bench', i);
      bar.update(2 / 3 + ++done / count / 3, `publishing: batch ${done}/${count}`);
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const notifications = count * BATCH_ITEMS;
    return {
      label: `POST /api/notifications/batch of ${BATCH_ITEMS.toLocaleString('en-US')}`,
      notifications,
      seconds: round(seconds, 3),
      perSecond: Math.round(notifications / seconds),
      detail: `${count} requests, ${BATCH_REQUESTS_IN_FLIGHT} in flight, to one gateway`,
    };
  } finally {
    await gateway.stop();
  }
}

export const publishingSeconds = (plan: PublishingPlan) => 15 + (3 * plan.users * plan.postings) / 20_000;

/**
 * The three measurements, under `prefix` (the caller deletes it). With
 * `profileDir`, the job-matcher and the gateway write CPU profiles there.
 */
export async function runPublishing(plan: PublishingPlan, prefix: string, bar: ProgressBar, profileDir?: string): Promise<PublishingResult> {
  const profileEnv: Record<string, string> = profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {};
  bar.begin('publishing: baseline', publishingSeconds(plan));
  const baseline = await pipelinedBaseline(prefix, plan, bar);
  const relative = (row: Omit<PublishingRow, 'ratio'>): PublishingRow => ({ ...row, ratio: round(row.perSecond / baseline.perSecond, 2) });
  const worker = relative(await jobMatcher(prefix, plan, bar, profileEnv));
  const batch = relative(await batchPublish(prefix, plan, bar, profileEnv));
  return { plan, baseline, worker, batch };
}

function round(value: number, digits: number): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}
