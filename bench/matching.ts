/*
 * Matching benchmark: postings per second, and enqueue-to-SSE latency of a
 * job-match, with a growing number of saved searches (10,000, 100,000 and
 * 1,000,000 in a full run). The searches added after the first size use words
 * no posting contains, so the matches stay the same and any slowdown would be
 * the cost of the number of searches itself: with the index there should be
 * none (target: within ±20%).
 *
 * Processes: the orchestrator (this one: seeding through the library's store,
 * enqueueing, one SSE client), one gateway (SSE, WORKER_EMBEDDED=false) and
 * one job-matcher, all on this machine's cores, against the real Redis.
 */
import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { monotonicUs } from './fanout/bench-message';
import { openSseStream, type SseStream } from './fanout/sse-stream';
import { ProgressBar } from './progress-bar';
import { matchingTable, renderText } from './report/rows';
import { openSavedSearchSeeder, type SavedSearchSeeder } from './saved-search-seeder';
import { deletePrefix, installCleanup, percentile, redisUrl, startApp, userToken } from './support';

export interface MatchingPlan {
  /** Saved searches at each measured size, smallest first: the first are relevant, the rest noise. */
  readonly sizes: readonly number[];
  /** Postings enqueued at once per size, for postings per second. */
  readonly burstPostings: number;
  /** Postings enqueued one by one at `pacedRate` per size, for enqueue-to-SSE latency. */
  readonly pacedPostings: number;
  readonly pacedRate: number;
}

export const MATCHING_PLANS: Record<'quick' | 'full', MatchingPlan> = {
  quick: { sizes: [1_000, 10_000], burstPostings: 500, pacedPostings: 200, pacedRate: 100 },
  full: { sizes: [10_000, 100_000, 1_000_000], burstPostings: 2_000, pacedPostings: 1_000, pacedRate: 100 },
};

/** Saved searches the store takes per second here, only to weigh the progress bar. */
export const ASSUMED_SEEDS_PER_SECOND = 10_000;

export interface MatchingRow {
  readonly savedSearches: number;
  readonly postings: number;
  /** Burst: postings / (last completion − first enqueue). */
  readonly postingsPerSecond: number;
  /** Burst: enqueue → job completed; mostly time spent waiting in the queue. */
  readonly burstP50Ms: number;
  readonly burstP99Ms: number;
  /** Paced: enqueue → the job-match arrives on an SSE stream of a matching user. */
  readonly sseP50Ms: number;
  readonly sseP99Ms: number;
  readonly sseReceived: number;
  readonly ssePostings: number;
  readonly candidatesPerPosting: number;
  readonly notificationsPerPosting: number;
}

export interface MatchingResult {
  readonly plan: MatchingPlan;
  readonly rows: MatchingRow[];
  /** Postings per second at the largest size over the smallest. */
  readonly ratio: number;
}

const VOCABULARY = 3000;
/** A word every posting carries (as a tag) and only the probe user searches for. */
const PROBE_WORD = 'benchprobe';
const PROBE_USER = 'bench-probe-user';
/** Noise searches per user: the store's per-user cap, so a million searches are 10,000 users' keys, not a million. */
const NOISE_PER_USER = 100;
/**
 * Idle time before each size is measured, after its seeding. Measured without it
 * (quick plan, six runs): the first size ran 17-56% slower than the second, and
 * the same size measured twice in a row was ~30% faster the second time; with
 * 8 s of rest first, the two sizes came out within ±17%. The freshly started and
 * freshly seeded processes need the time; both sizes get the same.
 */
const SETTLE_MS = 10_000;

// Deterministic pseudo-random numbers, so two runs compare like with like.
let seed = 42;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const zipf = (n: number) => Math.min(n - 1, Math.floor(n ** random()) - 1);
const word = (vocabulary: string, rank: number) => `${vocabulary}${rank.toString(36)}`;

// Searches pick their words evenly, postings by Zipf's law (as text does): a posting then
// matches tens of searches per 10,000, not thousands.
function search(vocabulary: string) {
  const keywords = Array.from({ length: 1 + Math.floor(random() * 2) }, () => word(vocabulary, Math.floor(random() * VOCABULARY)));
  return { keywords, ...(random() < 0.2 ? { remote: true } : {}) };
}

type Posting = ReturnType<typeof postingContent> & { id: string };

function postingContent() {
  const words = Array.from({ length: 60 }, () => word('w', zipf(VOCABULARY)));
  return { title: words.slice(0, 6).join(' '), company: 'Bench Inc', description: words.slice(6).join(' '), tags: [PROBE_WORD], remote: random() < 0.5 };
}

/**
 * The postings of every size: the same texts, under ids of each phase. Every
 * size then matches exactly the same postings against the same relevant
 * searches, and only the number of saved searches differs.
 */
interface PostingTexts {
  readonly burst: ReturnType<typeof postingContent>[];
  readonly paced: ReturnType<typeof postingContent>[];
}

