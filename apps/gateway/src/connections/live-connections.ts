import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/** Why a connection was refused: the gateway is shutting down, or a cap is reached. */
export type Refusal = 'draining' | 'user-limit' | 'instance-limit';

/** How long a refused client should wait before it tries again, by reason. */
export const RETRY_AFTER_SECONDS: Readonly<Record<Refusal, number>> = { draining: 1, 'user-limit': 30, 'instance-limit': 5 };

/**
 * One admitted long-lived connection (SSE stream or socket). Its channel says
 * how to send it away on shutdown ({@link onDrain}) and frees it once it is
 * closed ({@link release}); both are safe to call more than once.
 */
export class ConnectionSlot {
  private drainer: (() => void) | null = null;
  private released = false;

  constructor(
    readonly userId: string,
    private readonly free: (slot: ConnectionSlot) => void,
  ) {}

  onDrain(drainer: () => void): void {
    this.drainer = drainer;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.free(this);
  }

  /** Called once, by the drain. A slot whose channel never said how to drain it is just freed. */
  drain(): void {
    if (this.released) return;
    if (this.drainer === null) this.release();
    else this.drainer();
  }
}

/**
 * The long-lived connections of this instance, every channel together: the
 * per-user and per-instance caps (a reconnect storm or one greedy client
 * cannot take the instance's file descriptors), and the paced drain on
 * shutdown, which sends connections away in waves of DRAIN_PERCENT_PER_SECOND
 * so a rolling deploy does not land everyone on the neighbours in one instant.
 */
@Injectable()
export class LiveConnections implements BeforeApplicationShutdown {
  private readonly log = new Logger(LiveConnections.name);
  /** Admitted and not yet sent away, oldest first (Set keeps insertion order). */
  private readonly open = new Set<ConnectionSlot>();
  private readonly perUser = new Map<string, number>();
  private total = 0;
  private drained: Promise<void> | null = null;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  get isDraining(): boolean {
    return this.drained !== null;
  }

  /** Connections admitted and not yet closed. */
  get size(): number {
    return this.total;
  }

  /** A slot for a new connection of `userId`, or why not. */
  admit(userId: string): ConnectionSlot | Refusal {
    if (this.drained !== null) return 'draining';
    if (this.total >= this.config.maxConnectionsPerInstance) return 'instance-limit';
    const held = this.perUser.get(userId) ?? 0;
    if (held >= this.config.maxConnectionsPerUser) return 'user-limit';
    this.perUser.set(userId, held + 1);
    this.total++;
    const slot = new ConnectionSlot(userId, this.free);
    this.open.add(slot);
    return slot;
  }

  /**
   * Refuses new connections from now on and sends the open ones away in
   * waves, one second apart; resolves when the last wave has been told. The
   * entry point calls it before closing the application, while the feeds
   * still deliver; closing the application calls it too (then it is a no-op).
   */
  drain(): Promise<void> {
    this.drained ??= this.drainInWaves();
    return this.drained;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  private async drainInWaves(): Promise<void> {
    const count = this.open.size;
    if (count === 0) return;
    const waveSize = Math.max(1, Math.ceil((count * this.config.drainPercentPerSecond) / 100));
    const waves = Math.ceil(count / waveSize);
    this.log.log(`draining ${count} connection(s) in ${waves} wave(s) of up to ${waveSize}`);
    for (let wave = 0; this.open.size > 0; wave++) {
      if (wave > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
      let sent = 0;
      for (const slot of this.open) {
        if (sent++ >= waveSize) break;
        this.open.delete(slot);
        slot.drain();
      }
    }
  }

  private readonly free = (slot: ConnectionSlot): void => {
    this.open.delete(slot);
    this.total--;
    const held = (this.perUser.get(slot.userId) ?? 1) - 1;
    if (held > 0) this.perUser.set(slot.userId, held);
    else this.perUser.delete(slot.userId);
  };
}
