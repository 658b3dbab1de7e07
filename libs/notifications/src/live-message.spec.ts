import { decodeInboxState, decodeLiveMessage, encodeInboxSuffix, encodeLiveMessage, LIVE_MESSAGE_LUA } from './live-message';
import { APPEND_SCRIPT } from './notification.scripts';

describe('the live message codec', () => {
  const body = '"type":"job-match","userId":"u 1","data":{"a":"b c"},"createdAt":"2026-12-04T00:00:00.000Z"}';

  it('pins the bytes: `<id> <type> ` and the notification JSON with its id first', () => {
    expect(encodeLiveMessage('1796400000000-7', 'job-match', body)).toBe(
      '1796400000000-7 job-match {"id":"1796400000000-7","type":"job-match","userId":"u 1","data":{"a":"b c"},"createdAt":"2026-12-04T00:00:00.000Z"}',
    );
  });

  it('decodes what it encodes, spaces in the JSON included, for the user the channel names', () => {
    const envelope = decodeLiveMessage(encodeLiveMessage('1-2', 'job-match', body), 'u 1');
    expect([envelope.id, envelope.type, envelope.streamName]).toEqual(['1-2', 'job-match', 'u 1']);
    expect(JSON.parse(envelope.json)).toEqual({ id: '1-2', type: 'job-match', userId: 'u 1', data: { a: 'b c' }, createdAt: '2026-12-04T00:00:00.000Z' });
  });

  it.each([[''], ['1-2'], ['1-2 job-match'], [' job-match {}'], ['1-2  {}']])('refuses %j, which the script never writes', (message) => {
    expect(() => decodeLiveMessage(message, 'u')).toThrow(/not a live message/);
  });

  it("decodes a user's message with the read state after it: the JSON without it, the state alone", () => {
    const state = { unread: 3, readUpTo: '1-1', version: 1796400000000123 };
    const message = encodeLiveMessage('1-2', 'job-match', body) + encodeInboxSuffix(state);
    expect(decodeLiveMessage(message, 'u 1').json).toBe(decodeLiveMessage(encodeLiveMessage('1-2', 'job-match', body), 'u 1').json);
    expect(decodeInboxState(message)).toEqual(state);
    expect(decodeInboxState(encodeLiveMessage('1-2', 'job-match', body))).toBeNull();
  });

  it('decodes the state a read publishes alone', () => {
    expect(decodeInboxState('@ 0 1796400000000-7 42')).toEqual({ unread: 0, readUpTo: '1796400000000-7', version: 42 });
    expect(() => decodeInboxState('@ 0')).toThrow(/not a read state/);
  });

  it('is what the append script publishes with (test/live-message.e2e-spec.ts runs the script itself)', () => {
    expect(APPEND_SCRIPT).toContain(LIVE_MESSAGE_LUA);
    expect(APPEND_SCRIPT).toContain('local message = live_message(id, ARGV[2], ARGV[3])');
    expect(APPEND_SCRIPT).toContain("redis.call('SPUBLISH', ARGV[4], message)");
  });
});
