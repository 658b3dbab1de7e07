import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { DeliveryStats, LATENCY_BUCKETS } from './delivery-stats';

/** Channels as named in the `channel` label of the contract's metrics. */
export const CHANNELS = { sse: 'sse', socketio: 'socketio', polling: 'polling' } as const;
export type ChannelName = (typeof CHANNELS)[keyof typeof CHANNELS];

export type QueueJobCount = { queue: string; state: string; count: number };

type MetricValue = { metricName?: string; labels: Record<string, string | number>; value: number };

/**
 * How long queue counts from BullMQ are reused. `/metrics` is open to anyone and
 * each count is a round of Redis commands per queue: scrapes within this window,
 * and all scrapes while a count is in flight, share one.
 */
const QUEUE_COUNTS_MAX_AGE_MS = 1_000;

/**
 * The process's Prometheus registry with the contract's metric names, plus
 * prom-client's default process and Node metrics (event-loop lag among them).
 */
@Injectable()
export class RealtimeMetrics {
  readonly registry = new Registry();
  readonly published: Counter;
  readonly topicEventsPublished: Counter;
  readonly jobsProcessed: Counter<'queue' | 'result'>;
  private queueCounts: (() => Promise<QueueJobCount[]>) | null = null;
  /** The latest count, pending or settled; `freshUntil` is Infinity while it is in flight. */
  private sharedCount: { counts: Promise<QueueJobCount[]>; freshUntil: number } | null = null;
  private readonly channels = new Map<ChannelName, DeliveryStats>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.published = new Counter({
      name: 'rtg_notifications_published_total',
      help: 'Notifications stored and fanned out (idempotent repeats excluded)',
      registers: [this.registry],
    });
    this.topicEventsPublished = new Counter({
      name: 'rtg_topic_events_published_total',
      help: 'Topic events stored and fanned out (idempotent repeats excluded)',
      registers: [this.registry],
    });
    this.jobsProcessed = new Counter({
      name: 'rtg_jobs_processed_total',
      help: 'Queue jobs finished by this process, by queue and result',
      labelNames: ['queue', 'result'],
      registers: [this.registry],
    });
    const metrics = this;
    new Gauge({
      name: 'rtg_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        if (metrics.queueCounts === null) return;
        try {
          for (const { queue, state, count } of await metrics.currentQueueCounts()) this.set({ queue, state }, count);
        } catch {
          // Redis away: the scrape goes on with the last known values.
        }
      },
    });
    // Push channels show in every scrape, even before their first client.
    this.channel(CHANNELS.sse);
    this.channel(CHANNELS.socketio);
    const channels = this.channels;
    // Polling has no connections and no push latency: it only counts deliveries.
    const pushChannels = () => [...channels].filter(([channel]) => channel !== CHANNELS.polling);
    new Gauge({
      name: 'rtg_connections',
      help: 'Open client connections by channel',
      labelNames: ['channel'],
      registers: [this.registry],
      collect() {
        for (const [channel, stats] of pushChannels()) this.set({ channel }, stats.connections);
      },
    });
    this.registerCustom('rtg_notifications_delivered_total', 'Notifications written to client connections', 'counter', () =>
      [...channels].map(([channel, stats]) => ({ labels: { channel }, value: stats.delivered })),
    );
    this.registerCustom(
      'rtg_delivery_latency_seconds',
      'Time from publish (stream id) to the write on the connection',
      'histogram',
      () => pushChannels().flatMap(([channel, stats]) => histogramValues('rtg_delivery_latency_seconds', channel, stats)),
    );
  }

  /** Where `rtg_queue_jobs` reads its counts from: at a scrape, at most once a second. */
  countQueueJobs(source: () => Promise<QueueJobCount[]>): void {
    this.queueCounts = source;
    this.sharedCount = null;
  }

  private currentQueueCounts(): Promise<QueueJobCount[]> {
    const shared = this.sharedCount;
    if (shared !== null && Date.now() < shared.freshUntil) return shared.counts;
    const entry = { counts: (this.queueCounts as () => Promise<QueueJobCount[]>)(), freshUntil: Infinity };
    this.sharedCount = entry;
    // The window starts when the answer is in, so a slow Redis is not asked again while it still works on the last count.
    entry.counts.then(
      () => (entry.freshUntil = Date.now() + QUEUE_COUNTS_MAX_AGE_MS),
      () => {
        // A failed count is not kept: the next scrape asks again (and this one keeps the last values).
        if (this.sharedCount === entry) this.sharedCount = null;
      },
    );
    return entry.counts;
  }

  /** The stats a transport records its deliveries and connections into. */
  channel(name: ChannelName): DeliveryStats {
    let stats = this.channels.get(name);
    if (!stats) {
      stats = new DeliveryStats();
      this.channels.set(name, stats);
    }
    return stats;
  }

  // Delivery counts live in plain numbers (see DeliveryStats); this exposes them
  // to prom-client's registry, which only needs name, help, type and get().
  private registerCustom(name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]): void {
    const metric = {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    };
    this.registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  }
}

function histogramValues(name: string, channel: string, stats: DeliveryStats): MetricValue[] {
  const values: MetricValue[] = [];
  let cumulative = 0;
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
    cumulative += stats.latencyCounts[i];
    values.push({ metricName: `${name}_bucket`, labels: { le: LATENCY_BUCKETS[i], channel }, value: cumulative });
  }
  cumulative += stats.latencyCounts[LATENCY_BUCKETS.length];
  values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', channel }, value: cumulative });
  values.push({ metricName: `${name}_sum`, labels: { channel }, value: stats.latencySumSeconds });
  values.push({ metricName: `${name}_count`, labels: { channel }, value: cumulative });
  return values;
}
