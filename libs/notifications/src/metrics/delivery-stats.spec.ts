import { DeliveryStats, LATENCY_BUCKETS } from './delivery-stats';
import { CHANNELS, RealtimeMetrics } from './realtime.metrics';

const slotOf = (le: number | '+Inf'): number => (le === '+Inf' ? LATENCY_BUCKETS.length : LATENCY_BUCKETS.indexOf(le as never));

describe('DeliveryStats', () => {
  it('starts at zero', () => {
    const stats = new DeliveryStats();
    expect(stats.delivered).toBe(0);
    expect(stats.connections).toBe(0);
    expect(stats.latencySumSeconds).toBe(0);
    expect(stats.latencyCounts).toHaveLength(LATENCY_BUCKETS.length + 1);
    expect(Array.from(stats.latencyCounts).every((count) => count === 0)).toBe(true);
  });

  it('counts deliveries and sums latency in seconds', () => {
    const stats = new DeliveryStats();
    stats.recordDelivery(1000, 1003);
    stats.recordDelivery(1000, 1250);
    stats.recordDelivery(1000, 3000);
    expect(stats.delivered).toBe(3);
    expect(stats.latencySumSeconds).toBeCloseTo(0.003 + 0.25 + 2, 10);
  });

  it('puts a 3 ms latency in the 0.005 slot', () => {
    const stats = new DeliveryStats();
    stats.recordDelivery(1_700_000_000_000, 1_700_000_000_003);
    expect(stats.latencyCounts[slotOf(0.005)]).toBe(1);
    expect(Array.from(stats.latencyCounts).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('puts a 20 s latency in the +Inf slot', () => {
    const stats = new DeliveryStats();
    stats.recordDelivery(0, 20_000);
    expect(stats.latencyCounts[slotOf('+Inf')]).toBe(1);
    expect(stats.latencyCounts[slotOf(10)]).toBe(0);
    expect(stats.latencySumSeconds).toBe(20);
  });

  it('counts a latency on a bucket bound in that bucket (le is inclusive)', () => {
    const stats = new DeliveryStats();
    stats.recordDelivery(0, 1); // 0.001 s
    stats.recordDelivery(0, 10_000); // 10 s
    stats.recordDelivery(0, 10_001); // just over 10 s
    expect(stats.latencyCounts[slotOf(0.001)]).toBe(1);
    expect(stats.latencyCounts[slotOf(10)]).toBe(1);
    expect(stats.latencyCounts[slotOf('+Inf')]).toBe(1);
  });

  it('counts a negative latency (clock skew) as 0', () => {
    const stats = new DeliveryStats();
    stats.recordDelivery(5000, 4000);
    expect(stats.delivered).toBe(1);
    expect(stats.latencySumSeconds).toBe(0);
    expect(stats.latencyCounts[0]).toBe(1);
  });
});

describe('RealtimeMetrics', () => {
  const lines = async (metrics: RealtimeMetrics): Promise<string[]> => (await metrics.registry.metrics()).split('\n');

  it('exposes delivery counters and the latency histogram of a channel', async () => {
    const metrics = new RealtimeMetrics();
    const sse = metrics.channel(CHANNELS.sse);
    expect(metrics.channel('sse')).toBe(sse);
    const t0 = 1_700_000_000_000;
    sse.recordDelivery(t0, t0 + 3); // 0.005 bucket
    sse.recordDelivery(t0, t0 + 200); // 0.25 bucket
    sse.recordDelivery(t0, t0 + 20_000); // +Inf
    sse.connections = 2;

    const text = await lines(metrics);
    expect(text).toContain('rtg_notifications_delivered_total{channel="sse"} 3');
    expect(text).toContain('rtg_notifications_delivered_total{channel="socketio"} 0');
    expect(text).toContain('rtg_delivery_latency_seconds_bucket{le="0.001",channel="sse"} 0');
    expect(text).toContain('rtg_delivery_latency_seconds_bucket{le="0.0025",channel="sse"} 0');
    expect(text).toContain('rtg_delivery_latency_seconds_bucket{le="0.005",channel="sse"} 1');
    expect(text).toContain('rtg_delivery_latency_seconds_bucket{le="0.1",channel="sse"} 1');
    expect(text).toContain('rtg_delivery_latency_seconds_bucket{le="0.25",channel="sse"} 2');
    expect(text).toContain('rtg_delivery_latency_seconds_bucket{le="10",channel="sse"} 2');
    expect(text).toContain('rtg_delivery_latency_seconds_bucket{le="+Inf",channel="sse"} 3');
    expect(text).toContain('rtg_delivery_latency_seconds_sum{channel="sse"} 20.203');
    expect(text).toContain('rtg_delivery_latency_seconds_count{channel="sse"} 3');
    expect(text).toContain('rtg_delivery_latency_seconds_count{channel="socketio"} 0');
    expect(text).toContain('rtg_connections{channel="sse"} 2');
    expect(text).toContain('rtg_connections{channel="socketio"} 0');
    expect(text).toContain('rtg_notifications_published_total 0');
    expect(text).toContain('# TYPE rtg_delivery_latency_seconds histogram');
    expect(text).toContain('# TYPE rtg_notifications_delivered_total counter');
    expect(text.some((line) => /^nodejs_eventloop_lag_seconds \S+$/.test(line))).toBe(true);
  });

  it('counts published notifications', async () => {
    const metrics = new RealtimeMetrics();
    metrics.published.inc();
    metrics.published.inc();
    expect(await lines(metrics)).toContain('rtg_notifications_published_total 2');
  });

  it('keeps the histogram buckets cumulative and the count equal to +Inf', async () => {
    const metrics = new RealtimeMetrics();
    const socketio = metrics.channel(CHANNELS.socketio);
    for (let ms = 0; ms < 30_000; ms += 37) socketio.recordDelivery(0, ms);
    const values = (await lines(metrics))
      .filter((line) => line.startsWith('rtg_delivery_latency_seconds_bucket{') && line.includes('channel="socketio"'))
      .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
    expect(values).toHaveLength(LATENCY_BUCKETS.length + 1);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
    expect(values[values.length - 1]).toBe(socketio.delivered);
    expect(await lines(metrics)).toContain(`rtg_delivery_latency_seconds_count{channel="socketio"} ${socketio.delivered}`);
  });

  it('counts polling deliveries without connections or latency', async () => {
    const metrics = new RealtimeMetrics();
    const polling = metrics.channel(CHANNELS.polling);
    polling.recordDelivery(0, 5);
    polling.recordDelivery(0, 5);
    const text = await lines(metrics);
    expect(text).toContain('rtg_notifications_delivered_total{channel="polling"} 2');
    expect(text.filter((line) => line.includes('channel="polling"'))).toEqual([
      'rtg_notifications_delivered_total{channel="polling"} 2',
    ]);
    expect(text.some((line) => line.startsWith('rtg_connections{channel="polling"}'))).toBe(false);
  });
});
