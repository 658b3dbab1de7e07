import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { RealtimeMetrics } from '../metrics/realtime.metrics';
import { parseJobPosting } from './job-posting.schema';
import { type MatchResult, PostingMatcher } from './posting-matcher';
import { isFinalFailure, JOB_NAMES, parseJobData, QUEUES } from './queues';

/** Consumes `job-postings`: validates each posting, then matches it. */
@Processor(QUEUES.jobPostings, { concurrency: 4 })
export class PostingProcessor extends WorkerHost {
  private readonly log = new Logger(PostingProcessor.name);

  constructor(
    private readonly matcher: PostingMatcher,
    private readonly metrics: RealtimeMetrics,
  ) {
    super();
  }

  async process(job: Job): Promise<MatchResult> {
    const posting = parseJobData(job, JOB_NAMES.posting, 'posting', parseJobPosting);
    return this.matcher.match(posting);
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
