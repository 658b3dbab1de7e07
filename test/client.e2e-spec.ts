import request from 'supertest';
import { createRealtimeClient, type DeliveryMeta, type InboxState, type Notification, type RealtimeClient, type TransportName } from '../libs/client/src';
import { closeAfterEach } from './support/close-after-each';
import { randomUserId } from './support/prefix';
import { publish } from './support/publish';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * libs/client in Node against the real gateway: the SSE transport on the
 * `eventsource` package (token and Last-Event-ID as headers), Socket.IO and
 * polling, each on its own, resuming and renewing tokens as the contract says.
 * The browser side is covered by browser.e2e-spec.ts.
 */
describe('libs/client in Node', () => {
  let gateway: TestGateway;
  const track = closeAfterEach();

  beforeAll(async () => {
    gateway = await startGateway({ env: { SSE_RETRY_MS: '200' } });
  });

  afterAll(async () => {
    await gateway.close();
  });

  function connect(userId: string, transports: TransportName[], options: { lastEventId?: string; getToken?: () => string } = {}) {
    const received: Array<{ notification: Notification; meta: DeliveryMeta }> = [];
    const client = createRealtimeClient({
      baseUrl: gateway.url,
      getToken: options.getToken ?? (() => userToken(userId)),
      transports,
      lastEventId: options.lastEventId,
      pollIntervalMs: 200,
    });
    track(client);
    client.onNotification((notification, meta) => received.push({ notification, meta }));
    const ids = () => received.map((entry) => entry.notification.id);
    return { client, received, ids };
  }

  const opened = (client: RealtimeClient, channel: TransportName) =>
    waitFor(() => client.status.channels[channel].state === 'open', `${channel} to open`, 10_000);

  it.each([['sse'], ['socket.io'], ['polling']] as Array<[TransportName]>)('receives what is published from now on over %s alone', async (channel) => {
    const userId = randomUserId();
    const before = await publish(gateway.url, userId, 'job-match', { title: 'old' });
    const { client, received, ids } = connect(userId, [channel]);
    const titles: string[] = [];
    client.on('job-match', (notification) => titles.push(notification.data.title));
    await opened(client, channel);
    const first = await publish(gateway.url, userId, 'job-match', { jobId: 'j1', title: 'Backend engineer', company: 'Acme', location: null, searchIds: [] });
    const second = await publish(gateway.url, userId, 'message-received', { messageId: 'm1', from: 'u7', content: 'hi', timestamp: new Date().toISOString() });
    await waitFor(() => received.length >= 2, 'two notifications', 10_000);
    expect(ids()).toEqual([first, second]);
    expect(ids()).not.toContain(before);
    expect(titles).toEqual(['Backend engineer']);
    expect(received.every((entry) => entry.meta.channel === channel)).toBe(true);
  });

  it.each([['sse'], ['socket.io'], ['polling']] as Array<[TransportName]>)('resumes after a stored id over %s, in order and without duplicates', async (channel) => {
    const userId = randomUserId();
    const seen = await publish(gateway.url, userId);
    const missed = [await publish(gateway.url, userId), await publish(gateway.url, userId)];
    const { ids } = connect(userId, [channel], { lastEventId: seen });
    await waitFor(() => ids().length >= 2, 'the missed notifications', 10_000);
    const live = await publish(gateway.url, userId);
    await waitFor(() => ids().length >= 3, 'the live notification', 10_000);
    expect(ids()).toEqual([...missed, live]);
  });

  it.each([['sse'], ['socket.io'], ['polling']] as Array<[TransportName]>)('keeps client.inbox over %s alone: from the start, on each publish and read, its own or another device\'s', async (channel) => {
    const userId = randomUserId();
    const [first, second] = [await publish(gateway.url, userId), await publish(gateway.url, userId)];
    const { client } = connect(userId, [channel]);
    const states: InboxState[] = [];
    client.inbox.onChange((state) => states.push(state));
    const inboxSays = (unread: number, readUpTo: string) =>
      waitFor(() => client.inbox.unread === unread && client.inbox.readUpTo === readUpTo, `inbox ${unread} up to ${readUpTo} over ${channel}; had ${JSON.stringify(states)}`, 10_000);
    // Right from the start: the stream's or socket's first event, or the first poll.
    await inboxSays(2, '0-0');
    const third = await publish(gateway.url, userId);
    await inboxSays(3, '0-0');

    expect(await client.inbox.markRead([second])).toEqual({ unread: 2, readUpTo: '0-0' });
    expect(client.inbox.unread).toBe(2);
    // Another device reads one: the channel tells this client.
    const elsewhere = await request(gateway.url).post('/api/notifications/read').set('Authorization', `Bearer ${userToken(userId)}`).send({ ids: [first] });
    expect(elsewhere.body).toEqual({ unread: 1, readUpTo: second });
    await inboxSays(1, second);
    // Everything up to the newest notification the client has: the one published after it connected.
    await waitFor(() => client.lastEventId === third, 'the live notification', 10_000);
    expect(await client.inbox.markAllRead()).toEqual({ unread: 0, readUpTo: third });
    await inboxSays(0, third);
    expect(states[0]).toEqual({ unread: 2, readUpTo: '0-0' });
    expect(states.at(-1)).toEqual({ unread: 0, readUpTo: third });
  });

  it('comes back with a fresh token after `token-expired` on SSE, and misses nothing published meanwhile', async () => {
    const userId = randomUserId();
    let issued = 0;
    // Each token lives 2 s: the stream ends with token-expired, and the client asks for another.
    const { client, ids } = connect(userId, ['sse'], { getToken: () => (issued++, userToken(userId, { expiresInSeconds: 2 })) });
    await opened(client, 'sse');
    const published: string[] = [];
    const deadline = Date.now() + 3_500;
    while (Date.now() < deadline) {
      published.push(await publish(gateway.url, userId));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await waitFor(() => ids().length >= published.length, 'every notification', 10_000);
    expect(ids()).toEqual(published);
    expect(issued).toBeGreaterThanOrEqual(2);
  });

  it('chats over Socket.IO: a direct message reaches the recipient as chat and as a stored message-received', async () => {
    const [alice, bob] = [randomUserId('alice'), randomUserId('bob')];
    const sender = connect(alice, ['socket.io']).client;
    const recipient = connect(bob, ['sse', 'socket.io']);
    const chats: unknown[] = [];
    recipient.client.onSocket('chat', (message) => chats.push(message));
    await Promise.all([opened(sender, 'socket.io'), opened(recipient.client, 'socket.io'), opened(recipient.client, 'sse')]);
    const ack = await sender.emit('chat', { recipientId: bob, content: 'psst' });
    expect(ack).toMatchObject({ ok: true });
    await waitFor(() => chats.length === 1 && recipient.received.length === 1, 'the chat and its notification', 10_000);
    expect(recipient.received[0].notification).toMatchObject({ type: 'message-received', data: { from: alice, content: 'psst' } });
    expect(chats[0]).toMatchObject({ from: alice, content: 'psst' });

    const room = `room-${Math.random().toString(36).slice(2, 8)}`;
    expect(await sender.joinRoom(room)).toEqual({ ok: true, members: [alice] });
    expect(await recipient.client.joinRoom(room)).toMatchObject({ ok: true });
    const roomChats: unknown[] = [];
    sender.onSocket('chat', (message) => roomChats.push(message));
    expect(await recipient.client.emit('chat', { roomId: room, content: 'hello room' })).toMatchObject({ ok: true });
    await waitFor(() => roomChats.length === 1, 'the room message', 10_000);
    expect(roomChats[0]).toMatchObject({ roomId: room, from: bob, content: 'hello room' });
  });
});
