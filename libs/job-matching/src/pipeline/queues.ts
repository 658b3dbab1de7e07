import { type Job, UnrecoverableError } from 'bullmq';
import { InvalidInputError } from '@app/notifications';

/** Queue and job names, exactly as the contract spells them. */
export const QUEUES = {
  jobPostings: 'job-postings',
  notifications: 'notifications',
} as const;

export const JOB_NAMES = {
  posting: 'posting',
  notify: 'notify',
} as const;

/**
 * Transient failures (Redis) retry with exponential backoff; bad data fails at
 * once with UnrecoverableError. Finished jobs are kept, bounded, so that a
 * posting id seen again within a week is recognised and operators can inspect
 * failures.
 */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 7 * 24 * 60 * 60, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 60 * 60, count: 10_000 },
} as const;

/** BullMQ reports every failed attempt; a job has failed for good when it will not be retried. */
export function isFinalFailure(job: Job | undefined, error: Error): boolean {
  return error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || !job || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/**
 * A job's data, checked: a wrong job name or bad data never gets better, so it
 * fails at once (UnrecoverableError) and stays in the failed set with the reason.
 */
export function parseJobData<T>(job: Job, expectedName: string, what: string, parse: (data: unknown) => T): T {
  if (job.name !== expectedName) throw new UnrecoverableError(`unknown job name "${job.name}" (expected "${expectedName}")`);
  try {
    return parse(job.data);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UnrecoverableError(`invalid ${what}: ${error.message}`);
    throw error;
  }
}
