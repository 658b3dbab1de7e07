import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config';
import { SavedSearchStore } from '../saved-searches/saved-search.store';
import { NotifyProcessor } from './notify.processor';
import { PostingMatcher } from './posting-matcher';
import { PostingProcessor } from './posting.processor';
import { QueueConnection } from './queue-connection';
import { QueueDepthMetrics } from './queue-depth.metrics';
import { DEFAULT_JOB_OPTIONS, QUEUES } from './queues';

/**
 * Saved searches and the two queues, with BullMQ's `prefix` set to
 * REDIS_KEY_PREFIX (in braces on a cluster). With `worker: true` this process also consumes them: one
 * implementation, hosted by the gateway (WORKER_EMBEDDED) or by apps/job-matcher.
 * Needs NotificationsModule (global) in the same application.
 */
@Module({})
export class JobMatchingModule {
  static forRoot(config: AppConfig, options: { worker: boolean }): DynamicModule {
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
      providers: [SavedSearchStore, QueueDepthMetrics, ...(options.worker ? [PostingMatcher, PostingProcessor, NotifyProcessor] : [])],
      exports: [BullModule, SavedSearchStore],
    };
  }
}
