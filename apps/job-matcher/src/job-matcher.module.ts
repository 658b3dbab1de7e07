import { type DynamicModule, Module } from '@nestjs/common';
import { type AppConfig, JobMatchingModule, NotificationsModule } from '@app/notifications';

/** The job-match worker on its own: the same module the gateway embeds, with no HTTP. */
@Module({})
export class JobMatcherModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: JobMatcherModule,
      imports: [NotificationsModule.forRoot(config), JobMatchingModule.forRoot(config, { worker: true })],
    };
  }
}
