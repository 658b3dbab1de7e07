import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { DeliveryProbe, RedisConnections } from '@app/notifications';

/**
 * Redis is up when the command connection is ready and this instance's
 * subscriptions delivered the last probe (a message through its own
 * subscription, every shard of a cluster): a PING that answers proves
 * nothing about delivery after a failover.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly redis: RedisConnections,
    private readonly probe: DeliveryProbe,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check(key: 'redis'): HealthIndicatorResult<'redis'> {
    const indicator = this.indicators.check(key);
    if (this.redis.command.status !== 'ready') return indicator.down({ message: `command connection ${this.redis.command.status}` });
    const { delivering, lastRoundMs, failure } = this.probe.current;
    if (!delivering) return indicator.down({ message: `live delivery down: ${failure}` });
    return indicator.up({ deliveryProbeMs: lastRoundMs });
  }
}