const withIds = (texts: ReturnType<typeof postingContent>[], prefix: string): Posting[] => texts.map((text, i) => ({ ...text, id: `${prefix}-${i}` }));

/** Saved searches from `from` up to `to`: relevant ones (one per user) below `relevant`, noise above. */
async function seedSearches(seeder: SavedSearchSeeder, from: number, to: number, relevant: number, bar: ProgressBar): Promise<void> {
  const at = (i: number) => from + i;
  await seeder.seed(
    to - from,
    (i) => (at(i) < relevant ? `bench-user-${at(i)}` : `bench-noise-${Math.floor(at(i) / NOISE_PER_USER)}`),
    (i) => search(at(i) < relevant ? 'w' : 'noise'),
    (done) => bar.update(done / (to - from), `seeding saved searches ${(from + done).toLocaleString('en-US')}/${to.toLocaleString('en-US')}`),
  );
}

/** Job-match arrivals on the probe user's stream, by posting id (µs, monotonic). */
function watchJobMatches(port: number): Promise<{ arrivals: Map<string, number>; stream: SseStream }> {
  const arrivals = new Map<string, number>();
  return new Promise((resolve, reject) => {
    const stream = openSseStream(port, `/api/events?access_token=${userToken(PROBE_USER)}`, {
      onOpen: () => resolve({ arrivals, stream }),
      onEvent: (event, data) => {
        if (event !== 'job-match') return;
        const at = monotonicUs();
        const jobId = (JSON.parse(data) as { data?: { jobId?: string } }).data?.jobId;
        if (jobId && !arrivals.has(jobId)) arrivals.set(jobId, at);
      },
      onClose: (error) => reject(error ?? new Error('probe stream closed')),
    });
  });
}

