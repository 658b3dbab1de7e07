import { type DynamicModule, Module } from '@nestjs/common';
import { JobMatchingModule } from '@app/job-matching';
import { NotificationsModule, type NotificationsConfig } from '@app/notifications';

/** The job-match worker on its own: the same module the gateway embeds, with no HTTP and no live delivery (it only publishes). */
@Module({})
export class JobMatcherModule {
  static forRoot(config: NotificationsConfig): DynamicModule {
    return {
      module: JobMatcherModule,
      imports: [NotificationsModule.forRoot(config, { liveDelivery: false }), JobMatchingModule.forRoot(config, { worker: true })],
    };
  }
}
