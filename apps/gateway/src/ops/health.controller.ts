import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { LiveConnections } from '../connections/live-connections';
import { RedisHealthIndicator } from './redis.health';

/** `GET /health`: 200 while Redis answers and the process takes traffic; 503 otherwise. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly live: LiveConnections,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.redis.check('redis'),
      () => {
        const indicator = this.indicators.check('lifecycle');
        return this.live.isDraining ? indicator.down({ state: 'draining' }) : indicator.up({ state: 'serving' });
      },
    ]);
  }
}