export async function waitForJobs(queue: Queue, count: number, finishedBefore: number, onTick: (done: number) => void): Promise<void> {
  let last = -1;
  let lastMove = Date.now();
  for (;;) {
    const counts = await queue.getJobCounts('completed', 'failed');
    const done = (counts.completed ?? 0) + (counts.failed ?? 0) - finishedBefore;
    onTick(done);
    if (done >= count) return;
    if (done !== last) [last, lastMove] = [done, Date.now()];
    else if (Date.now() - lastMove > 60_000) throw new Error(`matching stalled at ${done}/${count} postings`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function finishedCount(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('completed', 'failed');
  return (counts.completed ?? 0) + (counts.failed ?? 0);
}

export async function enqueueAll(queue: Queue, postings: readonly { id: string }[]): Promise<void> {
  const jobs = postings.map((data) => ({ name: 'posting', data, opts: { jobId: data.id } }));
  for (let i = 0; i < jobs.length; i += 100) await queue.addBulk(jobs.slice(i, i + 100));
}

async function measure(queue: Queue, arrivals: Map<string, number>, texts: PostingTexts, label: string, searches: number, plan: MatchingPlan, bar: ProgressBar): Promise<MatchingRow> {
  const size = searches.toLocaleString('en-US');
  // Warm-up, unmeasured: the burst's texts twice under other ids, so that every user the burst
  // notifies already has the stream a first notification creates, and the processes are warm.
  // Measured: after a single pass the first size still ran ~25% slower than the same size measured
  // again (quick plan), which read as a bogus "more searches, faster" ratio.
  const warmup = [...withIds(texts.burst, `bench-${label}-warmup1`), ...withIds(texts.burst, `bench-${label}-warmup2`)];
  const beforeWarmup = await finishedCount(queue);
  await enqueueAll(queue, warmup);
  await waitForJobs(queue, warmup.length, beforeWarmup, (done) => bar.update(done / warmup.length / 3, `${size} saved searches: warm-up ${done}/${warmup.length}`));

  // Burst: everything enqueued at once; postings per second while the worker drains the queue.
  const burst = withIds(texts.burst, `bench-${label}`);
  const before = await finishedCount(queue);
  const started = Date.now();
  await enqueueAll(queue, burst);
  await waitForJobs(queue, burst.length, before, (done) => bar.update(1 / 3 + done / burst.length / 3, `${size} saved searches: ${done}/${burst.length} postings matched`));
  const finished = await Promise.all(burst.map((posting) => queue.getJob(posting.id)));
  const latencies = finished.map((job) => (job?.finishedOn ?? 0) - (job?.timestamp ?? 0)).sort((a, b) => a - b);
  const lastFinish = Math.max(...finished.map((job) => job?.finishedOn ?? 0));
  const notified = finished.reduce((sum, job) => sum + ((job?.returnvalue as { notifiedUsers?: number })?.notifiedUsers ?? 0), 0);
  const candidates = finished.reduce((sum, job) => sum + ((job?.returnvalue as { candidates?: number })?.candidates ?? 0), 0);

  // Paced: one posting at a time at a moderate rate; enqueue → job-match on the probe user's SSE stream.
  const sent = new Map<string, number>();
  const interval = 1000 / plan.pacedRate;
  const pacedStart = Date.now();
  for (const [i, data] of withIds(texts.paced, `bench-${label}-paced`).entries()) {
    const wait = pacedStart + i * interval - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sent.set(data.id, monotonicUs());
    await queue.add('posting', data, { jobId: data.id });
    bar.update(2 / 3 + i / plan.pacedPostings / 3, `${size} saved searches: paced posting ${i}/${plan.pacedPostings}`);
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && [...sent.keys()].some((id) => !arrivals.has(id))) await new Promise((resolve) => setTimeout(resolve, 50));
  const sse = [...sent]
    .filter(([id]) => arrivals.has(id))
    .map(([id, at]) => ((arrivals.get(id) as number) - at) / 1000)
    .sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    savedSearches: searches,
    postings: plan.burstPostings,
    postingsPerSecond: Math.round((plan.burstPostings / (lastFinish - started)) * 1000),
    burstP50Ms: percentile(latencies, 50),
    burstP99Ms: percentile(latencies, 99),
    sseP50Ms: round(percentile(sse, 50)),
    sseP99Ms: round(percentile(sse, 99)),
    sseReceived: sse.length,
    ssePostings: plan.pacedPostings,
    // The probe user's own match is one of these.
    candidatesPerPosting: Math.round(candidates / plan.burstPostings),
    notificationsPerPosting: Math.round((notified / plan.burstPostings) * 10) / 10,
  };
}

const measureSeconds = (plan: MatchingPlan) => SETTLE_MS / 1000 + (3 * plan.burstPostings) / 200 + plan.pacedPostings / plan.pacedRate;
const seedSeconds = (from: number, to: number) => (to - from) / ASSUMED_SEEDS_PER_SECOND;

/** Expected seconds of the matching phase, to weigh the progress bar. */
export function matchingSeconds(plan: MatchingPlan): number {
  return 3 + seedSeconds(0, plan.sizes[plan.sizes.length - 1]) + plan.sizes.length * measureSeconds(plan);
}

/** Runs the matching benchmark on its own gateway and job-matcher, under `prefix` (deleted at the end). */
export async function runMatching(plan: MatchingPlan, prefix: string, bar: ProgressBar): Promise<MatchingResult> {
  const env = { WORKER_EMBEDDED: 'false', NODE_ENV: 'production' };
  bar.begin('matching: starting gateway and job-matcher', 3);
  const gateway = await startApp('gateway', prefix, env);
  const worker = await startApp('job-matcher', prefix, env);
  const seeder = await openSavedSearchSeeder(prefix);
  const queue = new Queue('job-postings', { connection: { url: redisUrl }, prefix });
  let stream: SseStream | null = null;
  try {
    await seeder.seed(1, () => PROBE_USER, () => ({ keywords: [PROBE_WORD] }));
    const watch = await watchJobMatches(gateway.port as number);
    stream = watch.stream;
    const texts: PostingTexts = {
      burst: Array.from({ length: plan.burstPostings }, postingContent),
      paced: Array.from({ length: plan.pacedPostings }, postingContent),
    };
    const rows: MatchingRow[] = [];
    // The probe user's search counts as the first.
    let seeded = 1;
    for (const [i, size] of plan.sizes.entries()) {
      const label = size.toLocaleString('en-US');
      bar.begin(`matching: seeding up to ${label} saved searches`, seedSeconds(seeded, size));
      await seedSearches(seeder, seeded, size, plan.sizes[0], bar);
      seeded = size;
      bar.begin(`matching: ${label} saved searches`, measureSeconds(plan));
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      rows.push(await measure(queue, watch.arrivals, texts, `s${i}`, size, plan, bar));
    }
    const ratio = rows[rows.length - 1].postingsPerSecond / rows[0].postingsPerSecond;
    return { plan, rows, ratio: Math.round(ratio * 100) / 100 };
  } finally {
    stream?.close();
    await queue.close();
    await seeder.close();
    await worker.stop();
    await gateway.stop();
    await deletePrefix(prefix);
  }
}

// On its own (`node -r ts-node/register/transpile-only bench/matching.ts [--full]`, after `npm run build`):
// the matching phase only, without the fan-out matrix of bench/run.ts.
if (require.main === module) {
  const plan = MATCHING_PLANS[process.argv.includes('--full') ? 'full' : 'quick'];
  const prefix = `rtg-bench-${randomBytes(3).toString('hex')}-matching`;
  installCleanup(() => deletePrefix(prefix));
  const bar = new ProgressBar(matchingSeconds(plan));
  runMatching(plan, prefix, bar).then(
    (result) => {
      bar.finish();
      console.log(renderText(matchingTable(result)));
    },
    (error: Error) => {
      process.stderr.write(`\n${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}
