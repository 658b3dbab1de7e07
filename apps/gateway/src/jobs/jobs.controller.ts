import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { COMMAND_TIMEOUT_MS, JOB_NAMES, parseJobPosting, QUEUES, RedisConnections, RedisUnavailableError } from '@app/notifications';
import { InternalKeyGuard } from '../auth/internal-key.guard';

/** How long an add may wait for Redis before the client is told 503: as long as any other command. */
const ADD_TIMEOUT_MS = COMMAND_TIMEOUT_MS;

/** `POST /api/jobs`: internal services hand in a posting; the worker matches it. */
@Controller('api/jobs')
@UseGuards(InternalKeyGuard)
export class JobsController {
  constructor(
    @InjectQueue(QUEUES.jobPostings) private readonly postings: Queue,
    private readonly redis: RedisConnections,
  ) {}

  @Post()
  @HttpCode(202)
  async enqueue(@Body() body: unknown): Promise<{ jobId: string }> {
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
