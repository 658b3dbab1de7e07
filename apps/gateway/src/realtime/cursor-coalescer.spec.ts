import { CursorCoalescer, type DeferredMove } from './cursor-coalescer';

describe('CursorCoalescer', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('sends the last position once more, reliably, an interval after the cursor stops, and never while it moves', () => {
    const sent: string[] = [];
    const coalescer = new CursorCoalescer<number>((roomId, x, reliable) => sent.push(`${roomId}:${x}${reliable ? ' reliable' : ''}`));
    coalescer.move('r', 1, Date.now());
    jest.advanceTimersByTime(34);
    expect(sent).toEqual(['r:1', 'r:1 reliable']);
    sent.length = 0;
    for (let ms = 0; ms < 300; ms += 4) {
      coalescer.move('r', ms, Date.now());
      jest.advanceTimersByTime(4);
    }
    expect(sent.filter((line) => line.endsWith('reliable'))).toEqual([]);
    jest.advanceTimersByTime(100);
    expect(sent.filter((line) => line.endsWith('reliable'))).toEqual(['r:296 reliable']);
    expect(sent.at(-2)).toBe('r:296');
  });

  it('sends no copy for a room the sender left', () => {
    const sent: string[] = [];
    const coalescer = new CursorCoalescer<number>((roomId, x, reliable) => sent.push(`${roomId}:${x}${reliable ? ' reliable' : ''}`));
    coalescer.move('r', 1, Date.now());
    coalescer.forget('r');
    jest.advanceTimersByTime(100);
    expect(sent).toEqual(['r:1']);
  });

  it('sends the first move at once and only the latest of a burst after the interval', () => {
    const sent: Array<[string, number]> = [];
    const coalescer = new CursorCoalescer<number>((roomId, x, reliable) => !reliable && sent.push([roomId, x]));
    coalescer.move('r', 1, Date.now());
    for (let x = 2; x <= 50; x++) coalescer.move('r', x, Date.now());
    expect(sent).toEqual([['r', 1]]);
    jest.advanceTimersByTime(34);
    expect(sent).toEqual([
      ['r', 1],
      ['r', 50],
    ]);
  });

  it('fans out at most 30 moves a second for a continuous stream, ending on the last position', () => {
    const sent: number[] = [];
    const coalescer = new CursorCoalescer<number>((_, x, reliable) => !reliable && sent.push(x));
    for (let ms = 0; ms < 1000; ms += 4) {
      coalescer.move('r', ms, Date.now());
      jest.advanceTimersByTime(4);
    }
    jest.advanceTimersByTime(100);
    expect(sent.length).toBeLessThanOrEqual(31);
    expect(sent.length).toBeGreaterThanOrEqual(25);
    expect(sent[sent.length - 1]).toBe(996);
  });

  it('keeps rooms apart and drops a pending move when the sender leaves the room', () => {
    const sent: Array<[string, number]> = [];
    const coalescer = new CursorCoalescer<number>((roomId, x, reliable) => !reliable && sent.push([roomId, x]));
    coalescer.move('a', 1, Date.now());
    coalescer.move('b', 1, Date.now());
    coalescer.move('a', 2, Date.now());
    coalescer.move('b', 2, Date.now());
    coalescer.forget('b');
    jest.advanceTimersByTime(100);
    expect(sent).toEqual([
      ['a', 1],
      ['b', 1],
      ['a', 2],
    ]);
  });

  describe('deferred moves (over the rate limit)', () => {
    /** A deferred move that records what became of it; `valid: false` is refused when checked. */
    const deferred = (log: string[], x: number, valid = true): DeferredMove<number> => ({
      resolve: () => {
        log.push(`checked ${x}`);
        return valid ? x : null;
      },
      drop: () => log.push(`dropped ${x}`),
    });

    it("checks only the newest deferred move, at the room's next slot, and drops the ones it replaced", () => {
      const sent: number[] = [];
      const log: string[] = [];
      const coalescer = new CursorCoalescer<number>((_, x, reliable) => !reliable && sent.push(x));
      coalescer.move('r', 1, Date.now());
      for (let x = 2; x <= 5; x++) coalescer.defer('r', deferred(log, x), Date.now());
      expect(log).toEqual(['dropped 2', 'dropped 3', 'dropped 4']);
      jest.advanceTimersByTime(33);
      expect(sent).toEqual([1]);
      jest.advanceTimersByTime(1);
      expect(log).toEqual(['dropped 2', 'dropped 3', 'dropped 4', 'checked 5']);
      expect(sent).toEqual([1, 5]);
    });

    it('waits for the timer even in a free slot, so a move accepted before it cannot land after it', () => {
      const sent: number[] = [];
      const log: string[] = [];
      const coalescer = new CursorCoalescer<number>((_, x, reliable) => !reliable && sent.push(x));
      coalescer.defer('r', deferred(log, 2), Date.now());
      // The earlier move 1 comes out of dispatch after the deferred 2 was kept.
      coalescer.move('r', 1, Date.now());
      expect(sent).toEqual([]);
      jest.advanceTimersByTime(0);
      expect(sent).toEqual([2]);
      jest.advanceTimersByTime(100);
      expect(sent).toEqual([2]);
      expect(log).toEqual(['checked 2']);
    });

    it('drops the deferred move when a newer one is let through, which then goes out', () => {
      const sent: number[] = [];
      const log: string[] = [];
      const coalescer = new CursorCoalescer<number>((_, x, reliable) => !reliable && sent.push(x));
      coalescer.move('r', 1, Date.now());
      coalescer.defer('r', deferred(log, 2), Date.now());
      coalescer.supersede('r');
      coalescer.move('r', 3, Date.now());
      jest.advanceTimersByTime(34);
      expect(log).toEqual(['dropped 2']);
      expect(sent).toEqual([1, 3]);
    });

    it('sends the latest accepted move when the deferred one is refused, and spends the slot either way', () => {
      const sent: number[] = [];
      const log: string[] = [];
      const coalescer = new CursorCoalescer<number>((_, x, reliable) => !reliable && sent.push(x));
      coalescer.move('r', 1, Date.now());
      coalescer.move('r', 2, Date.now());
      coalescer.defer('r', deferred(log, 3, false), Date.now());
      jest.advanceTimersByTime(34);
      expect(sent).toEqual([1, 2]);
      // A refused move alone sends nothing, but the next check still waits a whole interval.
      coalescer.defer('r', deferred(log, 4, false), Date.now());
      jest.advanceTimersByTime(34);
      coalescer.defer('r', deferred(log, 5), Date.now());
      jest.advanceTimersByTime(33);
      expect(log).toEqual(['checked 3', 'checked 4']);
      jest.advanceTimersByTime(1);
      expect(log).toEqual(['checked 3', 'checked 4', 'checked 5']);
      expect(sent).toEqual([1, 2, 5]);
    });

    it('keeps one deferred move per room', () => {
      const sent: Array<[string, number]> = [];
      const log: string[] = [];
      const coalescer = new CursorCoalescer<number>((roomId, x, reliable) => !reliable && sent.push([roomId, x]));
      for (let x = 1; x <= 10; x++) coalescer.defer(x % 2 ? 'a' : 'b', deferred(log, x), Date.now());
      jest.advanceTimersByTime(0);
      expect(sent).toEqual([
        ['a', 9],
        ['b', 10],
      ]);
      expect(log.filter((entry) => entry.startsWith('checked'))).toEqual(['checked 9', 'checked 10']);
    });

    it('drops a deferred move, unchecked, when the sender leaves the room or disconnects', () => {
      const sent: Array<[string, number]> = [];
      const log: string[] = [];
      const coalescer = new CursorCoalescer<number>((roomId, x, reliable) => !reliable && sent.push([roomId, x]));
      coalescer.move('a', 1, Date.now());
      coalescer.defer('a', deferred(log, 2), Date.now());
      coalescer.defer('b', deferred(log, 3), Date.now());
      coalescer.forget('a');
      expect(log).toEqual(['dropped 2']);
      coalescer.defer('c', deferred(log, 4), Date.now());
      coalescer.clear();
      jest.advanceTimersByTime(100);
      expect(log).toEqual(['dropped 2', 'dropped 3', 'dropped 4']);
      expect(sent).toEqual([['a', 1]]);
    });

    it('checks a flood of deferred moves at most 30 times a second, answers every other one as dropped, and ends on the last', () => {
      const sent: number[] = [];
      const log: string[] = [];
      const coalescer = new CursorCoalescer<number>((_, x, reliable) => !reliable && sent.push(x));
      const count = 10_000;
      // 10 moves a millisecond for one second.
      for (let x = 1; x <= count; x++) {
        coalescer.defer('r', deferred(log, x), Date.now());
        if (x % 10 === 0) jest.advanceTimersByTime(1);
      }
      jest.advanceTimersByTime(100);
      const checked = log.filter((entry) => entry.startsWith('checked')).length;
      expect(checked).toBeLessThanOrEqual(31);
      expect(checked + log.filter((entry) => entry.startsWith('dropped')).length).toBe(count);
      expect(sent.length).toBe(checked);
      expect(sent[sent.length - 1]).toBe(count);
      expect(sent).toEqual([...sent].sort((a, b) => a - b));
    });
  });
});
