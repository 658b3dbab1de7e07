import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { RealtimeMetrics } from '@app/notifications';

/** `GET /metrics`: Prometheus text exposition. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: RealtimeMetrics) {}

  @Get()
  async scrape(@Res() response: Response): Promise<void> {
    response.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
