import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { ApiAcceptedResponse, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Queue } from 'bullmq';
import { JOB_NAMES, jobPostingSchema, parseJobPosting, QUEUES } from '@app/job-matching';
import { COMMAND_TIMEOUT_MS, RedisConnections, RedisUnavailableError } from '@app/notifications';
import { InternalKeyGuard } from '../auth/internal-key.guard';
import { JobAcceptedAnswer } from '../docs/answer.models';
import { ApiErrorAnswers, ApiInternalAuth } from '../docs/api-docs.decorators';

/** How long an add may wait for Redis before the client is told 503: as long as any other command. */
const ADD_TIMEOUT_MS = COMMAND_TIMEOUT_MS;

/** `POST /api/jobs`: internal services hand in a posting; the worker matches it. */
@ApiTags('jobs')
@Controller('api/jobs')
@UseGuards(InternalKeyGuard)
export class JobsController {
  constructor(
    @InjectQueue(QUEUES.jobPostings) private readonly postings: Queue,
    private readonly redis: RedisConnections,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Hand in a job posting (internal)',
    description:
      'Added to the `job-postings` queue with the posting id as job id: the same posting twice is accepted and matched once. The worker sends one `job-match` per user with a matching saved search, and publishes a `job-posted` event to the topic `jobs.new`.',
  })
  @ApiInternalAuth()
  @ApiBody({
    description: 'A job posting. Unknown fields are refused.',
    examples: {
      full: {
        summary: 'Every field',
        value: {
          id: 'acme-1042',
          title: 'Senior Node.js engineer',
          company: 'Acme',
          location: 'Berlin',
          description: 'Build our realtime platform on Node.js and Redis.',
          tags: ['node.js', 'redis'],
          salary: 85000,
          remote: true,
        },
      },
      minimal: { summary: 'Only what is required', value: { id: 'acme-1043', title: 'Data engineer', company: 'Acme' } },
    },
  })
  @ApiAcceptedResponse({ type: JobAcceptedAnswer, description: 'Queued.', example: { jobId: 'acme-1042' } })
  @ApiErrorAnswers({ statusCode: 400, error: 'Bad Request', message: 'title: must not be empty', field: 'title' }, 413, 415, 503)
  // `schema` documents the body (OpenAPI); the global pipe ignores it, and parseJobPosting validates with the same schema.
  async enqueue(@Body({ schema: jobPostingSchema }) body: unknown): Promise<{ jobId: string }> {
    // The same schema the worker applies to jobs added straight to the queue.
    const posting = parseJobPosting(body);
    // BullMQ's connection waits out an outage (retrying for 20 s and more): like a publish, answer 503
    // at once while Redis is down, and after ADD_TIMEOUT_MS while it does not answer. An add that
    // lands later is harmless: the job id is the posting id, so a retry is matched once all the same.
    this.redis.assertConnected();
    const added = this.postings.add(JOB_NAMES.posting, posting, { jobId: posting.id });
    added.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisUnavailableError(`redis did not take the posting within ${ADD_TIMEOUT_MS} ms`)), ADD_TIMEOUT_MS);
    });
    try {
      await Promise.race([added, timedOut]);
    } finally {
      clearTimeout(timer);
    }
    return { jobId: posting.id };
  }
}
