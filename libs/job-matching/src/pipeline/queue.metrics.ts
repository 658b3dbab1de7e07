import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { RealtimeMetrics } from '@app/notifications';
import { QUEUES } from './queues';

const STATES = ['waiting', 'active', 'failed', 'completed', 'delayed'] as const;

/**
 * The queues' part of the contract's metrics: `rtg_queue_jobs{queue,state}` from BullMQ's counts
 * (RealtimeMetrics reuses them for a second), and `rtg_jobs_processed_total` at zero for every
 * queue from the start, so that `increase()` sees the first failure too.
 */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: RealtimeMetrics,
    @InjectQueue(QUEUES.jobPostings) private readonly postings: Queue,
    @InjectQueue(QUEUES.notifications) private readonly notifications: Queue,
  ) {}

  onModuleInit(): void {
    for (const queue of Object.values(QUEUES)) for (const result of ['completed', 'failed']) this.metrics.jobsProcessed.inc({ queue, result }, 0);
    this.metrics.countQueueJobs(async () => {
      const counts = await Promise.all([this.postings, this.notifications].map((queue) => queue.getJobCounts(...STATES)));
      return [this.postings, this.notifications].flatMap((queue, i) =>
        STATES.map((state) => ({ queue: queue.name, state, count: counts[i][state] ?? 0 })),
      );
    });
  }
}
