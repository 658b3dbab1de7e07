import { SseParser } from '../bench/fanout/sse-stream';

/*
 * The benchmark's SSE parser decides what a storm client sends back in
 * Last-Event-ID and when it comes back: it must keep both as EventSource does,
 * or the storm would measure losses of its own client.
 */
describe('bench SseParser', () => {
  const parse = (text: string, chunk = text.length) => {
    const events: Array<[string, string, string]> = [];
    const parser = new SseParser((event, data, id) => events.push([event, data, id]));
    for (let at = 0; at < text.length; at += chunk) parser.feed(text.slice(at, at + chunk));
    return { events, parser };
  };

  it('keeps the id of a block without data, as the gateway opens a stream with its position', () => {
    const { events, parser } = parse('retry: 3000\nid: 1700000000000-0\n\n');
    expect(events).toEqual([]);
    expect(parser.lastEventId).toBe('1700000000000-0');
    expect(parser.retryMs).toBe(3000);
  });

  it('hands each event the id it carries, and keeps the last id for events without one', () => {
    const text = 'id: 5-0\nevent: job-match\ndata: {"a":1}\n\nevent: inbox\ndata: {"unread":1}\n\n: heartbeat\n\nid: 6-0\nevent: job-match\ndata: x\ndata: y\n\n';
    for (const chunk of [1, 7, text.length]) {
      const { events, parser } = parse(text, chunk);
      expect(events).toEqual([
        ['job-match', '{"a":1}', '5-0'],
        ['inbox', '{"unread":1}', '5-0'],
        ['job-match', 'x\ny', '6-0'],
      ]);
      expect(parser.lastEventId).toBe('6-0');
    }
  });

  it('takes the last retry a server sends, and ignores one that is not a number', () => {
    const { parser } = parse('retry: 3000\n\nretry: 5123\n\nretry: soon\n\n');
    expect(parser.retryMs).toBe(5123);
  });

  it('does not take an id from a block that never ended', () => {
    const { parser } = parse('id: 1-0\n\nid: 2-0\nevent: x\ndata: y\n');
    expect(parser.lastEventId).toBe('1-0');
  });
});
