import { compareEventIds, normalizeEventId, ResumePosition } from './event-ids';

describe('notification ids', () => {
  it('normalizes ids the way the server does', () => {
    expect(normalizeEventId('0')).toBe('0-0');
    expect(normalizeEventId(' 007-01 ')).toBe('7-1');
    expect(normalizeEventId('1732190000000-5')).toBe('1732190000000-5');
    expect(normalizeEventId('abc')).toBeNull();
    expect(normalizeEventId('1-2-3')).toBeNull();
  });

  it('orders by time, then sequence, numerically', () => {
    const sorted = ['10-0', '9-5', '9-10', '100-0', '9-9'].sort(compareEventIds);
    expect(sorted).toEqual(['9-5', '9-9', '9-10', '10-0', '100-0']);
    expect(compareEventIds('5-1', '5-1')).toBe(0);
  });
});

describe('ResumePosition', () => {
  it('accepts each id once, in increasing order, and drops copies and older ids', () => {
    const position = new ResumePosition();
    expect(position.accept('5-0')).toBe(true);
    expect(position.accept('5-0')).toBe(false); // the same notification over another channel
    expect(position.accept('4-9')).toBe(false); // a replay of what was delivered
    expect(position.accept('5-1')).toBe(true);
    expect(position.accept('not an id')).toBe(false);
    expect(position.lastId).toBe('5-1');
  });

  it('starts from a stored id, and rejects one that is not an id', () => {
    expect(new ResumePosition('0').lastId).toBe('0-0');
    expect(new ResumePosition('12-3').accept('12-3')).toBe(false);
    expect(() => new ResumePosition('yesterday')).toThrow(/lastEventId/);
  });

  it('restarts where the server says, backwards too, when nothing was delivered since the connection', () => {
    // The client came back with an id ahead of the stream: every real id is smaller.
    const position = new ResumePosition('9999999999999-0');
    position.restart('20-0', '9999999999999-0');
    expect(position.lastId).toBe('20-0');
    expect(position.accept('21-0')).toBe(true);
  });

  it('only moves forward on a restart once something was delivered since the connection (another channel may be ahead)', () => {
    const position = new ResumePosition('9999999999999-0');
    position.restart('20-0', '9999999999999-0');
    position.accept('30-0');
    position.restart('25-0', '9999999999999-0');
    expect(position.lastId).toBe('30-0');
    position.restart('40-0', '20-0');
    expect(position.lastId).toBe('40-0');
  });

  it('seeks forward only', () => {
    const position = new ResumePosition('10-0');
    position.seek('5-0');
    expect(position.lastId).toBe('10-0');
    position.seek('20-0');
    expect(position.lastId).toBe('20-0');
  });
});
