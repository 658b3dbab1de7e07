import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import calculateSlot from 'cluster-key-slot';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { RedisConnections } from './redis-connections';
import { RedisKeys } from './redis-keys';

const PROBE_INTERVAL_MS = 1_000;
/** A probe not back by then fails the round. */
const PROBE_TIMEOUT_MS = 2_000;
/**
 * Rounds in a row whose probe came back late, on a subscriber connection that
 * is still up, before live delivery counts as lost. One late round is most
 * often a loaded machine (a busy event loop, a slow Redis), and calling it lost
 * would refuse every new stream and make every feed re-read the store, which
 * loads it more; a failover that dropped the subscriptions fails every round.
 */
const LATE_ROUNDS_BEFORE_LOST = 2;

/** A probe that did not come back in time (as opposed to a connection that failed). */
class ProbeLateError extends Error {}
const STARTUP_WAIT_MS = 3_000;

export interface DeliveryState {
  /** Every shard's subscription delivered the last probe. */
  readonly delivering: boolean;
  /** Round trip of the last successful round, in ms; null before one. */
  readonly lastRoundMs: number | null;
  /** Why the last round failed, or null. */
  readonly failure: string | null;
}

/**
 * Proves that this process's subscriptions deliver, not just that Redis
 * answers a PING: once a second it publishes a nonce on a probe channel of its
 * own per shard (one on a single server or Sentinel, one per primary on a
 * cluster) and waits for it on its own subscriber connection. After a
 * failover a node may answer while the subscription it held is gone
 * (Centrifugo stayed green delivering nothing); this sees that.
 *
 * Emits `lost` when live messages may have been missed (the subscriber
 * connection or a shard's subscriber closed, or a probe did not come back)
 * and `restored` at the first round that succeeds afterwards: every
 * subscription is in effect again, and listeners re-read what they missed.
 */
@Injectable()
export class DeliveryProbe extends EventEmitter implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(DeliveryProbe.name);
  private readonly process = randomUUID();
  private readonly waiting = new Map<string, () => void>();
  private channels: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private wasReady = false;
  private lateRounds = 0;
  private state: DeliveryState = { delivering: false, lastRoundMs: null, failure: 'not probed yet' };

  constructor(
    private readonly redis: RedisConnections,
    private readonly keys: RedisKeys,
  ) {
    super();
  }

  get current(): DeliveryState {
    return this.state;
  }

  async onModuleInit(): Promise<void> {
    const subscriber = this.redis.subscriber;
    subscriber.on('smessage', this.onMessage);
    // One connection (single, Sentinel): its close is a gap; on a cluster, a shard's subscriber going away is.
    subscriber.on('close', this.onLost);
    subscriber.on('-subscriber', this.onLost);
    subscriber.on('ready', this.probeSoon);
    subscriber.on('subscribersReady', this.probeSoon);
    this.timer = setInterval(() => void this.probe(), PROBE_INTERVAL_MS);
    // Give Redis a moment to answer before the app takes traffic; a Redis that
    // is down does not stop start-up: /health says 503 until it is back.
    const deadline = Date.now() + STARTUP_WAIT_MS;
    while (!this.state.delivering && Date.now() < deadline) {
      await this.probe();
      if (!this.state.delivering) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!this.state.delivering) this.log.warn(`live delivery is not working yet (${this.state.failure}); serving 503 until it does`);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.redis.subscriber.off('smessage', this.onMessage);
  }

  /** One round; concurrent callers share it. */
  probe(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = null));
    return this.running;
  }

  private async round(): Promise<void> {
    const started = performance.now();
    try {
      const channels = this.probeChannels();
      const stale = this.channels.filter((channel) => !channels.includes(channel));
      this.channels = channels;
      if (stale.length > 0) await this.redis.subscriber.sunsubscribe(...stale).catch(() => undefined);
      await Promise.all(channels.map((channel) => this.roundTrip(channel)));
      this.lateRounds = 0;
      this.settle({ delivering: true, lastRoundMs: Math.round(performance.now() - started), failure: null });
    } catch (error) {
      const late = error instanceof ProbeLateError && ++this.lateRounds < LATE_ROUNDS_BEFORE_LOST;
      if (late && this.state.delivering) {
        this.log.warn(`${(error as Error).message}: delivering still, unless the next round is late too`);
        return;
      }
      this.settle({ delivering: false, lastRoundMs: this.state.lastRoundMs, failure: (error as Error).message });
    }
  }

  /**
   * Subscribing again (a no-op for Redis when subscribed) orders this probe
   * after every SSUBSCRIBE that a reconnect re-sent on the same connection,
   * so a probe that comes back proves those are in effect too.
   */
  private async roundTrip(channel: string): Promise<void> {
    const nonce = randomUUID();
    const arrived = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        // Let I/O that waited behind a busy event loop be read before judging.
        () => setImmediate(() => {
          if (!this.waiting.delete(nonce)) return;
          reject(new ProbeLateError(`probe on ${channel} not delivered within ${PROBE_TIMEOUT_MS} ms`));
        }),
        PROBE_TIMEOUT_MS,
      );
      // A round cut off by shutdown must not hold the process (or a test run) open for its timeout.
      timer.unref();
      this.waiting.set(nonce, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    arrived.catch(() => undefined);
    try {
      await this.redis.subscriber.ssubscribe(channel);
      await this.redis.command.spublish(channel, nonce);
    } catch (error) {
      this.waiting.delete(nonce);
      throw error;
    }
    await arrived;
  }

  /** One channel per primary, each in a slot that primary serves (one channel off a cluster). */
  private probeChannels(): string[] {
    const base = this.keys.deliveryProbe(this.process);
    const subscriber = this.redis.subscriber;
    if (!('isCluster' in subscriber) || !subscriber.isCluster) return [base('0')];
    const owners = new Set<string>((subscriber as Cluster).slots.map((nodes) => nodes?.[0]).filter((owner): owner is string => owner !== undefined));
    if (owners.size === 0) throw new Error('the cluster slot map is empty');
    const channels: string[] = [];
    for (let n = 0; owners.size > 0 && n < 1_000_000; n++) {
      const channel = base(String(n));
      const owner = (subscriber as Cluster).slots[calculateSlot(channel)]?.[0];
      if (owner !== undefined && owners.delete(owner)) channels.push(channel);
    }
    return channels;
  }

  private settle(next: DeliveryState): void {
    const was = this.state.delivering;
    this.state = next;
    if (was === next.delivering) return;
    if (next.delivering) {
      this.log.log(`live delivery works${this.wasReady ? ' again' : ''} (${next.lastRoundMs} ms round trip)`);
      if (this.wasReady) this.emit('restored');
      this.wasReady = true;
    } else if (this.wasReady) {
      this.log.warn(`live delivery lost: ${next.failure}`);
      this.emit('lost');
    }
  }

  private readonly onMessage = (channel: string, message: string): void => {
    this.waiting.get(message)?.();
    this.waiting.delete(message);
  };

  private readonly onLost = (): void => {
    this.lateRounds = 0;
    this.settle({ delivering: false, lastRoundMs: this.state.lastRoundMs, failure: 'subscriber connection closed' });
  };

  private readonly probeSoon = (): void => {
    void this.probe();
  };
}
