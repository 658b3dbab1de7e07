/*
 * Matching benchmark: postings per second and enqueue-to-notification latency
 * with 10,000 and then 100,000 saved searches. The extra 90,000 searches use
 * words no posting contains, so the matches stay the same and any slowdown
 * would be the cost of the number of searches itself: with the index there
 * should be none (target: within ±20%).
 *
 * Processes: this client, one gateway (REST, WORKER_EMBEDDED=false) and one
 * job-matcher, all on this machine's 2 cores, against the real Redis.
 */
import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { API_KEY, deletePrefix, inParallel, percentile, progress, redisUrl, requestJson, root, startApp, userToken } from './support';

const full = process.argv.includes('--full');
const POSTINGS = full ? 2000 : 500;
const RELEVANT_SEARCHES = 10_000;
const TOTAL_SEARCHES = 100_000;
const VOCABULARY = 3000;

// Deterministic pseudo-random numbers, so two runs compare like with like.
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const zipf = (n: number) => Math.min(n - 1, Math.floor(n ** random()) - 1);
const word = (vocabulary: string, rank: number) => `${vocabulary}${rank.toString(36)}`;

// Searches pick their words evenly, postings by Zipf's law (as text does): a posting then
// matches tens of searches per 10,000, not thousands.
function search(vocabulary: string) {
  const keywords = Array.from({ length: 1 + Math.floor(random() * 2) }, () => word(vocabulary, Math.floor(random() * VOCABULARY)));
  return { keywords, ...(random() < 0.2 ? { remote: true } : {}) };
}

function posting(id: string) {
  const words = Array.from({ length: 60 }, () => word('w', zipf(VOCABULARY)));
  return { id, title: words.slice(0, 6).join(' '), company: 'Bench Inc', description: words.slice(6).join(' '), remote: random() < 0.5 };
}

async function seedSearches(port: number, from: number, to: number, vocabulary: string): Promise<void> {
  await inParallel(
    to - from,
    64,
    async (i) => {
      const userId = `bench-user-${from + i}`;
      const response = await requestJson(port, 'POST', '/api/saved-searches', search(vocabulary), { Authorization: `Bearer ${userToken(userId)}` });
      if (response.status !== 201) throw new Error(`saved search: ${response.status} ${response.body}`);
    },
    (done) => progress(`seeding saved searches: ${from + done}/${to}`),
  );
}

async function measure(queue: Queue, label: string, searches: number) {
  const jobs = Array.from({ length: POSTINGS }, (_, i) => {
    const data = posting(`bench-${label}-${i}`);
    return { name: 'posting', data, opts: { jobId: data.id } };
  });
  const before = await queue.getJobCounts('completed', 'failed');
  const finishedBefore = (before.completed ?? 0) + (before.failed ?? 0);
  const started = Date.now();
  for (let i = 0; i < jobs.length; i += 100) await queue.addBulk(jobs.slice(i, i + 100));
  for (;;) {
    const counts = await queue.getJobCounts('completed', 'failed');
    const done = (counts.completed ?? 0) + (counts.failed ?? 0) - finishedBefore;
    progress(`${searches} saved searches: ${done}/${POSTINGS} postings matched`);
    if (done >= POSTINGS) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const finished = await Promise.all(jobs.map((job) => queue.getJob(job.opts.jobId)));
  const latencies = finished.map((job) => (job?.finishedOn ?? 0) - (job?.timestamp ?? 0)).sort((a, b) => a - b);
  const lastFinish = Math.max(...finished.map((job) => job?.finishedOn ?? 0));
  const notified = finished.reduce((sum, job) => sum + ((job?.returnvalue as { notifiedUsers?: number })?.notifiedUsers ?? 0), 0);
  const candidates = finished.reduce((sum, job) => sum + ((job?.returnvalue as { candidates?: number })?.candidates ?? 0), 0);
  return {
    savedSearches: searches,
    postings: POSTINGS,
    postingsPerSecond: Math.round((POSTINGS / (lastFinish - started)) * 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    candidatesPerPosting: Math.round(candidates / POSTINGS),
    notificationsPerPosting: Math.round((notified / POSTINGS) * 10) / 10,
  };
}

async function main(): Promise<void> {
  const prefix = `rtg-bench-${randomBytes(3).toString('hex')}`;
  process.stderr.write(`matching benchmark: ${POSTINGS} postings per phase, prefix ${prefix}, 2 cores shared by client, gateway, worker and Redis\n`);
  const env = { REDIS_KEY_PREFIX: prefix, WORKER_EMBEDDED: 'false' };
  const gateway = await startApp('gateway', env);
  const worker = await startApp('job-matcher', env);
  const queue = new Queue('job-postings', { connection: { url: redisUrl }, prefix });
  try {
    const port = gateway.port as number;
    await seedSearches(port, 0, RELEVANT_SEARCHES, 'w');
    const small = await measure(queue, 'a', RELEVANT_SEARCHES);
    await seedSearches(port, RELEVANT_SEARCHES, TOTAL_SEARCHES, 'noise');
    const large = await measure(queue, 'b', TOTAL_SEARCHES);
    progress('');
    const rows = [small, large];
    console.log('\nmatching (enqueue → job completed, i.e. every job-match stored and published)');
    console.table(rows);
    const ratio = Math.round((large.postingsPerSecond / small.postingsPerSecond) * 100) / 100;
    console.log(`postings/s at 100k vs 10k saved searches: ${ratio}× (target 0.8–1.2×)`);
    const out = path.join(root, 'bench/results/matching.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), full, rows, ratio }, null, 2)}\n`);
  } finally {
    await queue.close();
    await worker.stop();
    await gateway.stop();
    await deletePrefix(prefix);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
