import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RealtimeMetrics } from '@app/notifications';

/** `GET /metrics`: Prometheus text exposition. */
@ApiTags('ops')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: RealtimeMetrics) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics', description: "No authentication. The contract's `rtg_*` metrics and prom-client's default process and Node.js metrics." })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text exposition (`text/plain; version=0.0.4`).',
    schema: { type: 'string' },
    example: '# HELP rtg_connections Open client connections by channel\n# TYPE rtg_connections gauge\nrtg_connections{channel="sse"} 3\nrtg_connections{channel="socketio"} 5\n',
  })
  async scrape(@Res() response: Response): Promise<void> {
    response.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
