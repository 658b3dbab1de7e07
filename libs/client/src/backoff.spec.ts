import { Backoff, backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it('doubles its cap per attempt and stays in the upper half of it', () => {
    const low = (attempt: number) => backoffDelay(attempt, { initialMs: 100, maxMs: 10_000, random: () => 0 });
    const high = (attempt: number) => backoffDelay(attempt, { initialMs: 100, maxMs: 10_000, random: () => 0.999999 });
    expect([0, 1, 2, 3].map(low)).toEqual([50, 100, 200, 400]);
    expect([0, 1, 2, 3].map(high)).toEqual([100, 200, 400, 800]);
  });

  it('never waits longer than maxMs, however many attempts', () => {
    for (const attempt of [7, 8, 20, 1_000, Number.MAX_SAFE_INTEGER]) {
      const delay = backoffDelay(attempt, { initialMs: 100, maxMs: 10_000, random: () => 0.999999 });
      expect(delay).toBeLessThanOrEqual(10_000);
      expect(delay).toBeGreaterThanOrEqual(5_000);
    }
  });

  it('spreads clients that failed together (jitter)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5)));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('is never 0, so a retry never fires at once', () => {
    expect(backoffDelay(0, { random: () => 0 })).toBeGreaterThan(0);
  });
});

describe('Backoff', () => {
  it('grows with failures and starts over after reset()', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([50, 100, 200]);
    expect(backoff.failures).toBe(3);
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(backoff.next()).toBe(50);
  });
});
