import type { Socket as TcpSocket } from 'node:net';
import type { Server } from 'socket.io';
import request from 'supertest';
import { RealtimeGateway } from '../apps/gateway/src/realtime/realtime.gateway';
import { createRealtimeClient, type DeliveryMeta, type RealtimeClient, type TopicEvent, type TransportName } from '../libs/client/src';
import { closeAfterEach } from './support/close-after-each';
import { randomUserId } from './support/prefix';
import { publish } from './support/publish';
import { startGateway, TEST_API_KEY, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * client.subscribe(topic, handler) of libs/client in Node against the real
 * gateway: each channel carries the topic, every event arrives once and in
 * order across forced reconnects (the client resumes each topic after the
 * last id it delivered: an SSE cursor it builds itself, a new topic:subscribe),
 * and a topic the user may not follow is reported, not retried.
 */
describe('libs/client topics', () => {
  let gateway: TestGateway;
  const track = closeAfterEach();
  /** Every TCP connection the gateway accepted, so a test can cut them all (a network drop). */
  const connections = new Set<TcpSocket>();

  beforeAll(async () => {
    gateway = await startGateway({ env: { SSE_RETRY_MS: '200' } });
    gateway.app.getHttpServer().on('connection', (socket: TcpSocket) => {
      connections.add(socket);
      socket.once('close', () => connections.delete(socket));
    });
  });

  afterAll(async () => {
    await gateway.close();
  });

  const jobsTopic = () => `jobs.c-${Math.random().toString(36).slice(2, 10)}`;

  async function publishTo(topic: string, data: Record<string, unknown> = {}): Promise<string> {
    const response = await request(gateway.url).post(`/api/topics/${topic}/events`).set('X-Api-Key', TEST_API_KEY).send({ type: 'job-posted', data });
    if (response.status !== 202) throw new Error(`topic publish answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body.id as string;
  }

  function connect(userId: string, transports: TransportName[], getToken = () => userToken(userId)) {
    const client = createRealtimeClient({ baseUrl: gateway.url, getToken, transports, pollIntervalMs: 200 });
    track(client);
    return client;
  }

  function follow(client: RealtimeClient, topic: string) {
    const received: Array<{ event: TopicEvent; meta: DeliveryMeta }> = [];
    const unsubscribe = client.subscribe(topic, (event, meta) => received.push({ event, meta }));
    return { received, ids: () => received.map(({ event }) => event.id), unsubscribe };
  }

  const live = (client: RealtimeClient, topic: string, channel: TransportName) =>
    waitFor(() => client.status.topics[topic]?.state === 'live' && client.status.channels[channel].state === 'open', `${topic} live on ${channel}`, 10_000);

  /** Publishes `count` events, one after another; their ids in order. */
  async function publishMany(topic: string, count: number, from = 0): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await publishTo(topic, { i: from + i }));
    return ids;
  }

  it.each([['sse'], ['socket.io'], ['polling']] as Array<[TransportName]>)('receives a topic from now on over %s alone, once and in order', async (channel) => {
    const topic = jobsTopic();
    const before = await publishTo(topic, { old: true });
    const client = connect(randomUserId(), [channel]);
    const jobs = follow(client, topic);
    const notifications: string[] = [];
    client.onNotification((notification) => notifications.push(notification.id));
    await live(client, topic, channel);
    const published = await publishMany(topic, 5);
    await waitFor(() => jobs.received.length >= 5, 'five events', 10_000);
    expect(jobs.ids()).toEqual(published);
    expect(jobs.ids()).not.toContain(before);
    expect(jobs.received.every(({ event, meta }) => event.topic === topic && event.type === 'job-posted' && meta.channel === channel)).toBe(true);
    expect(notifications).toEqual([]);
  });

  it('SSE: after the connection drops, resumes the topic and the notifications with no gap and no duplicate', async () => {
    const userId = randomUserId();
    const topic = jobsTopic();
    const client = connect(userId, ['sse']);
    const jobs = follow(client, topic);
    const notifications: string[] = [];
    client.onNotification((notification) => notifications.push(notification.id));
    await live(client, topic, 'sse');
    const published = await publishMany(topic, 3);
    const notified = [await publish(gateway.url, userId)];
    await waitFor(() => jobs.received.length >= 3 && notifications.length >= 1, 'the first events', 10_000);

    for (const socket of connections) socket.destroy();
    published.push(...(await publishMany(topic, 3, 3)));
    notified.push(await publish(gateway.url, userId));
    await waitFor(() => client.status.channels.sse.reconnects >= 1 && client.status.channels.sse.state === 'open', 'the stream to come back', 10_000);
    published.push(...(await publishMany(topic, 2, 6)));
    await waitFor(() => jobs.received.length >= published.length && notifications.length >= 2, 'every event', 10_000);
    expect(jobs.ids()).toEqual(published);
    expect(notifications).toEqual(notified);
  });

  it('SSE: a stream the client opens itself (a topic added, a fresh token) resumes every stream from a cursor it builds', async () => {
    const userId = randomUserId();
    const [first, second] = [jobsTopic(), jobsTopic()];
    let issued = 0;
    // Each token lives 2 s: the stream ends with token-expired, and the client opens a new one.
    const client = connect(userId, ['sse'], () => (issued++, userToken(userId, { expiresInSeconds: 2 })));
    const firstJobs = follow(client, first);
    const notifications: string[] = [];
    client.onNotification((notification) => notifications.push(notification.id));
    await live(client, first, 'sse');
    const publishedFirst = [await publishTo(first)];
    // A second topic: a new stream with both topics, while the first one keeps publishing.
    const secondJobs = follow(client, second);
    const publishedSecond: string[] = [];
    const notified: string[] = [];
    const deadline = Date.now() + 3_500;
    while (Date.now() < deadline) {
      publishedFirst.push(await publishTo(first));
      publishedSecond.push(await publishTo(second));
      notified.push(await publish(gateway.url, userId));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await waitFor(() => firstJobs.received.length >= publishedFirst.length && notifications.length >= notified.length, 'every event of the first topic', 10_000);
    expect(firstJobs.ids()).toEqual(publishedFirst);
    expect(notifications).toEqual(notified);
    // The second topic starts from its newest event when it was added: a suffix of what was published, none missing after its start.
    await waitFor(() => secondJobs.received.length > 0 && secondJobs.ids().at(-1) === publishedSecond.at(-1), 'the second topic to catch up', 10_000);
    expect(publishedSecond.slice(publishedSecond.indexOf(secondJobs.ids()[0]))).toEqual(secondJobs.ids());
    expect(issued).toBeGreaterThanOrEqual(2);
  });

  it('Socket.IO: subscribes again after the socket reconnects, from the last id, with no gap and no duplicate', async () => {
    const topic = jobsTopic();
    const client = connect(randomUserId(), ['socket.io']);
    const jobs = follow(client, topic);
    await live(client, topic, 'socket.io');
    const published = await publishMany(topic, 3);
    await waitFor(() => jobs.received.length >= 3, 'the first events', 10_000);

    // Close every transport, as the gateway does to a socket that falls behind: the client reconnects by itself.
    const server = (gateway.app.get(RealtimeGateway) as unknown as { server: Server }).server;
    for (const socket of server.sockets.sockets.values()) socket.conn.close();
    published.push(...(await publishMany(topic, 3, 3)));
    await waitFor(() => client.status.channels['socket.io'].reconnects >= 1 && client.status.channels['socket.io'].state === 'open', 'the socket to come back', 10_000);
    published.push(...(await publishMany(topic, 2, 6)));
    await waitFor(() => jobs.received.length >= published.length, 'every event', 10_000);
    expect(jobs.ids()).toEqual(published);
  });

  it('reports a topic the user may not follow as forbidden, and keeps the others flowing on every channel', async () => {
    const topic = jobsTopic();
    const forbidden = `scores.c-${Math.random().toString(36).slice(2, 10)}`;
    const client = connect(randomUserId(), ['sse', 'socket.io']);
    const errors: string[] = [];
    const scores: TopicEvent[] = [];
    client.subscribe(forbidden, (event) => scores.push(event), { onError: (error) => errors.push(error) });
    const jobs = follow(client, topic);
    await waitFor(() => errors.length > 0, 'the refusal', 10_000);
    expect(errors).toEqual(['forbidden']);
    expect(client.status.topics[forbidden]).toMatchObject({ state: 'refused', error: 'forbidden' });
    await live(client, topic, 'sse');
    await live(client, topic, 'socket.io');
    const published = await publishMany(topic, 2);
    await publishTo(forbidden);
    await waitFor(() => jobs.received.length >= 2, 'the allowed topic', 10_000);
    expect(jobs.ids()).toEqual(published);
    expect(scores).toEqual([]);
    expect(errors).toEqual(['forbidden']);
  });
});
