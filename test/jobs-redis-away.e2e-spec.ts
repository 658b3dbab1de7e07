import { type Job, Worker } from 'bullmq';
import { RedisUnavailableError } from '@app/notifications';
import { REDIS_AWAY_FIRST_DELAY_MS, retryWhileRedisAway } from '../libs/job-matching/src/pipeline/redis-away';
import { uniquePrefix } from './support/prefix';
import { deletePrefix, testQueue, testRedisClient } from './support/redis';
import { waitFor } from './support/wait-for';

/*
 * A job whose Redis calls fail because Redis is away (a failover) goes back to
 * delayed without spending an attempt, on a real BullMQ queue: producers
 * outside the gateway add jobs with one attempt, and a failover must not fail
 * them for good.
 */
describe('jobs while Redis is away', () => {
  const prefix = uniquePrefix();
  const queuePrefix = `{${prefix}}`;
  const queue = testQueue('redis-away', { queuePrefix });
  const connection = testRedisClient({ maxRetriesPerRequest: null });
  /** What each job's work should throw on its next runs, in order; then it succeeds. */
  const failures = new Map<string, Error[]>();
  const runs = new Map<string, number[]>();
  const worker = new Worker(
    'redis-away',
    (job: Job, token?: string) =>
      retryWhileRedisAway(job, token, async () => {
        runs.set(job.id!, [...(runs.get(job.id!) ?? []), Date.now()]);
        const next = failures.get(job.id!)?.shift();
        if (next) throw next;
        return 'done';
      }),
    { connection, prefix: queuePrefix },
  );

  afterAll(async () => {
    await worker.close();
    await queue.close();
    connection.disconnect();
    await deletePrefix(prefix);
  });

  const settled = (job: Job) =>
    waitFor(async () => {
      const state = await job.getState();
      return state === 'completed' || state === 'failed' ? state : null;
    }, `job ${job.id} to settle`, 10_000);

  it('puts a job of one attempt back while Redis is away, backing off, and completes it once Redis answers', async () => {
    const away = () => new RedisUnavailableError('redis is not connected (writer reconnecting)');
    failures.set('away', [away(), away()]);
    const job = await queue.add('notify', {}, { jobId: 'away' });
    expect(await settled(job)).toBe('completed');
    const done = await queue.getJob('away');
    // Three starts, and only the run that completed counts as an attempt.
    expect(done).toMatchObject({ returnvalue: 'done', attemptsMade: 1, attemptsStarted: 3 });
    const [first, second, third] = runs.get('away')!;
    expect(second - first).toBeGreaterThanOrEqual(REDIS_AWAY_FIRST_DELAY_MS);
    expect(third - second).toBeGreaterThanOrEqual(2 * REDIS_AWAY_FIRST_DELAY_MS);
  });

  it('fails a job at once, as one attempt, for an error that is not Redis being away', async () => {
    failures.set('broken', [new Error('a bug')]);
    const job = await queue.add('notify', {}, { jobId: 'broken' });
    expect(await settled(job)).toBe('failed');
    expect(await queue.getJob('broken')).toMatchObject({ failedReason: 'a bug', attemptsMade: 1 });
    expect(runs.get('broken')).toHaveLength(1);
  });
});
