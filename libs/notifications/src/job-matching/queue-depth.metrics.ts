import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { RealtimeMetrics } from '../metrics/realtime.metrics';
import { QUEUES } from './queues';

const STATES = ['waiting', 'active', 'failed', 'completed', 'delayed'] as const;

/** Feeds `rtg_queue_jobs{queue,state}` from BullMQ's counts (RealtimeMetrics reuses them for a second). */
@Injectable()
export class QueueDepthMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: RealtimeMetrics,
    @InjectQueue(QUEUES.jobPostings) private readonly postings: Queue,
    @InjectQueue(QUEUES.notifications) private readonly notifications: Queue,
  ) {}

  onModuleInit(): void {
    this.metrics.countQueueJobs(async () => {
      const counts = await Promise.all([this.postings, this.notifications].map((queue) => queue.getJobCounts(...STATES)));
      return [this.postings, this.notifications].flatMap((queue, i) =>
        STATES.map((state) => ({ queue: queue.name, state, count: counts[i][state] ?? 0 })),
      );
    });
  }
}
