import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { LiveConnections } from '../connections/live-connections';
import { HEALTH_REPORT_SCHEMA } from '../docs/answer.models';
import { RedisHealthIndicator } from './redis.health';

/** `GET /health`: 200 while Redis answers and the process takes traffic; 503 otherwise. */
@ApiTags('ops')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly live: LiveConnections,
  ) {}

  @Get()
  // Documented here: terminus's own documentation (swaggerDocumentation) describes a database check.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    summary: 'Readiness of this instance',
    description: 'No authentication. `redis`: live delivery proven by a probe this instance publishes and must receive back within 2 s; `lifecycle`: `serving`, or `draining` once shutdown has begun.',
  })
  @ApiOkResponse({
    description: 'Live delivery works and the instance is serving.',
    schema: HEALTH_REPORT_SCHEMA,
    example: {
      status: 'ok',
      info: { redis: { status: 'up', deliveryProbeMs: 1 }, lifecycle: { status: 'up', state: 'serving' } },
      error: {},
      details: { redis: { status: 'up', deliveryProbeMs: 1 }, lifecycle: { status: 'up', state: 'serving' } },
    },
  })
  @ApiServiceUnavailableResponse({
    description: 'Redis or live delivery is down, or the instance is draining; the body names the check that is down.',
    schema: HEALTH_REPORT_SCHEMA,
    example: {
      status: 'error',
      info: { lifecycle: { status: 'up', state: 'serving' } },
      error: { redis: { status: 'down', message: 'live delivery down: subscriber connection closed' } },
      details: { redis: { status: 'down', message: 'live delivery down: subscriber connection closed' }, lifecycle: { status: 'up', state: 'serving' } },
    },
  })
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
