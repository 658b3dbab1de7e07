import { DelayedError, type Job } from 'bullmq';
import { isRedisUnavailable } from '@app/notifications';

/** How long a job put back while Redis is away waits: 0.5 s, doubling, at most 10 s. */
export const REDIS_AWAY_FIRST_DELAY_MS = 500;
export const REDIS_AWAY_MAX_DELAY_MS = 10_000;
/** About ten minutes at the longest delay; past it, the failure counts as an attempt like any other. */
export const REDIS_AWAY_MAX_RETRIES = 60;

/** The delay before the retry that follows `retries` earlier ones. */
export function redisAwayDelayMs(retries: number): number {
  return Math.min(REDIS_AWAY_FIRST_DELAY_MS * 2 ** retries, REDIS_AWAY_MAX_DELAY_MS);
}

/**
 * Runs a job's work; when a Redis call fails because Redis is away (a failover,
 * a restart), puts the job back as delayed without counting an attempt.
 * Producers outside the gateway add jobs with BullMQ's default of one attempt,
 * so an ordinary retry would fail their job for good on the first failover;
 * the work is idempotent, so running it again publishes nothing twice.
 */
export async function retryWhileRedisAway<T>(job: Job, token: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // Every start counts in attemptsStarted; the counted ones in attemptsMade; this run is neither yet.
    const retries = job.attemptsStarted - job.attemptsMade - 1;
    if (!isRedisUnavailable(error) || token === undefined || retries >= REDIS_AWAY_MAX_RETRIES) throw error;
    const delayMs = redisAwayDelayMs(Math.max(retries, 0));
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError(`redis is away (${(error as Error).message}): retry in ${delayMs} ms`);
  }
}
