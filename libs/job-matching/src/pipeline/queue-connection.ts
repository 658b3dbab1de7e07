import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { ConnectionOptions } from 'bullmq';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig, type RedisClient, RedisConnections, sentinelOptions } from '@app/notifications';
import { NotifyProcessor } from './notify.processor';
import { PostingProcessor } from './posting.processor';

/**
 * BullMQ's connection to the deployment. On one server or Sentinel, BullMQ
 * gets options and makes (and closes) its own connections; Sentinel options
 * make them follow a failover. A cluster client cannot be described by
 * options, so on a cluster this provider makes one and closes it once the
 * workers have finished or returned their jobs. No command retry limit
 * (`maxRetriesPerRequest: null`): a worker must wait out a failover, not stop
 * (bullmq#648, #3088).
 */
@Injectable()
export class QueueConnection implements OnApplicationShutdown {
  readonly connection: ConnectionOptions;
  private readonly cluster: RedisClient | null = null;

  constructor(
    @Inject(NOTIFICATIONS_CONFIG) config: NotificationsConfig,
    redis: RedisConnections,
    private readonly modules: ModuleRef,
  ) {
    const deployment = config.redis;
    const connectionName = `${config.redisKeyPrefix}:queue`;
    switch (deployment.kind) {
      case 'single':
        this.connection = { url: deployment.url, connectionName } as ConnectionOptions;
        break;
      case 'sentinel':
        this.connection = { ...sentinelOptions(deployment), connectionName, maxRetriesPerRequest: null } as ConnectionOptions;
        break;
      case 'cluster':
        this.cluster = redis.create('queue', { maxRetriesPerRequest: null, commandTimeout: undefined });
        this.connection = this.cluster;
        break;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.cluster === null) return;
    // Worker.close() is idempotent: this waits for the close @nestjs/bullmq started.
    const workers = [PostingProcessor, NotifyProcessor].map((host) => {
      try {
        return this.modules.get(host, { strict: false }).worker.close();
      } catch {
        return undefined; // no worker in this process (WORKER_EMBEDDED=false)
      }
    });
    await Promise.allSettled(workers);
    if (this.cluster.status === 'ready') await this.cluster.quit().catch(() => undefined);
    this.cluster.disconnect();
  }
}
