import request from 'supertest';
import { compareNotificationIds, NotificationFanout, RedisKeys } from '@app/notifications';
import { SseConnections } from '../apps/gateway/src/events/sse-connections';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { primariesOf, testRedisClient } from './support/redis';
import { connectSocket, connected } from './support/socket-client';
import { openSse, type RawSseStream, type SseEvent } from './support/sse-client';
import { startGateway, TEST_API_KEY, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { closeAfterEach } from './support/close-after-each';
import { waitFor } from './support/wait-for';

type Ack = { ok: boolean; error?: string; field?: string; lastEventId?: string; [key: string]: unknown };
type TopicEvent = { id: string; topic: string; type: string; data: Record<string, unknown>; createdAt: string };

const HISTORY = 5;

/** The contract's section "Topics: broadcast streams", line by line, over real clients. */
describe('topics', () => {
  let gateway: TestGateway;

  /** A fresh topic under the public `jobs.*` or under a name only a claim grants. */
  const topicName = (under = 'scores') => `${under}.t-${Math.random().toString(36).slice(2, 10)}`;
  const publishTo = async (topic: string, data: Record<string, unknown> = {}, type = 'score', idempotencyKey?: string) => {
    const response = await request(gateway.url)
      .post(`/api/topics/${topic}/events`)
      .set('X-Api-Key', TEST_API_KEY)
      .send({ type, data, ...(idempotencyKey ? { idempotencyKey } : {}) });
    if (response.status !== 202) throw new Error(`topic publish answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body.id as string;
  };
  const publishMany = async (topic: string, count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await publishTo(topic, { i }));
    return ids;
  };
  const track = closeAfterEach();
  const sse = async (userId: string, query: string, headers: Record<string, string> = {}, claims: Record<string, unknown> = {}) =>
    track(await openSse(gateway.url, `/api/events${query}`, { Authorization: `Bearer ${userToken(userId, { claims })}`, ...headers }));
  const socket = async (userId: string, claims: Record<string, unknown> = {}) => {
    const client = track(connectSocket(gateway.url, userId, { token: userToken(userId, { claims }) }));
    await connected(client);
    return client;
  };
  const dataOf = (event: SseEvent) => JSON.parse(event.data as string) as Record<string, unknown>;
  /** The ids of the events a stream received, as the streams they belong to see them. */
  const entryIds = (stream: RawSseStream) => stream.events.filter((event) => event.event !== 'reset').map((event) => dataOf(event).id);

  beforeAll(async () => {
    gateway = await startGateway({ env: { TOPIC_HISTORY_MAX: String(HISTORY), PUBLIC_TOPICS: 'jobs.*,news' } });
  });


  afterAll(async () => {
    await gateway.close();
  });

  describe('POST /api/topics/:topic/events', () => {
    it('answers 202 with ids strictly increasing per topic, and the same id for a repeated idempotency key', async () => {
      const topic = topicName();
      const ids = await publishMany(topic, 4);
      expect(ids.slice(1).every((id, i) => compareNotificationIds(ids[i], id) < 0)).toBe(true);
      const first = await publishTo(topic, { once: true }, 'score', 'key-1');
      expect(await publishTo(topic, { once: 'again' }, 'score', 'key-1')).toBe(first);
      const token = userToken(randomUserId(), { claims: { topics: [topic] } });
      const page = await request(gateway.url).get(`/api/topics/${topic}/events?limit=200`).set('Authorization', `Bearer ${token}`);
      expect(page.body.items.filter((event: TopicEvent) => event.data.once !== undefined)).toHaveLength(1);
    });

    it.each([
      ['topic', 'Bad.Topic', { type: 'score', data: {} }],
      ['topic', `${'a'.repeat(129)}`, { type: 'score', data: {} }],
      ['type', 'scores.x', { type: 'Not A Type', data: {} }],
      ['data', 'scores.x', { type: 'score', data: [] }],
      ['data', 'scores.x', { type: 'score', data: { big: 'x'.repeat(64 * 1024) } }],
      ['idempotencyKey', 'scores.x', { type: 'score', data: {}, idempotencyKey: 'has space' }],
      ['userId', 'scores.x', { type: 'score', data: {}, userId: 'u1' }],
    ])('refuses a bad %s with a 400 naming it, storing nothing', async (field, topic, body) => {
      const response = await request(gateway.url).post(`/api/topics/${topic}/events`).set('X-Api-Key', TEST_API_KEY).send(body);
      expect(response.status).toBe(400);
      expect(response.body.field).toBe(field);
    });

    it('is for internal services only', async () => {
      const response = await request(gateway.url).post(`/api/topics/${topicName()}/events`).send({ type: 'score', data: {} });
      expect(response.status).toBe(401);
    });
  });

  describe('GET /api/topics/:topic/events', () => {
    it('lists a followed topic as polling does: events in the contract shape, oldest first, paged by after and limit', async () => {
      const topic = topicName('jobs');
      const ids = await publishMany(topic, 3);
      const token = userToken(randomUserId());
      const first = await request(gateway.url).get(`/api/topics/${topic}/events?limit=2`).set('Authorization', `Bearer ${token}`);
      expect(first.status).toBe(200);
      expect(first.body.items.map((event: TopicEvent) => event.id)).toEqual(ids.slice(0, 2));
      expect(first.body.lastId).toBe(ids[1]);
      const [event] = first.body.items as TopicEvent[];
      expect(Object.keys(event)).toEqual(['id', 'topic', 'type', 'data', 'createdAt']);
      expect(event).toMatchObject({ id: ids[0], topic, type: 'score', data: { i: 0 } });
      const rest = await request(gateway.url).get(`/api/topics/${topic}/events?after=${ids[1]}`).set('Authorization', `Bearer ${token}`);
      expect(rest.body).toEqual({ items: [expect.objectContaining({ id: ids[2] })], lastId: ids[2] });
    });

    it('says history-truncated after TOPIC_HISTORY_MAX events, and answers an unknown cursor with the newest position', async () => {
      const topic = topicName('jobs');
      const ids = await publishMany(topic, HISTORY + 3);
      const token = userToken(randomUserId());
      const trimmed = await request(gateway.url).get(`/api/topics/${topic}/events?after=${ids[0]}`).set('Authorization', `Bearer ${token}`);
      expect(trimmed.body.reset).toEqual({ reason: 'history-truncated' });
      expect(trimmed.body.items.map((event: TopicEvent) => event.id)).toEqual(ids.slice(3));
      const ahead = await request(gateway.url).get(`/api/topics/${topic}/events?after=99999999999999-0`).set('Authorization', `Bearer ${token}`);
      expect(ahead.body).toEqual({ items: [], lastId: ids[ids.length - 1], reset: { reason: 'unknown-cursor' } });
    });

    it('follows the topics claim and PUBLIC_TOPICS: anyone else gets 403 and nothing of the topic', async () => {
      const topic = topicName('scores');
      await publishTo(topic, { secret: true });
      const get = (claims: Record<string, unknown>) =>
        request(gateway.url).get(`/api/topics/${topic}/events`).set('Authorization', `Bearer ${userToken(randomUserId(), { claims })}`);
      const refused = await get({});
      expect(refused.status).toBe(403);
      expect(JSON.stringify(refused.body)).not.toContain('secret');
      expect((await get({ topics: ['scores.*'] })).status).toBe(200);
      expect((await get({ topics: [topic] })).status).toBe(200);
      expect((await get({ topics: ['scores.other'] })).status).toBe(403);
      expect((await get({ topics: 'scores.*' })).status).toBe(403);
      expect((await request(gateway.url).get(`/api/topics/news/events`).set('Authorization', `Bearer ${userToken(randomUserId())}`)).status).toBe(200);
      expect((await request(gateway.url).get(`/api/topics/${topic}/events`)).status).toBe(401);
    });
  });

  describe('SSE ?topics=', () => {
    it('carries the user\'s notifications and its topics on one connection, each event\'s id the connection\'s cursor', async () => {
      const userId = randomUserId();
      const [jobs, news] = [topicName('jobs'), 'news'];
      const stream = await sse(userId, `?topics=${jobs},${news}`);
      expect(stream.status).toBe(200);
      await waitFor(() => stream.blocks.length > 0, 'the opening block');
      expect(stream.blocks[0].id).toMatch(/^r1\.u_/);
      const own = await publish(gateway.url, userId, 'job-match', { mine: true });
      const jobEvent = await publishTo(jobs, { job: 1 }, 'job-posted');
      const newsEvent = await publishTo(news, { headline: 'x' }, 'headline');
      const events = await stream.waitForEvents(3);
      expect(entryIds(stream)).toEqual(expect.arrayContaining([own, jobEvent, newsEvent]));
      expect(events.find((event) => dataOf(event).id === jobEvent)).toMatchObject({ event: 'job-posted' });
      expect(dataOf(events.find((event) => dataOf(event).id === newsEvent) as SseEvent)).toMatchObject({ topic: 'news', type: 'headline' });
      for (const event of events) expect(event.id).toMatch(/^r1\./);
      expect(new Set(events.map((event) => event.id)).size).toBe(3);
    });

    it('resumes every stream with Last-Event-ID, with no gap and no duplicate', async () => {
      const userId = randomUserId();
      const [a, b] = [topicName('jobs'), topicName('jobs')];
      const first = await sse(userId, `?topics=${a},${b}`);
      const before = [await publishTo(a, { n: 1 }), await publishTo(b, { n: 2 }), await publish(gateway.url, userId)];
      await first.waitForEvents(3);
      const cursor = first.events[first.events.length - 1].id as string;
      first.close();
      const missed = [await publishTo(b, { n: 3 }), await publish(gateway.url, userId), await publishTo(a, { n: 4 }), await publishTo(a, { n: 5 })];
      const second = await sse(userId, `?topics=${a},${b}`, { 'Last-Event-ID': cursor });
      await second.waitForEvents(4);
      const live = await publishTo(b, { n: 6 });
      await second.waitForEvents(5);
      expect(entryIds(second).sort()).toEqual([...missed, live].sort());
      expect(entryIds(second)).not.toEqual(expect.arrayContaining([before[0]]));
      // In order within each stream.
      const ofA = second.events.map(dataOf).filter((event) => event.topic === a).map((event) => event.id);
      expect(ofA).toEqual(missed.slice(2));
    });

    it('keeps a 20-topic cursor well under a kilobyte', async () => {
      const topics = Array.from({ length: 20 }, () => topicName('jobs').padEnd(100, 'x'));
      const stream = await sse(randomUserId(), `?topics=${topics.join(',')}`);
      await publishTo(topics[19], {});
      const [event] = await stream.waitForEvents(1);
      expect((event.id as string).length).toBeLessThan(600);
    });

    it('sends a topic trimmed past the cursor a reset naming it, then what it still has', async () => {
      const userId = randomUserId();
      const topic = topicName('jobs');
      const first = await sse(userId, `?topics=${topic}`);
      await publishTo(topic, { n: 0 });
      await first.waitForEvents(1);
      const cursor = first.events[0].id as string;
      first.close();
      const later = await publishMany(topic, HISTORY + 2);
      const second = await sse(userId, `?topics=${topic}`, { 'Last-Event-ID': cursor });
      await second.waitForEvents(1 + HISTORY);
      expect(second.events[0].event).toBe('reset');
      expect(dataOf(second.events[0])).toEqual({ reason: 'history-truncated', topic });
      expect(entryIds(second)).toEqual(later.slice(2));
    });

    it('answers a forged or oversized cursor with a reset per stream, and goes on live', async () => {
      const userId = randomUserId();
      const topic = topicName('jobs');
      await publishTo(topic, {});
      for (const cursor of ['r1.u_zzzzzzzzz.0badf00d_zz', `r1.u_1${'.00000000_1'.repeat(200)}`, 'r1.garbage', 'not-a-cursor']) {
        const stream = await sse(userId, `?topics=${topic}`, { 'Last-Event-ID': cursor });
        await waitFor(() => stream.events.length > 0 || null, 'a reset');
        expect(stream.events[0].event).toBe('reset');
        expect(dataOf(stream.events[0]).reason).toBe('unknown-cursor');
        const id = await publishTo(topic, { after: cursor.slice(0, 10) });
        await waitFor(() => entryIds(stream).includes(id) || null, 'the next live event');
        stream.close();
      }
      const query = await request(gateway.url).get(`/api/events?topics=${topic}&lastEventId=r1.garbage`).set('Authorization', `Bearer ${userToken(userId)}`);
      expect(query.status).toBe(400);
      expect(query.body.field).toBe('lastEventId');
    });

    it('refuses a topic the user may not follow with 403 before anything is sent, and bad topic lists with 400', async () => {
      const userId = randomUserId();
      const topic = topicName('scores');
      const get = (query: string, claims: Record<string, unknown> = {}) =>
        request(gateway.url).get(`/api/events${query}`).set('Authorization', `Bearer ${userToken(userId, { claims })}`);
      expect((await get(`?topics=news,${topic}`)).status).toBe(403);
      const allowed = await sse(userId, `?topics=${topic}`, {}, { topics: ['scores.*'] });
      expect(allowed.status).toBe(200);
      const tooMany = Array.from({ length: 21 }, (_, i) => `jobs.n${i}`).join(',');
      expect((await get(`?topics=${tooMany}`)).body).toMatchObject({ statusCode: 400, field: 'topics' });
      expect((await get('?topics=Bad!')).body).toMatchObject({ statusCode: 400, field: 'topics' });
    });

    it('subscribes each topic once per process, however many connections follow it', async () => {
      const topic = topicName('jobs');
      const fanout = gateway.app.get(NotificationFanout);
      // The streams of earlier tests are gone once their connections are.
      await waitFor(() => gateway.app.get(SseConnections).size === 0 || null, 'earlier streams to close');
      const before = fanout.subscribedStreamCount();
      const followers = await Promise.all(Array.from({ length: 8 }, () => sse(randomUserId(), `?topics=${topic}`)));
      expect(fanout.subscribedStreamCount()).toBe(before + 8 + 1);
      // Counted on every primary: on a cluster only the one that owns the topic's slot has it.
      const redis = testRedisClient({ lazyConnect: true });
      await redis.connect();
      const channel = new RedisKeys(gateway.config.redisKeyPrefix).topicFeed(topic).channel;
      const counts = await Promise.all(primariesOf(redis).map(async (node) => Number(((await node.pubsub('SHARDNUMSUB', channel)) as [string, number])[1])));
      redis.disconnect();
      expect(counts.reduce((sum, count) => sum + count, 0)).toBe(1);
      const id = await publishTo(topic, { broadcast: true });
      for (const follower of followers) await waitFor(() => entryIds(follower).includes(id) || null, 'the broadcast');
    });
  });

  describe('Socket.IO topic:subscribe', () => {
    it('acks where it starts, replays after lastEventId, then goes live; events by type with the event as payload', async () => {
      const topic = topicName('jobs');
      const ids = await publishMany(topic, 3);
      const client = await socket(randomUserId());
      const ack = await client.request<Ack>('topic:subscribe', { topic, lastEventId: ids[0] });
      expect(ack).toEqual({ ok: true, lastEventId: ids[0] });
      await client.waitForEvent('score', 2);
      const live = await publishTo(topic, { live: true });
      const events = await client.waitForEvent<TopicEvent>('score', 3);
      expect(events.map((event) => event.id)).toEqual([ids[1], ids[2], live]);
      expect(events[2]).toMatchObject({ topic, type: 'score', data: { live: true } });
    });

    it('starts live from the newest without lastEventId, and stops on topic:unsubscribe', async () => {
      const topic = topicName('jobs');
      const [newest] = await publishMany(topic, 1);
      const client = await socket(randomUserId());
      expect(await client.request<Ack>('topic:subscribe', { topic })).toEqual({ ok: true, lastEventId: newest });
      const live = await publishTo(topic, {});
      await client.waitForEvent('score', 1);
      expect(await client.request<Ack>('topic:unsubscribe', { topic })).toEqual({ ok: true });
      await publishTo(topic, { after: 'unsubscribe' });
      // A later event of another topic the socket follows shows that anything of the first would have come by now.
      const other = topicName('jobs');
      await client.request<Ack>('topic:subscribe', { topic: other });
      await publishTo(other, {}, 'marker');
      await client.waitForEvent('marker', 1);
      expect(client.eventsNamed<TopicEvent>('score').map((event) => event.id)).toEqual([live]);
    });

    it('sends a topic reset with the topic and where it continues, and refuses what may not be followed', async () => {
      const topic = topicName('jobs');
      const ids = await publishMany(topic, HISTORY + 2);
      const client = await socket(randomUserId());
      await client.request<Ack>('topic:subscribe', { topic, lastEventId: ids[0] });
      const [reset] = await client.waitForEvent('reset', 1);
      expect(reset).toMatchObject({ reason: 'history-truncated', topic });
      expect(await client.request<Ack>('topic:subscribe', { topic: topicName('scores') })).toEqual({ ok: false, error: 'forbidden' });
      expect(await client.request<Ack>('topic:subscribe', { topic: 'Bad Topic' })).toMatchObject({ ok: false, error: 'invalid_payload', field: 'topic' });
      expect(await client.request<Ack>('topic:subscribe', { topic, lastEventId: 'nope' })).toMatchObject({ ok: false, error: 'bad_cursor', field: 'lastEventId' });
      const claimed = await socket(randomUserId(), { topics: ['scores.*'] });
      expect(await claimed.request<Ack>('topic:subscribe', { topic: topicName('scores') })).toMatchObject({ ok: true });
    });

    it('follows at most 20 topics per socket', async () => {
      const client = await socket(randomUserId());
      for (let i = 0; i < 20; i++) expect(await client.request<Ack>('topic:subscribe', { topic: `jobs.cap${i}` })).toMatchObject({ ok: true });
      expect(await client.request<Ack>('topic:subscribe', { topic: 'jobs.cap20' })).toEqual({ ok: false, error: 'too_many_topics' });
    });
  });

  describe('POST /api/notifications/batch', () => {
    it('publishes many users in one call, answering the ids in order', async () => {
      const users = [randomUserId(), randomUserId(), randomUserId()];
      const items = users.map((userId, i) => ({ userId, type: 'job-match', data: { i } }));
      const response = await request(gateway.url).post('/api/notifications/batch').set('X-Api-Key', TEST_API_KEY).send({ items });
      expect(response.status).toBe(202);
      expect(response.body.ids).toHaveLength(3);
      for (const [i, userId] of users.entries()) {
        const page = await request(gateway.url).get('/api/notifications').set('Authorization', `Bearer ${userToken(userId)}`);
        expect(page.body.items.map((item: { id: string }) => item.id)).toEqual([response.body.ids[i]]);
      }
    });

    it('refuses the whole batch when one item is bad, naming it, and stores nothing', async () => {
      const userId = randomUserId();
      const items = [0, 1, 2, 3].map((i) => ({ userId, type: i === 3 ? 'Bad Type' : 'job-match', data: {} }));
      const response = await request(gateway.url).post('/api/notifications/batch').set('X-Api-Key', TEST_API_KEY).send({ items });
      expect(response.status).toBe(400);
      expect(response.body.field).toBe('items[3].type');
      const page = await request(gateway.url).get('/api/notifications').set('Authorization', `Bearer ${userToken(userId)}`);
      expect(page.body.items).toEqual([]);
    });

    it.each([
      ['no items', { items: [] }],
      ['too many', { items: Array.from({ length: 1001 }, () => ({ userId: 'u', type: 'a', data: {} })) }],
      ['not an array', { items: 'x' }],
    ])('refuses %s with a 400 naming items', async (_, body) => {
      const response = await request(gateway.url).post('/api/notifications/batch').set('X-Api-Key', TEST_API_KEY).send(body);
      expect(response.status).toBe(400);
      expect(response.body.field).toBe('items');
    });

    it('keeps idempotency per item', async () => {
      const userId = randomUserId();
      const item = { userId, type: 'job-match', data: {}, idempotencyKey: 'batch-1' };
      const send = () => request(gateway.url).post('/api/notifications/batch').set('X-Api-Key', TEST_API_KEY).send({ items: [item, item] });
      const first = await send();
      const second = await send();
      expect(first.body.ids[0]).toBe(first.body.ids[1]);
      expect(second.body.ids).toEqual(first.body.ids);
    });
  });
});
