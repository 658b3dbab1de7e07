import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

/** Latency histograms in microseconds, up to 2 minutes, 3 significant digits. Pure JS: no wasm to load. */
export function latencyHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

/** What one load-client process saw in one phase, sent to the orchestrator. */
export interface PhaseReport {
  readonly phase: number;
  readonly connections: number;
  /** Unique receipts (duplicates excluded). */
  readonly receipts: number;
  readonly duplicates: number;
  /** Receipts of messages of another phase or beyond the expected count. */
  readonly strays: number;
  /** Per sequence number, receipts missing on this process's connections. */
  readonly losses: number;
  /** Connections that received at least one message of the phase. */
  readonly reached: number;
  /** Leading messages that every connection of this process has received. */
  readonly complete: number;
  readonly firstReceiptUs: number;
  readonly lastReceiptUs: number;
  /** Per message, the latency of its last receiver on this process (µs; -1 if nobody got it). */
  readonly lastReceiverUs: number[];
  /** Every receipt's latency (µs), HDR-encoded. */
  readonly histogram: string;
}

/**
 * Receipts of one phase on one load-client process. A bit per connection and
 * message tells a duplicate from a first receipt whatever the order (two
 * publish requests in flight may reach the server in either order); a count
 * below the number of connections at the end of the phase is a loss.
 */
export class PhaseReceipts {
  private readonly counts: Uint32Array;
  /** Bit (connection × messages + seq): that connection has that message. */
  private readonly seen: Uint8Array;
  /** Per connection: has it received anything in this phase. */
  private readonly reachedBy: Uint8Array;
  private readonly lastReceiver: Float64Array;
  private readonly histogram = latencyHistogram();
  private receipts = 0;
  private duplicates = 0;
  private strays = 0;
  private reachedCount = 0;
  private completeCount = 0;
  private firstReceiptUs = 0;
  private lastReceiptUs = 0;

  /**
   * `slots`: connection indices in use (0 to slots-1); `connections`: how many
   * of them are open, i.e. receipts expected per message.
   */
  constructor(
    readonly phase: number,
    private readonly messages: number,
    private readonly slots: number,
    private readonly connections: number,
  ) {
    this.counts = new Uint32Array(messages);
    this.seen = new Uint8Array(Math.ceil((slots * messages) / 8));
    this.reachedBy = new Uint8Array(slots);
    this.lastReceiver = new Float64Array(messages).fill(-1);
  }

  get reached(): number {
    return this.reachedCount;
  }

  get complete(): number {
    return this.completeCount;
  }

  /** Records one receipt; true when `complete` or `reached` moved (worth reporting). */
  record(connection: number, phase: number, seq: number, sentUs: number, nowUs: number): boolean {
    if (phase !== this.phase || seq < 0 || seq >= this.messages || connection >= this.slots) {
      this.strays++;
      return false;
    }
    const bit = connection * this.messages + seq;
    const mask = 1 << (bit & 7);
    if (this.seen[bit >> 3] & mask) {
      this.duplicates++;
      return false;
    }
    this.seen[bit >> 3] |= mask;
    this.receipts++;
    if (this.firstReceiptUs === 0) this.firstReceiptUs = nowUs;
    this.lastReceiptUs = nowUs;
    const latency = Math.max(1, nowUs - sentUs);
    this.histogram.recordValue(latency);
    if (latency > this.lastReceiver[seq]) this.lastReceiver[seq] = latency;
    let moved = false;
    if (this.reachedBy[connection] === 0) {
      this.reachedBy[connection] = 1;
      this.reachedCount++;
      moved = true;
    }
    if (++this.counts[seq] === this.connections && seq === this.completeCount) {
      while (this.completeCount < this.messages && this.counts[this.completeCount] === this.connections) this.completeCount++;
      moved = true;
    }
    return moved;
  }

  /** The phase's figures; losses are counted over the `published` messages only. */
  report(published: number): PhaseReport {
    let losses = 0;
    for (let seq = 0; seq < Math.min(published, this.messages); seq++) losses += Math.max(0, this.connections - this.counts[seq]);
    return {
      phase: this.phase,
      connections: this.connections,
      receipts: this.receipts,
      duplicates: this.duplicates,
      strays: this.strays,
      losses,
      reached: this.reachedCount,
      complete: this.completeCount,
      firstReceiptUs: this.firstReceiptUs,
      lastReceiptUs: this.lastReceiptUs,
      lastReceiverUs: Array.from(this.lastReceiver.subarray(0, published)),
      histogram: encodeIntoCompressedBase64(this.histogram),
    };
  }
}
