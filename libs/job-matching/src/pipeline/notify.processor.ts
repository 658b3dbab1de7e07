import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Job } from 'bullmq';
import { assertNotificationInput, NotificationService, RealtimeMetrics } from '@app/notifications';
import { isFinalFailure, JOB_NAMES, parseJobData, QUEUES } from './queues';
import { retryWhileRedisAway } from './redis-away';

/** Consumes `notifications`: each `notify` job is published like `POST /api/notifications`. */
@Processor(QUEUES.notifications, { concurrency: 8 })
export class NotifyProcessor extends WorkerHost {
  private readonly log = new Logger(NotifyProcessor.name);

  constructor(
    private readonly notifications: NotificationService,
    private readonly metrics: RealtimeMetrics,
  ) {
    super();
  }

  async process(job: Job, token?: string): Promise<{ id: string }> {
    const input = parseJobData(job, JOB_NAMES.notify, 'notification', (data) => {
      const { userId, type, data: payload } = (data ?? {}) as Record<string, unknown>;
      return assertNotificationInput({ userId, type, data: payload });
    });
    // Keyed by job: a retry after a crash between publish and completion publishes nothing new.
    const jobKey = createHash('sha256').update(String(job.id)).digest('base64url').slice(0, 32);
    const { id } = await retryWhileRedisAway(job, token, () => this.notifications.publish({ ...input, idempotencyKey: `notify-job:${jobKey}` }));
    return { id };
  }

  @OnWorkerEvent('completed')
  completed(): void {
    this.metrics.jobsProcessed.inc({ queue: QUEUES.notifications, result: 'completed' });
  }

  @OnWorkerEvent('failed')
  failed(job: Job | undefined, error: Error): void {
    if (isFinalFailure(job, error)) this.metrics.jobsProcessed.inc({ queue: QUEUES.notifications, result: 'failed' });
    this.log.warn(`notify job ${job?.id ?? '?'} failed: ${error.message}`);
  }
}
