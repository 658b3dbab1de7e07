import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { JOB_NAMES, parseJobPosting, QUEUES } from '@app/notifications';
import { InternalKeyGuard } from '../auth/internal-key.guard';

/** `POST /api/jobs`: internal services hand in a posting; the worker matches it. */
@Controller('api/jobs')
@UseGuards(InternalKeyGuard)
export class JobsController {
  constructor(@InjectQueue(QUEUES.jobPostings) private readonly postings: Queue) {}

  @Post()
  @HttpCode(202)
  async enqueue(@Body() body: unknown): Promise<{ jobId: string }> {
    // The same schema the worker applies to jobs added straight to the queue.
    const posting = parseJobPosting(body);
    // The job id is the posting id: BullMQ ignores a second add of the same id, so it is matched once.
    await this.postings.add(JOB_NAMES.posting, posting, { jobId: posting.id });
    return { jobId: posting.id };
  }
}
