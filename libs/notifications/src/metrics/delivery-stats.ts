/** Upper bounds (seconds) of the publish-to-write latency histogram. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/**
 * Delivery counters of one channel. Recording is on the fan-out hot path (once
 * per connection per notification), so it only bumps preallocated numbers; the
 * Prometheus text is built from them when /metrics is scraped.
 */
export class DeliveryStats {
  delivered = 0;
  connections = 0;
  latencySumSeconds = 0;
  /** Non-cumulative count per bucket; the last slot is +Inf. */
  readonly latencyCounts = new Float64Array(LATENCY_BUCKETS.length + 1);

  /** One notification written to one connection; `publishedAtMs` is the time in its id. */
  recordDelivery(publishedAtMs: number, nowMs: number): void {
    this.delivered++;
    const seconds = nowMs > publishedAtMs ? (nowMs - publishedAtMs) / 1000 : 0;
    this.latencySumSeconds += seconds;
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]) bucket++;
    this.latencyCounts[bucket]++;
  }
}
