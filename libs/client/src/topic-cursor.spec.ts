import { buildStreamSetCursor, cursorPosition, encodePosition, topicKey, USER_STREAM_KEY } from './topic-cursor';

/** Pinned against the gateway's own encoder (apps/gateway/src/events/stream-set-cursor.ts). */
const GATEWAY_CURSOR = 'r1.u_m3r97a0w.b7c726b3_m3r97a4b-5.a6ce3b65_m3r97adk';

describe('the SSE cursor over several streams', () => {
  it('keys a topic by the first 8 hex digits of the SHA-256 of its name, as the gateway does', async () => {
    expect(await topicKey('jobs.new')).toBe('b7c726b3');
    expect(await topicKey('scores.match-42')).toBe('a6ce3b65');
  });

  it('writes positions in base 36, leaving out a zero sequence', () => {
    expect(encodePosition('1732190000000-0')).toBe('m3r97a0w');
    expect(encodePosition('1732190000000-37')).toBe('m3r97a0w-11');
    expect(encodePosition('0-0')).toBe('0');
  });

  it('builds the cursor the gateway would have written for the same positions', () => {
    const cursor = buildStreamSetCursor('1732190000000-0', [
      { key: 'b7c726b3', lastEventId: '1732190000123-5' },
      { key: 'a6ce3b65', lastEventId: '1732190000456-0' },
    ]);
    expect(cursor).toBe(GATEWAY_CURSOR);
  });

  it('leaves out a stream it has no position or key for (the gateway starts that one live)', () => {
    expect(buildStreamSetCursor('5-0', [{ key: null, lastEventId: '1-0' }, { key: 'b7c726b3', lastEventId: null }])).toBe('r1.u_5');
  });

  it('reads one stream back out of a cursor, and a plain id as the user\'s', () => {
    expect(cursorPosition(GATEWAY_CURSOR, USER_STREAM_KEY)).toBe('1732190000000-0');
    expect(cursorPosition(GATEWAY_CURSOR, 'b7c726b3')).toBe('1732190000123-5');
    expect(cursorPosition(GATEWAY_CURSOR, 'a6ce3b65')).toBe('1732190000456-0');
    expect(cursorPosition(GATEWAY_CURSOR, '00000000')).toBeNull();
    expect(cursorPosition('42-7', USER_STREAM_KEY)).toBe('42-7');
    expect(cursorPosition('42-7', 'b7c726b3')).toBeNull();
  });
});
