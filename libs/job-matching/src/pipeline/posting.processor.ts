import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { type JobPostedData, type JobPosting, RealtimeMetrics, TopicService } from '@app/notifications';
import { parseJobPosting } from './job-posting.schema';
import { type MatchResult, PostingMatcher } from './posting-matcher';
import { isFinalFailure, JOB_NAMES, parseJobData, QUEUES } from './queues';
import { retryWhileRedisAway } from './redis-away';

/** The live job board: every accepted posting, as a `job-posted` event. */
export const JOBS_TOPIC = 'jobs.new';
export const JOB_POSTED_TYPE = 'job-posted';

/** Consumes `job-postings`: validates each posting, announces it on the jobs topic, then matches it. */
@Processor(QUEUES.jobPostings, { concurrency: 4 })
export class PostingProcessor extends WorkerHost {
  private readonly log = new Logger(PostingProcessor.name);

  constructor(
    private readonly matcher: PostingMatcher,
    private readonly topics: TopicService,
    private readonly metrics: RealtimeMetrics,
  ) {
    super();
  }

  async process(job: Job, token?: string): Promise<MatchResult> {
    const posting = parseJobData(job, JOB_NAMES.posting, 'posting', parseJobPosting);
    return retryWhileRedisAway(job, token, async () => {
      // Keyed by the posting: a retried job (matching failed midway) announces it once.
      await this.topics.publish(JOBS_TOPIC, { type: JOB_POSTED_TYPE, data: jobPostedData(posting), idempotencyKey: `job-posted:${posting.id}` });
      return this.matcher.match(posting);
    });
  }

  @OnWorkerEvent('completed')
  completed(): void {
    this.metrics.jobsProcessed.inc({ queue: QUEUES.jobPostings, result: 'completed' });
  }

  @OnWorkerEvent('failed')
  failed(job: Job | undefined, error: Error): void {
    if (isFinalFailure(job, error)) this.metrics.jobsProcessed.inc({ queue: QUEUES.jobPostings, result: 'failed' });
    this.log.warn(`posting job ${job?.id ?? '?'} failed (attempt ${job?.attemptsMade ?? '?'}): ${error.message}`);
  }
}

function jobPostedData(posting: JobPosting): JobPostedData {
  return {
    jobId: posting.id,
    title: posting.title,
    company: posting.company,
    location: posting.location ?? null,
    remote: posting.remote ?? false,
    tags: posting.tags ?? [],
  };
}
