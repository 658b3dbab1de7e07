import { FloodLimiter } from './flood-limiter';

describe('FloodLimiter', () => {
  it('allows a burst, then refuses until tokens refill at the sustained rate', () => {
    const limiter = new FloodLimiter(10, 5, 0);
    const burst = Array.from({ length: 8 }, () => limiter.take(0));
    expect(burst).toEqual([true, true, true, true, true, false, false, false]);
    expect(limiter.take(99)).toBe(false); // 0.99 of a token
    expect(limiter.take(100)).toBe(true); // one token after 100 ms at 10/s
    expect(limiter.take(100)).toBe(false);
  });

  it('never holds more than the burst, however long it was idle', () => {
    const limiter = new FloodLimiter(10, 3, 0);
    const afterIdle = Array.from({ length: 5 }, () => limiter.take(60_000));
    expect(afterIdle).toEqual([true, true, true, false, false]);
  });

  it('sustains exactly the rate over a long flood', () => {
    const limiter = new FloodLimiter(20, 40, 0);
    let allowed = 0;
    for (let ms = 0; ms < 10_000; ms++) if (limiter.take(ms)) allowed++;
    expect(allowed).toBeGreaterThanOrEqual(40 + 199);
    expect(allowed).toBeLessThanOrEqual(40 + 200);
  });
});
