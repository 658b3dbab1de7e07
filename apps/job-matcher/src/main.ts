import { ConsoleLogger, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadNotificationsConfig, loadOrExit } from '@app/notifications';
import { JobMatcherModule } from './job-matcher.module';

/** The contract's bound: the active job is finished or handed back before this. */
const SHUTDOWN_DEADLINE_MS = 9_500;

async function bootstrap(): Promise<void> {
  // The worker needs the library's variables only; the gateway's own are not its concern.
  const config = loadOrExit(() => loadNotificationsConfig(process.env));
  const app = await NestFactory.createApplicationContext(JobMatcherModule.forRoot(config), {
    logger: new ConsoleLogger({ json: true, colors: false }),
  });
  await app.init();
  const log = new Logger('JobMatcher');
  log.log(`job-matcher ready on ${config.redisUrl.replace(/\/\/[^@]*@/, '//***@')} with prefix ${config.redisKeyPrefix}`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.log(`${signal}: finishing the active jobs`);
      setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
      // Closing the workers waits for their active jobs; a job cut short is retried by another worker.
      void app.close().then(() => process.exit(0));
    });
  }
}

bootstrap().catch((error: unknown) => {
  // One line a supervisor shows whole (Nest has logged the detail it had); exit, since open clients would keep the process up.
  const reason = error instanceof Error ? error.message : String(error);
  process.stderr.write(`job-matcher failed to start: ${reason.split('\n')[0]}\n`);
  process.exit(1);
});
