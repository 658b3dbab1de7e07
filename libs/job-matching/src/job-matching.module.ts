import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import type { NotificationsConfig } from '@app/notifications';
import { NotifyProcessor } from './pipeline/notify.processor';
import { PostingMatcher } from './pipeline/posting-matcher';
import { PostingProcessor } from './pipeline/posting.processor';
import { QueueConnection } from './pipeline/queue-connection';
import { QueueMetrics } from './pipeline/queue.metrics';
import { DEFAULT_JOB_OPTIONS, QUEUES } from './pipeline/queues';
import { SavedSearchStore } from './saved-searches/saved-search.store';

/**
 * Saved searches and the two queues, with BullMQ's `prefix` set to
 * REDIS_KEY_PREFIX (in braces on a cluster). With `worker: true` this process also consumes them: one
 * implementation, hosted by the gateway (WORKER_EMBEDDED) or by apps/job-matcher.
 * Needs NotificationsModule (global) in the same application.
 */
@Module({})
export class JobMatchingModule {
  static forRoot(config: NotificationsConfig, options: { worker: boolean }): DynamicModule {
    return {
      module: JobMatchingModule,
      imports: [
        BullModule.forRootAsync({
          extraProviders: [QueueConnection],
          inject: [QueueConnection],
          useFactory: (queue: QueueConnection) => ({
            connection: queue.connection,
            prefix: config.queuePrefix,
            defaultJobOptions: DEFAULT_JOB_OPTIONS,
          }),
        }),
        BullModule.registerQueue({ name: QUEUES.jobPostings }, { name: QUEUES.notifications }),
      ],
      providers: [SavedSearchStore, QueueMetrics, ...(options.worker ? [PostingMatcher, PostingProcessor, NotifyProcessor] : [])],
      exports: [BullModule, SavedSearchStore],
    };
  }
}
