import { Inject, Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { DeliveryProbe, RealtimeMetrics } from '@app/notifications';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/**
 * What an operator alerts on besides traffic: whether this instance's
 * subscriptions deliver (what `/health` answers, which a scrape cannot see
 * otherwise) and the connection caps the `rtg_connections` gauge runs into.
 * Read at each scrape.
 */
@Injectable()
export class GatewayGauges {
  constructor(metrics: RealtimeMetrics, probe: DeliveryProbe, @Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    new Gauge({
      name: 'rtg_live_delivery_up',
      help: "1 while this instance's own probe comes back through its subscriptions (live delivery works), else 0",
      registers: [metrics.registry],
      collect() {
        this.set(probe.current.delivering ? 1 : 0);
      },
    });
    new Gauge({
      name: 'rtg_delivery_probe_seconds',
      help: 'Round trip of the last successful delivery probe (publish to receipt on this instance)',
      registers: [metrics.registry],
      collect() {
        const ms = probe.current.lastRoundMs;
        if (ms !== null) this.set(ms / 1000);
      },
    });
    const caps = new Gauge({
      name: 'rtg_connections_max',
      help: 'Connection caps: per instance (MAX_CONNECTIONS_PER_INSTANCE) and per user (MAX_CONNECTIONS_PER_USER)',
      labelNames: ['scope'],
      registers: [metrics.registry],
    });
    caps.set({ scope: 'instance' }, config.maxConnectionsPerInstance);
    caps.set({ scope: 'user' }, config.maxConnectionsPerUser);
  }
}
