import { CursorCoalescer } from './cursor-coalescer';

describe('CursorCoalescer', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('sends the first move at once and only the latest of a burst after the interval', () => {
    const sent: Array<[string, number]> = [];
    const coalescer = new CursorCoalescer<number>((roomId, x) => sent.push([roomId, x]));
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
    const coalescer = new CursorCoalescer<number>((_, x) => sent.push(x));
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
    const coalescer = new CursorCoalescer<number>((roomId, x) => sent.push([roomId, x]));
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
});
