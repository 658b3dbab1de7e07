import { Job, Queue } from 'bullmq';
import request from 'supertest';
import { JOB_NAMES, QUEUES } from '@app/job-matching';
import { USER_ID_RULE } from '@app/notifications';
import { publish } from './support/publish';
import { type RedisClient, testQueue, testRedisClient } from './support/redis';
import { connectSocket, connected, type TestSocket } from './support/socket-client';
import { openSse, type RawSseStream, type SseEvent } from './support/sse-client';
import { startGateway, TEST_API_KEY, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * Contract, Identity: a user id is 1 to 128 characters (code points) of any
 * script, without control characters, and works the same on every channel.
 */

type Notification = { id: string; type: string; userId: string; data: Record<string, unknown>; createdAt: string };
type Ack = { ok: boolean; error?: string; field?: string; [key: string]: unknown };

const randomEmoji = () => String.fromCodePoint(0x1f600 + Math.floor(Math.random() * 80));
/** 128 code points, 256 UTF-16 units: the limit counts characters, not units. */
const EMOJI_128 = Array.from({ length: 128 }, randomEmoji).join('');

const VALID: Array<[string, string]> = [
  ['Latin, Han and an emoji', 'ü-用户-x-🚀'],
  ['Greek', 'Ωμέγα'],
  ['128 emoji', EMOJI_128],
  ['a ZWJ sequence and a combining mark', '👩‍👩‍👧-e\u0301'],
  ['ASCII', 'plain-ascii'],
];

const INVALID: Array<[string, string]> = [
  ['a BEL', 'a\u0007b'],
  ['a newline', 'a\nb'],
  ['a DEL', 'a\u007fb'],
  ['nothing', ''],
  ['129 emoji', EMOJI_128 + randomEmoji()],
  ['a lone high surrogate', 'a\ud83db'],
  ['a lone low surrogate', '\ude80'],
  ['a space', 'a b'],
  ['a no-break space', 'a\u00a0b'],
  ['an ideographic space', '用\u3000户'],
  ['a line separator', 'a\u2028b'],
];

/** The same shape with a random tail, so tests never share a user; an id at the limit stays at it. */
function fresh(base: string): string {
  const points = [...base];
  if (points.length <= 120) return `${base}~${Math.random().toString(36).slice(2, 8)}`;
  return [...points.slice(0, points.length - 6), ...Array.from({ length: 6 }, randomEmoji)].join('');
}

const notificationsOf = (stream: RawSseStream): SseEvent[] => stream.events.filter((event) => event.event !== 'inbox');

describe('Unicode user ids on every channel', () => {
  let gateway: TestGateway;
  let redis: RedisClient;
  let queue: Queue;
  const streams: RawSseStream[] = [];
  const clients: TestSocket[] = [];

  const sse = async (query: string, headers: Record<string, string>, target = gateway) => {
    const stream = await openSse(target.url, `/api/events${query}`, headers);
    streams.push(stream);
    return stream;
  };
  const socket = async (userId: string, options: Parameters<typeof connectSocket>[2] = {}, target = gateway) => {
    const client = connectSocket(target.url, userId, options);
    clients.push(client);
    await connected(client);
    return client;
  };
  const sseNotifications = (stream: RawSseStream, count: number) =>
    waitFor(() => (notificationsOf(stream).length >= count ? notificationsOf(stream) : null), `${count} SSE notification(s)`);
  const bearer = (userId: string) => ({ Authorization: `Bearer ${userToken(userId)}` });
  const enqueue = (data: Record<string, unknown>) => queue.add(JOB_NAMES.notify, data);
  const settled = async (job: Job) => {
    await waitFor(async () => ['completed', 'failed'].includes(await job.getState()), `job ${job.id} to settle`, 10_000);
    return (await Job.fromId(queue, job.id as string)) as Job;
  };

  beforeAll(async () => {
    gateway = await startGateway({ env: { WORKER_EMBEDDED: 'true', DEV_TOKENS: 'true' } });
    redis = testRedisClient();
    queue = testQueue(QUEUES.notifications, gateway.config);
  });

  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await queue.close();
    redis.disconnect();
    await gateway.close();
  });

  describe.each(VALID)('a user id of %s', (_, base) => {
    it('receives what REST and the notify queue publish on SSE (header, cookie, query), Socket.IO (auth.token, header) and polling', async () => {
      const userId = fresh(base);
      const token = userToken(userId);
      const byHeader = await sse('', { Authorization: `Bearer ${token}` });
      const byCookie = await sse('', { Cookie: `access_token=${token}`, 'Sec-Fetch-Site': 'same-origin' });
      const byQuery = await sse(`?access_token=${encodeURIComponent(token)}`, {});
      for (const stream of [byHeader, byCookie, byQuery]) expect(stream.status).toBe(200);
      const byAuth = await socket(userId, { token });
      const bySocketHeader = await socket(userId, { auth: {}, extraHeaders: { Authorization: `Bearer ${token}` } });

      const restId = await publish(gateway.url, userId, 'job-match', { via: 'rest' });
      const job = await settled(await enqueue({ userId, type: 'unicode.queued', data: { via: 'queue' } }));
      expect(job.failedReason).toBeUndefined();
      const queuedId = (job.returnvalue as { id: string }).id;

      for (const stream of [byHeader, byCookie, byQuery]) {
        const events = await sseNotifications(stream, 2);
        expect(events.map((event) => event.id)).toEqual([restId, queuedId]);
        expect(events.map((event) => (JSON.parse(event.data as string) as Notification).userId)).toEqual([userId, userId]);
      }
      for (const client of [byAuth, bySocketHeader]) {
        expect((await client.waitForEvent<Notification>('job-match'))[0]).toMatchObject({ id: restId, userId });
        expect((await client.waitForEvent<Notification>('unicode.queued'))[0]).toMatchObject({ id: queuedId, userId });
      }
      const polled = await request(gateway.url).get('/api/notifications').set('Authorization', `Bearer ${token}`);
      expect(polled.status).toBe(200);
      expect(polled.body.items.map((item: Notification) => [item.id, item.userId])).toEqual([
        [restId, userId],
        [queuedId, userId],
      ]);
      // The key is named by the id exactly as sent, not by a mangled or re-encoded form.
      expect(await redis.xlen(`${gateway.config.redisKeyPrefix}:history:{${userId}}`)).toBe(2);
    });

    it('resumes after Last-Event-ID on SSE and after auth.lastEventId on Socket.IO', async () => {
      const userId = fresh(base);
      const published: string[] = [];
      for (let i = 0; i < 3; i++) published.push(await publish(gateway.url, userId, 'job-match', { i }));
      const resumed = await sse('', { ...bearer(userId), 'Last-Event-ID': published[0] });
      expect((await sseNotifications(resumed, 2)).map((event) => event.id)).toEqual(published.slice(1));
      const client = await socket(userId, { auth: { token: userToken(userId), lastEventId: published[1] } });
      expect((await client.waitForEvent<Notification>('job-match')).map((item) => item.id)).toEqual(published.slice(2));
    });

    it('gets a direct chat on their sockets and, stored, on SSE and polling', async () => {
      const recipient = fresh(base);
      const sender = fresh('Ωμέγα-sender');
      const to = await socket(recipient);
      const stream = await sse('', bearer(recipient));
      const from = await socket(sender);
      const ack = await from.request<Ack>('chat', { recipientId: recipient, content: 'привет 👋' });
      expect(ack).toEqual({ ok: true, id: expect.any(String) });
      expect((await to.waitForEvent('chat'))[0]).toEqual({ id: ack.id, from: sender, content: 'привет 👋', timestamp: expect.any(String) });
      const [event] = await sseNotifications(stream, 1);
      expect(JSON.parse(event.data as string)).toMatchObject({ type: 'message-received', userId: recipient, data: { messageId: ack.id, from: sender } });
      const polled = await request(gateway.url).get('/api/notifications').set(bearer(recipient));
      expect(polled.body.items.map((item: Notification) => item.data.messageId)).toEqual([ack.id]);
    });

    it('keeps their saved searches', async () => {
      const userId = fresh(base);
      const created = await request(gateway.url).post('/api/saved-searches').set(bearer(userId)).send({ keywords: ['rust'] });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ userId, keywords: ['rust'] });
      const listed = await request(gateway.url).get('/api/saved-searches').set(bearer(userId));
      expect(listed.body.items.map((search: { id: string }) => search.id)).toEqual([created.body.id]);
    });

    it('gets a working dev token', async () => {
      const userId = fresh(base);
      const issued = await request(gateway.url).post('/api/dev/token').send({ userId });
      expect(issued.status).toBe(200);
      const stream = await sse('', { Authorization: `Bearer ${issued.body.token}` });
      expect(stream.status).toBe(200);
      const id = await publish(gateway.url, userId);
      expect((await sseNotifications(stream, 1))[0].id).toBe(id);
    });
  });

  it('reaches a Unicode user on another instance: notification fan-out and direct chat over the Socket.IO adapter', async () => {
    const second = await startGateway({ sharedPrefix: gateway.config.redisKeyPrefix });
    try {
      const recipient = fresh('ü-用户-x-🚀');
      const onSecond = await socket(recipient, {}, second);
      const stream = await sse('', bearer(recipient), second);
      const from = await socket(fresh('Ωμέγα'));
      const id = await publish(gateway.url, recipient);
      expect((await onSecond.waitForEvent<Notification>('job-match'))[0].id).toBe(id);
      expect((await sseNotifications(stream, 1))[0].id).toBe(id);
      const ack = await from.request<Ack>('chat', { recipientId: recipient, content: 'hi' });
      await waitFor(() => onSecond.eventsNamed('chat').some((message) => message.id === ack.id), 'the direct chat on the other instance');
    } finally {
      for (const client of clients.splice(0)) client.close();
      for (const stream of streams.splice(0)) stream.close();
      await second.close();
    }
  });

  describe.each(INVALID)('a user id with %s', (_, userId) => {
    it('is refused as a token: 401 on HTTP, connect_error "unauthorized" on Socket.IO', async () => {
      const token = userToken(userId);
      const stream = await sse('', { Authorization: `Bearer ${token}` });
      expect(stream.status).toBe(401);
      const polled = await request(gateway.url).get('/api/notifications').set('Authorization', `Bearer ${token}`);
      expect(polled.status).toBe(401);
      const client = connectSocket(gateway.url, userId, { token });
      clients.push(client);
      client.socket.io.opts.reconnection = false;
      await expect(connected(client)).rejects.toMatchObject({ message: 'unauthorized' });
    });

    it('is refused with 400 naming userId by publish and dev tokens, naming recipientId by chat, and fails a notify job', async () => {
      const published = await request(gateway.url).post('/api/notifications').set('X-Api-Key', TEST_API_KEY).send({ userId, type: 'job-match', data: {} });
      expect(published.status).toBe(400);
      expect(published.body).toMatchObject({ statusCode: 400, field: 'userId', message: `userId ${USER_ID_RULE}` });
      const issued = await request(gateway.url).post('/api/dev/token').send({ userId });
      expect(issued.body).toMatchObject({ statusCode: 400, field: 'userId' });
      const sender = await socket(fresh('sender'));
      expect(await sender.request('chat', { recipientId: userId, content: 'x' })).toEqual({ ok: false, error: 'invalid_payload', field: 'recipientId' });
      const job = await settled(await enqueue({ userId, type: 'job-match', data: {} }));
      expect(job.failedReason).toMatch(/userId/);
      expect(job.attemptsMade).toBe(1);
    });
  });
});
