/** Exponential backoff settings; the defaults suit a browser tab coming back after an outage. */
export interface BackoffOptions {
  /** Delay cap of the first retry. */
  readonly initialMs?: number;
  /** Largest delay cap; the cap doubles per attempt up to this. */
  readonly maxMs?: number;
  /** Source of randomness in [0, 1), injectable for tests. */
  readonly random?: () => number;
}

/**
 * The delay before retry number `attempt` (0-based): a random time in the upper half
 * of an exponentially growing cap ("equal jitter"). The randomness spreads thousands
 * of clients that lost the same server, so they do not come back in one wave; keeping
 * the lower half out means a retry never fires at once, which a full-jitter delay of
 * 0 ms would do.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const random = options.random ?? Math.random;
  // 2 ** 30 overflows nothing and is far past any sensible max.
  const cap = Math.min(max, initial * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}

/** A retry counter for one connection: `next()` after each failure, `reset()` once it works again. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions = {}) {}

  /** How many failures in a row so far. */
  get failures(): number {
    return this.attempt;
  }

  next(): number {
    return backoffDelay(this.attempt++, this.options);
  }

  reset(): void {
    this.attempt = 0;
  }
}
