import request from 'supertest';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { connectSocket, connected } from './support/socket-client';
import { openSse, type RawSseStream, type SseEvent } from './support/sse-client';
import { startGateway, TEST_API_KEY, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { closeAfterEach } from './support/close-after-each';
import { waitFor } from './support/wait-for';

type InboxAnswer = { unread: number; readUpTo: string };
type Ack = { ok: boolean; error?: string; field?: string } & Partial<InboxAnswer>;

const HISTORY = 6;

/** The contract's section "Inbox: read state and unread counts", line by line, over real clients. */
describe('inbox', () => {
  let gateway: TestGateway;

  const auth = (userId: string) => ({ Authorization: `Bearer ${userToken(userId)}` });
  const unread = async (userId: string, url = gateway.url): Promise<InboxAnswer> => {
    const response = await request(url).get('/api/notifications/unread').set(auth(userId));
    expect(response.status).toBe(200);
    return response.body as InboxAnswer;
  };
  const markRead = async (userId: string, body: unknown, url = gateway.url) => request(url).post('/api/notifications/read').set(auth(userId)).send(body as object);
  const readFlags = async (userId: string) => {
    const response = await request(gateway.url).get('/api/notifications?limit=200').set(auth(userId));
    return (response.body.items as Array<{ id: string; read: boolean }>).map((item) => [item.id, item.read]);
  };
  const publishMany = async (userId: string, count: number, url = gateway.url) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await publish(url, userId, 'job-match', { i }));
    return ids;
  };
  const track = closeAfterEach();
  const sse = async (userId: string, query = '') => track(await openSse(gateway.url, `/api/events${query}`, auth(userId)));
  const socket = async (userId: string, url = gateway.url) => {
    const client = track(connectSocket(url, userId));
    await connected(client);
    return client;
  };
  const inboxEvents = (stream: RawSseStream) => stream.inboxEvents;
  const stateOf = (event: SseEvent) => JSON.parse(event.data as string) as InboxAnswer;
  /** Waits until the stream's newest `inbox` says `expected`. */
  const untilInbox = (stream: RawSseStream, expected: InboxAnswer) =>
    waitFor(() => {
      const last = inboxEvents(stream).at(-1);
      return last !== undefined && JSON.stringify(stateOf(last)) === JSON.stringify(expected);
    }, `inbox ${JSON.stringify(expected)}; had ${JSON.stringify(inboxEvents(stream).map(stateOf))}`);

  beforeAll(async () => {
    gateway = await startGateway({ env: { HISTORY_MAX_PER_USER: String(HISTORY) } });
  });


  afterAll(async () => {
    await gateway.close();
  });

  describe('POST /api/notifications/read and GET /api/notifications/unread', () => {
    it('start at { unread: 0, readUpTo: "0-0" } and count every new notification as unread', async () => {
      const user = randomUserId();
      expect(await unread(user)).toEqual({ unread: 0, readUpTo: '0-0' });
      const ids = await publishMany(user, 3);
      expect(await unread(user)).toEqual({ unread: 3, readUpTo: '0-0' });
      expect(await readFlags(user)).toEqual(ids.map((id) => [id, false]));
    });

    it('mark ids read; readUpTo moves to the newest id below which everything is read', async () => {
      const user = randomUserId();
      const [a, b, c] = await publishMany(user, 3);
      const first = await markRead(user, { ids: [b] });
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ unread: 2, readUpTo: '0-0' });
      expect(await readFlags(user)).toEqual([
        [a, false],
        [b, true],
        [c, false],
      ]);
      expect((await markRead(user, { ids: [a, a] })).body).toEqual({ unread: 1, readUpTo: b });
      expect((await markRead(user, { ids: [c] })).body).toEqual({ unread: 0, readUpTo: c });
      expect(await unread(user)).toEqual({ unread: 0, readUpTo: c });
    });

    it('mark everything up to an id read, and never move readUpTo back', async () => {
      const user = randomUserId();
      const [, b, c, d] = await publishMany(user, 4);
      expect((await markRead(user, { upTo: c })).body).toEqual({ unread: 1, readUpTo: c });
      expect((await markRead(user, { upTo: b })).body).toEqual({ unread: 1, readUpTo: c });
      expect((await readFlags(user)).map(([, read]) => read)).toEqual([true, true, true, false]);
      expect((await markRead(user, { upTo: d })).body).toEqual({ unread: 0, readUpTo: d });
    });

    it('take an upTo ahead of the stream as "everything so far", not as a claim on what comes later', async () => {
      const user = randomUserId();
      const [, b] = await publishMany(user, 2);
      expect((await markRead(user, { upTo: '9999999999999-0' })).body).toEqual({ unread: 0, readUpTo: b });
      const [later] = await publishMany(user, 1);
      expect(await unread(user)).toEqual({ unread: 1, readUpTo: b });
      expect(await readFlags(user)).toContainEqual([later, false]);
    });

    it('ignore ids that are not the user\'s, answering as for ids that do not exist', async () => {
      const owner = randomUserId();
      const stranger = randomUserId();
      const [theirs] = await publishMany(owner, 1);
      await publishMany(stranger, 1);
      const foreign = await markRead(stranger, { ids: [theirs] });
      const missing = await markRead(stranger, { ids: ['1-1'] });
      expect([foreign.status, missing.status]).toEqual([200, 200]);
      expect(foreign.body).toEqual({ unread: 1, readUpTo: '0-0' });
      expect(missing.body).toEqual(foreign.body);
      expect(await unread(owner)).toEqual({ unread: 1, readUpTo: '0-0' });
      // upTo only ever reaches the user's own notifications.
      expect((await markRead(stranger, { upTo: theirs })).body.unread).toBe(1);
    });

    it('count only retained notifications, exactly, as history is trimmed', async () => {
      const user = randomUserId();
      const ids = await publishMany(user, HISTORY + 3);
      expect(await unread(user)).toEqual({ unread: HISTORY, readUpTo: '0-0' });
      const retained = ids.slice(3);
      // Read two of the oldest retained, then trim them away with two more: the count stays exact.
      expect((await markRead(user, { ids: [retained[0], retained[1], ids[0]] })).body).toEqual({ unread: HISTORY - 2, readUpTo: retained[1] });
      await publishMany(user, 2);
      expect(await unread(user)).toEqual({ unread: HISTORY, readUpTo: retained[1] });
      // An unread one trimmed away leaves the count too.
      await publishMany(user, 1);
      expect((await unread(user)).unread).toBe(HISTORY);
      expect((await readFlags(user)).filter(([, read]) => !read)).toHaveLength(HISTORY);
    });

    it.each([
      ['no field', {}, 'ids'],
      ['no ids', { ids: [] }, 'ids'],
      ['ids not a list', { ids: 'x' }, 'ids'],
      ['201 ids', { ids: Array.from({ length: 201 }, (_, i) => `${i + 1}-0`) }, 'ids'],
      ['a bad id', { ids: ['1-0', 'nope'] }, 'ids[1]'],
      ['a number for an id', { ids: [7] }, 'ids[0]'],
      ['a bad upTo', { upTo: 'x-1' }, 'upTo'],
      ['an upTo past 64 bits', { upTo: '18446744073709551616-0' }, 'upTo'],
      ['both ids and upTo', { ids: ['1-0'], upTo: '1-0' }, 'upTo'],
      ['an unknown field', { ids: ['1-0'], all: true }, 'all'],
    ])('refuse %s with a 400 naming the field, and change nothing', async (_, body, field) => {
      const user = randomUserId();
      const [id] = await publishMany(user, 1);
      const response = await markRead(user, body);
      expect(response.status).toBe(400);
      expect(response.body.field).toBe(field);
      expect(await unread(user)).toEqual({ unread: 1, readUpTo: '0-0' });
      expect(await readFlags(user)).toEqual([[id, false]]);
    });

    it('refuse anyone without a user token', async () => {
      expect((await request(gateway.url).get('/api/notifications/unread')).status).toBe(401);
      expect((await request(gateway.url).post('/api/notifications/read').set('X-Api-Key', TEST_API_KEY).send({ upTo: '1-0' })).status).toBe(401);
    });
  });

  describe('the inbox event on SSE', () => {
    it('comes first, with no id line, then on every change: a new notification, a read elsewhere', async () => {
      const user = randomUserId();
      const [old] = await publishMany(user, 1);
      const stream = await sse(user);
      await untilInbox(stream, { unread: 1, readUpTo: '0-0' });
      expect(stream.blocks.find((block) => block.data !== undefined)).toEqual({ event: 'inbox', data: '{"unread":1,"readUpTo":"0-0"}', comments: [] });
      const [fresh] = await publishMany(user, 1);
      await untilInbox(stream, { unread: 2, readUpTo: '0-0' });
      await markRead(user, { ids: [old] });
      await untilInbox(stream, { unread: 1, readUpTo: old });
      await markRead(user, { upTo: fresh });
      await untilInbox(stream, { unread: 0, readUpTo: fresh });
      // State, not history: no inbox block moves the cursor.
      expect(inboxEvents(stream).every((event) => event.id === undefined)).toBe(true);
      expect(stream.raw).not.toMatch(/id: [^\n]*\nevent: inbox/);
    });

    it('comes first on a stream with topics too, before any replay, and keeps the connection cursor', async () => {
      const user = randomUserId();
      await publishMany(user, 2);
      const stream = await sse(user, '?topics=jobs.new&lastEventId=0');
      await stream.waitForEvents(2);
      const dispatched = stream.blocks.filter((block) => block.data !== undefined);
      expect(dispatched.map((event) => event.event)).toEqual(['inbox', 'job-match', 'job-match']);
      expect(stateOf(dispatched[0])).toEqual({ unread: 2, readUpTo: '0-0' });
    });

    it('coalesces a burst into one event that carries its last state', async () => {
      const user = randomUserId();
      const stream = await sse(user);
      await untilInbox(stream, { unread: 0, readUpTo: '0-0' });
      const batch = await request(gateway.url)
        .post('/api/notifications/batch')
        .set('X-Api-Key', TEST_API_KEY)
        .send({ items: [1, 2, 3].map((i) => ({ userId: user, type: 'job-match', data: { i } })) });
      expect(batch.status).toBe(202);
      await stream.waitForEvents(3);
      await untilInbox(stream, { unread: 3, readUpTo: '0-0' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(inboxEvents(stream).map(stateOf)).toEqual([
        { unread: 0, readUpTo: '0-0' },
        { unread: 3, readUpTo: '0-0' },
      ]);
    });
  });

  describe('Socket.IO', () => {
    it('sends inbox first on connect and on every change, and marks read with inbox:read', async () => {
      const user = randomUserId();
      const [a, b] = await publishMany(user, 2);
      const phone = await socket(user);
      const laptop = await socket(user);
      await phone.waitForEvent('inbox');
      expect(phone.all[0]).toEqual(['inbox', { unread: 2, readUpTo: '0-0' }]);
      const ack = await phone.request<Ack>('inbox:read', { ids: [a] });
      expect(ack).toEqual({ ok: true, unread: 1, readUpTo: a });
      await waitFor(() => JSON.stringify(laptop.eventsNamed('inbox').at(-1)) === JSON.stringify({ unread: 1, readUpTo: a }), 'the laptop to hear the read');
      expect(await laptop.request<Ack>('inbox:read', { upTo: b })).toEqual({ ok: true, unread: 0, readUpTo: b });
      await waitFor(() => JSON.stringify(phone.eventsNamed('inbox').at(-1)) === JSON.stringify({ unread: 0, readUpTo: b }), 'the phone to hear it');
    });

    it.each([
      [{ ids: ['bad'] }, 'ids[0]'],
      [{}, 'ids'],
      ['read all', 'body'],
    ])('refuses %j with invalid_payload naming %s, keeping the connection', async (payload, field) => {
      const client = await socket(randomUserId());
      expect(await client.request<Ack>('inbox:read', payload)).toEqual({ ok: false, error: 'invalid_payload', field });
      expect(client.socket.connected).toBe(true);
    });
  });

  describe('several instances', () => {
    it('keep the count exact under concurrent publishes and reads, and every connection ends on it', async () => {
      const other = await startGateway({ sharedPrefix: gateway.config.redisKeyPrefix, env: { HISTORY_MAX_PER_USER: String(HISTORY) } });
      try {
        const user = randomUserId();
        const here = await sse(user);
        const there = await socket(user, other.url);
        await untilInbox(here, { unread: 0, readUpTo: '0-0' });
        await there.waitForEvent('inbox');
        const published: string[] = [];
        const reads: Array<Promise<unknown>> = [];
        await Promise.all(
          Array.from({ length: 4 }, async (_, lane) => {
            for (let i = 0; i < 10; i++) {
              const url = (lane + i) % 2 === 0 ? gateway.url : other.url;
              const id = await publish(url, user, 'job-match', { lane, i });
              published.push(id);
              if (i % 3 === 0) reads.push(markRead(user, { ids: [id] }, url));
            }
          }),
        );
        await Promise.all(reads);
        const page = await readFlags(user);
        const truth = page.filter(([, read]) => !read).length;
        expect(page).toHaveLength(HISTORY);
        const final = await unread(user, other.url);
        expect(final.unread).toBe(truth);
        await untilInbox(here, final);
        await waitFor(() => JSON.stringify(there.eventsNamed('inbox').at(-1)) === JSON.stringify(final), 'the socket on the other instance to end on the same state');
      } finally {
        await other.close();
      }
    });

    it('keep the state across a restart: it lives in Redis', async () => {
      const user = randomUserId();
      const [a] = await publishMany(user, 2);
      await markRead(user, { ids: [a] });
      const restarted = await startGateway({ sharedPrefix: gateway.config.redisKeyPrefix });
      try {
        expect(await unread(user, restarted.url)).toEqual({ unread: 1, readUpTo: a });
      } finally {
        await restarted.close();
      }
    });
  });
});
