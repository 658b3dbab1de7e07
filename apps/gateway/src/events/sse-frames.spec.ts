import { NotificationEnvelope } from '@app/notifications/notification-envelope';
import { HEARTBEAT_FRAME, notificationFrame, openingFrame, resetFrame, retryFrame, TOKEN_EXPIRED_FRAME } from './sse-frames';

const storedBody = (notification: { type: string; userId: string; data: object; createdAt: string }): string =>
  // As NotificationStore.append stores it: the JSON without its opening '{'.
  JSON.stringify(notification).slice(1);

describe('SSE frames', () => {
  it('opens with retry and id', () => {
    const frame = openingFrame(3000, '5-0');
    expect(Buffer.isBuffer(frame)).toBe(true);
    expect(frame.toString()).toBe('retry: 3000\nid: 5-0\n\n');
  });

  it('builds a retry frame', () => {
    expect(retryFrame(1500).toString()).toBe('retry: 1500\n\n');
  });

  it('has fixed reset, heartbeat and token-expired frames', () => {
    expect(resetFrame('history-truncated', '5-0').toString()).toBe('event: reset\nid: 5-0\ndata: {"reason":"history-truncated"}\n\n');
    expect(resetFrame('unknown-cursor', '7-1').toString()).toBe('event: reset\nid: 7-1\ndata: {"reason":"unknown-cursor"}\n\n');
    expect(HEARTBEAT_FRAME.toString()).toBe(': heartbeat\n\n');
    expect(TOKEN_EXPIRED_FRAME.toString()).toBe('event: token-expired\ndata: {"reason":"token-expired"}\n\n');
    expect(JSON.parse(resetFrame('unknown-cursor', '7-1').toString().split('\n')[2].slice('data: '.length))).toEqual({ reason: 'unknown-cursor' });
    expect(JSON.parse(TOKEN_EXPIRED_FRAME.toString().split('\n')[1].slice('data: '.length))).toEqual({ reason: 'token-expired' });
  });

  describe('notificationFrame', () => {
    const notification = {
      type: 'message-received',
      userId: 'u1',
      data: { text: 'line one\nline two\r\nline three', nested: { s: 'a\n\nb' } },
      createdAt: '2024-11-21T12:00:00.000Z',
    };
    const envelope = NotificationEnvelope.fromStored('1732190400000-3', notification.type, notification.userId, storedBody(notification));

    it('is id, event and exactly one data line', () => {
      const text = notificationFrame(envelope).toString();
      expect(text).toBe(`id: 1732190400000-3\nevent: message-received\ndata: ${envelope.json}\n\n`);
      const lines = text.split('\n');
      expect(lines).toHaveLength(5);
      expect(lines.filter((line) => line.startsWith('data: '))).toHaveLength(1);
      expect(lines[3]).toBe('');
      expect(lines[4]).toBe('');
      expect(text).not.toContain('\r');
    });

    it('carries the full notification on its data line', () => {
      const dataLine = notificationFrame(envelope).toString().split('\n')[2];
      expect(JSON.parse(dataLine.slice('data: '.length))).toEqual({ id: '1732190400000-3', ...notification });
    });

    it('is built once per envelope by encode', () => {
      const first = envelope.encode(notificationFrame);
      const second = envelope.encode(notificationFrame);
      expect(second).toBe(first);
      expect(Buffer.isBuffer(first)).toBe(true);
      expect(first.equals(notificationFrame(envelope))).toBe(true);
    });

    it('memoizes per encoder', () => {
      const other = NotificationEnvelope.fromStored('1-0', 't', 'u', storedBody({ type: 't', userId: 'u', data: {}, createdAt: 'x' }));
      let calls = 0;
      const counting = (e: NotificationEnvelope): string => {
        calls++;
        return `#${e.id}`;
      };
      expect(other.encode(counting)).toBe('#1-0');
      expect(other.encode(counting)).toBe('#1-0');
      expect(calls).toBe(1);
      expect(other.encode(notificationFrame).toString()).toBe(`id: 1-0\nevent: t\ndata: ${other.json}\n\n`);
    });
  });
});

describe('NotificationEnvelope', () => {
  const notification = { type: 'job-match', userId: 'u7', data: { jobId: 9, title: 'x' }, createdAt: '2024-11-21T12:00:00.000Z' };
  const envelope = NotificationEnvelope.fromStored('1732190000000-5', 'job-match', 'u7', storedBody(notification));

  it('builds JSON of the full notification with the id first', () => {
    const parsed = JSON.parse(envelope.json);
    expect(parsed).toEqual({ id: '1732190000000-5', ...notification });
    expect(Object.keys(parsed)).toEqual(['id', 'type', 'userId', 'data', 'createdAt']);
    expect(envelope.json.startsWith('{"id":"1732190000000-5",')).toBe(true);
  });

  it('keeps the routing fields', () => {
    expect(envelope.id).toBe('1732190000000-5');
    expect(envelope.type).toBe('job-match');
    expect(envelope.streamName).toBe('u7');
  });

  it('parses once into the notification', () => {
    const parsed = envelope.toNotification();
    expect(parsed).toEqual({ id: '1732190000000-5', ...notification });
    expect(envelope.toNotification()).toBe(parsed);
  });

  it('takes publishedAtMs from the ms part of the id', () => {
    expect(envelope.publishedAtMs).toBe(1732190000000);
    expect(envelope.publishedAtMs).toBe(1732190000000);
    expect(new NotificationEnvelope('0-0', 't', 'u', '{}').publishedAtMs).toBe(0);
    expect(new NotificationEnvelope('42-17', 't', 'u', '{}').publishedAtMs).toBe(42);
  });
});
