import request from 'supertest';
import { closeAfterEach } from './support/close-after-each';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { connectSocket, connected } from './support/socket-client';
import { openSse, type RawSseStream } from './support/sse-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * Whatever cursor a client sends, it gets a defined answer, never a 500, and
 * a cursor the stream cannot resume from never swallows what comes next: the
 * contract's cursor rules on SSE, Socket.IO and polling alike.
 */

const MAX_ID = '18446744073709551615-18446744073709551615';
const AHEAD = ['9999999999999-0', MAX_ID];

describe('cursor rules', () => {
  let gateway: TestGateway;
  const track = closeAfterEach();

  beforeAll(async () => {
    gateway = await startGateway({ env: { HISTORY_MAX_PER_USER: '5' } });
  });

  afterAll(async () => {
    await gateway.close();
  });

  /** A user with `count` notifications; returns their ids. */
  const userWith = async (count: number, label = 'cur') => {
    const userId = randomUserId(label);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await publish(gateway.url, userId, 'job-match', { i }));
    return { userId, ids };
  };

  /** Two users whose ids interleave, a millisecond apart, so one's id lies inside the other's range without being in it. */
  const interleaved = async () => {
    const tick = (id: string) => waitFor(() => Date.now() > Number(id.split('-')[0]) + 1, 'the clock to tick');
    const [userId, otherId] = [randomUserId('mine'), randomUserId('theirs')];
    const first = await publish(gateway.url, userId);
    await tick(first);
    const foreign = await publish(gateway.url, otherId);
    await tick(foreign);
    const last = await publish(gateway.url, userId);
    return { userId, foreign, ids: [first, last] };
  };

  const sse = async (userId: string, path = '/api/events', headers: Record<string, string> = {}) => {
    const stream = await openSse(gateway.url, path, { Authorization: `Bearer ${userToken(userId)}`, ...headers });
    track(stream);
    return stream;
  };

  /** The `id:` of the opening block: the position the stream says it continues after. */
  const openingId = async (stream: RawSseStream) => (await waitFor(() => stream.blocks.find((block) => block.id !== undefined), 'the opening id')).id;

  describe('SSE', () => {
    it.each(AHEAD)('resets a Last-Event-ID ahead of the stream (%s), starts at the newest id, and delivers what comes next', async (ahead) => {
      const { userId, ids } = await userWith(2);
      const stream = await sse(userId, '/api/events', { 'Last-Event-ID': ahead });
      expect(stream.status).toBe(200);
      expect(await openingId(stream)).toBe(ids[1]);
      const next = await publish(gateway.url, userId);
      const events = await stream.waitForEvents(2);
      expect(events.map((event) => [event.event, event.data])).toEqual([
        ['reset', '{"reason":"unknown-cursor"}'],
        ['job-match', expect.stringContaining(`"id":"${next}"`)],
      ]);
      expect(events[1].id).toBe(next);
      // It never echoes the cursor it was sent.
      expect(stream.raw).not.toContain(ahead);
    });

    it('treats ?lastEventId= ahead of the stream the same way', async () => {
      const { userId, ids } = await userWith(1);
      const stream = await sse(userId, '/api/events?lastEventId=9999999999999-0');
      expect(await openingId(stream)).toBe(ids[0]);
      const next = await publish(gateway.url, userId);
      expect((await stream.waitForEvents(2)).map((event) => [event.event, event.id])).toEqual([
        ['reset', ids[0]],
        ['job-match', next],
      ]);
    });

    it("resets another user's id and never echoes it to this user", async () => {
      const { userId, foreign, ids } = await interleaved();
      const stream = await sse(userId, '/api/events', { 'Last-Event-ID': foreign });
      expect(await openingId(stream)).toBe(ids[1]);
      const [reset] = await stream.waitForEvents(1);
      expect(reset).toMatchObject({ event: 'reset', data: '{"reason":"unknown-cursor"}' });
      expect(stream.raw).not.toContain(foreign);
    });

    it('takes a malformed Last-Event-ID header as an unknown cursor (EventSource gives up after a 400)', async () => {
      const { userId, ids } = await userWith(1);
      for (const header of ['abc', '1-2-3', '18446744073709551616-0']) {
        const stream = await sse(userId, '/api/events', { 'Last-Event-ID': header });
        expect(stream.status).toBe(200);
        expect(await openingId(stream)).toBe(ids[0]);
        expect((await stream.waitForEvents(1))[0]).toMatchObject({ event: 'reset', data: '{"reason":"unknown-cursor"}' });
      }
    });

    it('answers a malformed ?lastEventId= with a 400 naming it', async () => {
      const userId = randomUserId();
      for (const value of ['abc', '18446744073709551616', '-1']) {
        const response = await request(gateway.url).get(`/api/events?lastEventId=${value}`).set('Authorization', `Bearer ${userToken(userId)}`);
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ field: 'lastEventId' });
      }
    });

    it('resumes a trimmed cursor after the trim watermark, not at the cursor it was sent', async () => {
      const { userId, ids } = await userWith(8); // ids[0..2] trimmed
      const stream = await sse(userId, '/api/events', { 'Last-Event-ID': ids[0] });
      expect(await openingId(stream)).toBe(ids[2]);
      const events = await stream.waitForEvents(6);
      expect(events.map((event) => [event.event, event.id])).toEqual([['reset', ids[2]], ...ids.slice(3).map((id) => ['job-match', id])]);
    });

    it('resumes exactly after a cursor the stream holds', async () => {
      const { userId, ids } = await userWith(4);
      const stream = await sse(userId, '/api/events', { 'Last-Event-ID': ids[1] });
      expect(await openingId(stream)).toBe(ids[1]);
      expect((await stream.waitForEvents(2)).map((event) => event.id)).toEqual(ids.slice(2));
    });
  });

  describe('polling', () => {
    const poll = (userId: string, query: string) =>
      request(gateway.url).get(`/api/notifications?${query}`).set('Authorization', `Bearer ${userToken(userId)}`);

    it.each(AHEAD)('answers after=%s (ahead of the stream) with the newest position and a reset, not a 500', async (ahead) => {
      const { userId, ids } = await userWith(2);
      const response = await poll(userId, `after=${ahead}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ items: [], lastId: ids[1], reset: { reason: 'unknown-cursor' } });
      // Polling on from that position gets what comes next.
      const next = await publish(gateway.url, userId);
      expect((await poll(userId, `after=${response.body.lastId}`)).body).toMatchObject({ items: [{ id: next }], lastId: next });
    });

    it("answers another user's id as unknown", async () => {
      const { userId, foreign, ids } = await interleaved();
      expect((await poll(userId, `after=${foreign}`)).body).toEqual({ items: [], lastId: ids[1], reset: { reason: 'unknown-cursor' } });
    });

    it('lists the oldest retained after a trimmed cursor, saying history was truncated', async () => {
      const { userId, ids } = await userWith(7); // ids[0..1] trimmed
      const { body } = await poll(userId, `after=${ids[0]}`);
      expect(body.items.map((item: { id: string }) => item.id)).toEqual(ids.slice(2));
      expect(body).toMatchObject({ lastId: ids[6], reset: { reason: 'history-truncated' } });
    });

    it('keeps the plain answer for cursors it holds, and for a user without history', async () => {
      const { userId, ids } = await userWith(3);
      expect((await poll(userId, `after=${ids[0]}`)).body).toEqual({ items: [expect.objectContaining({ id: ids[1] }), expect.objectContaining({ id: ids[2] })], lastId: ids[2] });
      expect((await poll(userId, `after=${ids[2]}`)).body).toEqual({ items: [], lastId: ids[2] });
      expect((await poll(randomUserId(), 'after=0')).body).toEqual({ items: [], lastId: '0-0' });
    });

    it('answers a malformed or out-of-range after with a 400 naming it', async () => {
      const userId = randomUserId();
      for (const value of ['abc', '18446744073709551616-0', '1-18446744073709551616', '1-2-3']) {
        const response = await poll(userId, `after=${value}`);
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ field: 'after' });
      }
    });
  });

  describe('Socket.IO', () => {
    const socket = (userId: string, auth: Record<string, unknown>, transports = ['websocket']) => {
      const client = connectSocket(gateway.url, userId, { auth: { token: userToken(userId), ...auth }, transports });
      client.socket.io.opts.reconnection = false;
      track(client);
      return client;
    };

    it.each([
      ['websocket', AHEAD[0]],
      ['polling', AHEAD[1]],
    ])('over %s, resets auth.lastEventId ahead of the stream (%s) and delivers what comes next', async (transport, ahead) => {
      const { userId, ids } = await userWith(2);
      const newest = ids[1];
      const client = socket(userId, { lastEventId: ahead }, [transport]);
      await connected(client);
      await client.waitForEvent('reset');
      const next = await publish(gateway.url, userId);
      const [match] = await client.waitForEvent<{ id: string }>('job-match');
      expect(match.id).toBe(next);
      expect(client.received.map(([name]) => name)).toEqual(['reset', 'job-match']);
      expect(client.eventsNamed('reset')).toEqual([{ reason: 'unknown-cursor', lastEventId: newest }]);
    });

    it("resets another user's id", async () => {
      const { userId, foreign, ids } = await interleaved();
      const client = socket(userId, { lastEventId: foreign });
      await connected(client);
      expect(await client.waitForEvent('reset')).toEqual([{ reason: 'unknown-cursor', lastEventId: ids[1] }]);
    });

    it.each([['abc'], ['18446744073709551616-0'], [1732190000000], [{}]])('refuses auth.lastEventId %p with connect_error bad_cursor', async (value) => {
      const client = socket(randomUserId(), { lastEventId: value });
      await expect(connected(client)).rejects.toMatchObject({ message: 'bad_cursor', data: { field: 'lastEventId' } });
    });
  });
});
