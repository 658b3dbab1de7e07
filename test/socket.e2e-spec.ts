import request from 'supertest';
import { NotificationFanout } from '@app/notifications';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { connectSocket, connected, type TestSocket } from './support/socket-client';
import { openSse } from './support/sse-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

type Notification = { id: string; type: string; userId: string; data: Record<string, unknown>; createdAt: string };
type Ack = { ok: boolean; error?: string; field?: string; [key: string]: unknown };

describe('Socket.IO', () => {
  let gateway: TestGateway;
  const clients: TestSocket[] = [];

  const connect = async (userId: string, options: Parameters<typeof connectSocket>[2] = {}, target = gateway) => {
    const client = connectSocket(target.url, userId, options);
    clients.push(client);
    await connected(client);
    return client;
  };
  const room = () => `room-${Math.random().toString(36).slice(2, 10)}`;

  beforeAll(async () => {
    gateway = await startGateway();
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await gateway.close();
  });

  describe('handshake', () => {
    it.each([
      ['no token', { auth: {} }],
      ['an expired token', { token: userToken('u1', { expiresInSeconds: -5 }) }],
      ['a token with another signature', { token: userToken('u1', { secret: 'not-the-secret-not-the-secret-!!' }) }],
      ['garbage', { token: 'garbage' }],
    ])('refuses %s with connect_error "unauthorized"', async (_, options) => {
      const client = connectSocket(gateway.url, 'u1', { ...options, transports: ['websocket'] });
      clients.push(client);
      client.socket.io.opts.reconnection = false;
      await expect(connected(client)).rejects.toMatchObject({ message: 'unauthorized' });
    });

    it('refuses a browser from a foreign origin, since a cookie may carry the token, and accepts its own origin', async () => {
      const userId = randomUserId();
      const token = userToken(userId);
      const foreign = connectSocket(gateway.url, userId, { auth: {}, extraHeaders: { Origin: 'https://evil.example', Cookie: `access_token=${token}` } });
      clients.push(foreign);
      foreign.socket.io.opts.reconnection = false;
      await expect(connected(foreign)).rejects.toBeInstanceOf(Error);
      const own = await connect(userId, { auth: {}, extraHeaders: { Origin: gateway.url, Cookie: `access_token=${token}` } });
      expect(own.socket.connected).toBe(true);
    });

    it('accepts the token as auth.token, Authorization header or access_token cookie', async () => {
      const userId = randomUserId();
      const token = userToken(userId);
      const byAuth = await connect(userId, { token });
      const byHeader = await connect(userId, { auth: {}, extraHeaders: { Authorization: `Bearer ${token}` }, transports: ['polling'] });
      const byCookie = await connect(userId, { auth: {}, extraHeaders: { Cookie: `access_token=${token}`, 'Sec-Fetch-Site': 'same-origin' }, transports: ['polling'] });
      const id = await publish(gateway.url, userId);
      for (const client of [byAuth, byHeader, byCookie]) expect((await client.waitForEvent<Notification>('job-match'))[0].id).toBe(id);
    });
  });

  describe('notifications', () => {
    it('has the feed live before `connect`: what is published right after it reaches a fresh socket', async () => {
      const clients = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const userId = randomUserId();
          const client = await connect(userId); // resolves on `connect`, nothing awaited after it
          return { client, id: await publish(gateway.url, userId) };
        }),
      );
      for (const { client, id } of clients) expect((await client.waitForEvent<Notification>('job-match'))[0].id).toBe(id);
    });

    it('emits each notification of the user as an event named by its type, with the contract shape', async () => {
      const userId = randomUserId();
      const other = randomUserId();
      const client = await connect(userId);
      const bystander = await connect(other);
      const id = await publish(gateway.url, userId, 'job-match', { jobId: 'j9' });
      const custom = await publish(gateway.url, userId, 'billing.invoice-ready', { amount: 3 });
      const [notification] = await client.waitForEvent<Notification>('job-match');
      expect(notification).toEqual({ id, type: 'job-match', userId, data: { jobId: 'j9' }, createdAt: expect.any(String) });
      expect((await client.waitForEvent<Notification>('billing.invoice-ready'))[0].id).toBe(custom);
      expect(bystander.received.filter(([name]) => name === 'job-match')).toEqual([]);
    });

    it('replays what was missed with auth.lastEventId after a forced disconnect, in order, then goes live', async () => {
      const userId = randomUserId();
      let lastEventId: string | undefined;
      const client = connectSocket(gateway.url, userId, { auth: {} });
      // A function auth is read again on every reconnect, as a real client would do it.
      client.socket.auth = (cb) => cb({ token: userToken(userId), ...(lastEventId ? { lastEventId } : {}) });
      clients.push(client);
      client.socket.on('job-match', (notification: Notification) => (lastEventId = notification.id));
      await connected(client);
      const first = await publish(gateway.url, userId, 'job-match', { n: 0 });
      await client.waitForEvent('job-match', 1);
      // Drop the transport under the client, as a network failure would.
      client.socket.io.engine.close();
      const missed: string[] = [];
      for (let n = 1; n <= 5; n++) missed.push(await publish(gateway.url, userId, 'job-match', { n }));
      await client.waitForEvent('job-match', 6);
      const live = await publish(gateway.url, userId, 'job-match', { n: 6 });
      await client.waitForEvent('job-match', 7);
      expect(client.eventsNamed<Notification>('job-match').map((notification) => notification.id)).toEqual([first, ...missed, live]);
    });

    it('sends `reset` first when auth.lastEventId is older than the retained history', async () => {
      const small = await startGateway({ env: { HISTORY_MAX_PER_USER: '3' } });
      try {
        const userId = randomUserId();
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) ids.push(await publish(small.url, userId, 'job-match', { i }));
        const client = await connect(userId, { auth: { token: userToken(userId), lastEventId: ids[0] } }, small);
        await client.waitForEvent('job-match', 3);
        expect(client.received.map(([name]) => name)).toEqual(['reset', 'job-match', 'job-match', 'job-match']);
        // The payload carries where the feed continues after: the newest trimmed id.
        expect(client.eventsNamed('reset')).toEqual([{ reason: 'history-truncated', lastEventId: ids[2] }]);
        expect(client.eventsNamed<Notification>('job-match').map((n) => n.id)).toEqual(ids.slice(3));
      } finally {
        for (const client of clients.splice(0)) client.close();
        await small.close();
      }
    });
  });

  describe('rooms and chat', () => {
    it('joins a room and answers its members; room chat reaches the other members only', async () => {
      const roomId = room();
      const alice = await connect(randomUserId('alice'));
      const bob = await connect(randomUserId('bob'));
      const outsider = await connect(randomUserId('eve'));
      const aliceId = (await alice.request<Ack>('room:join', { roomId })) as Ack;
      expect(aliceId).toMatchObject({ ok: true });
      const joined = await bob.request<Ack>('room:join', { roomId });
      expect(joined.ok).toBe(true);
      expect((joined.members as string[]).sort()).toHaveLength(2);

      const sent = await alice.request<Ack>('chat', { roomId, content: 'hello room' });
      expect(sent).toEqual({ ok: true, id: expect.any(String) });
      const [message] = await bob.waitForEvent('chat');
      expect(message).toEqual({ id: sent.id, roomId, from: expect.stringMatching(/^alice-/), content: 'hello room', timestamp: expect.any(String) });
      await bob.request('chat', { roomId, content: 'flush' });
      await alice.waitForEvent('chat');
      expect(alice.eventsNamed('chat').map((m) => m.content)).toEqual(['flush']);
      expect(outsider.eventsNamed('chat')).toEqual([]);
    });

    it('refuses room chat, typing and cursors from a non-member, and joining a personal room by name', async () => {
      const roomId = room();
      const member = await connect(randomUserId());
      await member.request('room:join', { roomId });
      const stranger = await connect(randomUserId());
      expect(await stranger.request('chat', { roomId, content: 'let me in' })).toEqual({ ok: false, error: 'not_a_member' });
      expect(await stranger.request('typing', { roomId, isTyping: true })).toEqual({ ok: false, error: 'not_a_member' });
      expect(await stranger.request('cursor-move', { roomId, x: 1, y: 2 })).toEqual({ ok: false, error: 'not_a_member' });
      expect(await stranger.request('room:leave', { roomId })).toEqual({ ok: false, error: 'not_a_member' });
      expect(await stranger.request('room:join', { roomId: 'user:someone' })).toMatchObject({ ok: false, error: 'invalid_payload', field: 'roomId' });
      await member.request('chat', { roomId, content: 'still here' });
      expect(member.eventsNamed('chat')).toEqual([]);
    });

    it('delivers a direct chat to every socket of the recipient and stores it as message-received for SSE and polling', async () => {
      const sender = randomUserId('sender');
      const recipient = randomUserId('recipient');
      const from = await connect(sender);
      const to1 = await connect(recipient);
      const to2 = await connect(recipient);
      const sse = await openSse(gateway.url, '/api/events', { Authorization: `Bearer ${userToken(recipient)}` });
      try {
        const ack = await from.request<Ack>('chat', { recipientId: recipient, content: 'psst' });
        expect(ack).toEqual({ ok: true, id: expect.any(String) });
        for (const client of [to1, to2]) {
          expect((await client.waitForEvent('chat'))[0]).toEqual({ id: ack.id, from: sender, content: 'psst', timestamp: expect.any(String) });
          const [stored] = await client.waitForEvent<Notification>('message-received');
          expect(stored.data).toEqual({ messageId: ack.id, from: sender, content: 'psst', timestamp: expect.any(String) });
        }
        const [event] = await sse.waitForEvents(1);
        expect(event.event).toBe('message-received');
        expect(JSON.parse(event.data as string).data.messageId).toBe(ack.id);
        const polled = await request(gateway.url).get('/api/notifications').set('Authorization', `Bearer ${userToken(recipient)}`);
        expect(polled.body.items.map((item: Notification) => item.data.messageId)).toEqual([ack.id]);
        expect(from.eventsNamed('chat')).toEqual([]);
      } finally {
        sse.close();
      }
    });

    it.each([
      ['empty content', { roomId: 'r1', content: '' }, 'content'],
      ['content over 4000 characters', { roomId: 'r1', content: 'x'.repeat(4001) }, 'content'],
      ['a bad room id', { roomId: 'no spaces', content: 'x' }, 'roomId'],
      ['a bad recipient', { recipientId: '', content: 'x' }, 'recipientId'],
      ['an extra field', { roomId: 'r1', content: 'x', html: true }, 'html'],
    ])('answers invalid_payload naming the field for %s', async (_, payload, field) => {
      const client = await connect(randomUserId());
      expect(await client.request('chat', payload)).toEqual({ ok: false, error: 'invalid_payload', field });
    });

    it('accepts content of exactly 4000 characters', async () => {
      const roomId = room();
      const client = await connect(randomUserId());
      await client.request('room:join', { roomId });
      expect(await client.request('chat', { roomId, content: 'x'.repeat(4000) })).toMatchObject({ ok: true });
    });

    it('sends typing to the room without echoing the sender', async () => {
      const roomId = room();
      const typist = await connect(randomUserId());
      const reader = await connect(randomUserId());
      await typist.request('room:join', { roomId });
      await reader.request('room:join', { roomId });
      expect(await typist.request('typing', { roomId, isTyping: true })).toEqual({ ok: true });
      const [typing] = await reader.waitForEvent('typing');
      expect(typing).toEqual({ roomId, userId: expect.stringMatching(/^user-/), isTyping: true });
      await reader.request('chat', { roomId, content: 'barrier' });
      await typist.waitForEvent('chat');
      expect(typist.eventsNamed('typing')).toEqual([]);
    });

    it('coalesces cursor moves per sender (latest wins, at most 30 a second) and never echoes them', async () => {
      const roomId = room();
      const mover = await connect(randomUserId());
      const watcher = await connect(randomUserId());
      await mover.request('room:join', { roomId });
      await watcher.request('room:join', { roomId });
      const started = Date.now();
      for (let x = 1; x <= 100; x++) mover.socket.emit('cursor-move', { roomId, x, y: x * 2 });
      await waitFor(() => watcher.eventsNamed<{ x: number }>('cursor-move').some((move) => move.x === 100), 'the last position');
      // Once still, the last position comes once more, reliably (a volatile move can be missed): not a move.
      const moves = watcher.eventsNamed<{ roomId: string; userId: string; x: number; y: number }>('cursor-move').filter((move, i, all) => move.x !== all[i - 1]?.x);
      const elapsedSeconds = Math.max((Date.now() - started) / 1000, 1 / 30);
      expect(moves.length).toBeLessThan(100);
      expect(moves.length).toBeLessThanOrEqual(Math.ceil(elapsedSeconds * 30) + 1);
      expect(moves[moves.length - 1]).toEqual({ roomId, userId: expect.any(String), x: 100, y: 200 });
      expect(mover.eventsNamed('cursor-move')).toEqual([]);
    });

    it('announces presence when a user first joins, and after the grace period once their last socket left', async () => {
      const roomId = room();
      const watcher = await connect(randomUserId('watch'));
      await watcher.request('room:join', { roomId });
      const visitorId = randomUserId('visit');
      const first = await connect(visitorId);
      const second = await connect(visitorId);
      await first.request('room:join', { roomId });
      await second.request('room:join', { roomId });
      const visitorPresence = () => watcher.eventsNamed<{ userId: string }>('presence').filter((event) => event.userId === visitorId);
      await waitFor(() => visitorPresence().length === 1, 'the visitor online');
      first.close();
      second.close();
      await waitFor(() => visitorPresence().length === 2, 'the visitor offline after the grace period', 9_000);
      expect(visitorPresence()).toEqual([
        { roomId, userId: visitorId, online: true },
        { roomId, userId: visitorId, online: false },
      ]);
    }, 15_000);

    it('does not flap presence when a user reconnects within the grace period', async () => {
      const roomId = room();
      const watcher = await connect(randomUserId('watch'));
      await watcher.request('room:join', { roomId });
      const visitorId = randomUserId('visit');
      const visitor = await connect(visitorId);
      await visitor.request('room:join', { roomId });
      const visitorPresence = () => watcher.eventsNamed<{ userId: string }>('presence').filter((event) => event.userId === visitorId);
      await waitFor(() => visitorPresence().length === 1, 'the visitor online');
      // Joining again from the same socket is no new arrival.
      expect(await visitor.request('room:join', { roomId })).toMatchObject({ ok: true });
      visitor.close();
      const back = await connect(visitorId);
      await back.request('room:join', { roomId });
      // Past the grace period, nothing more was announced.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(visitorPresence()).toEqual([{ roomId, userId: visitorId, online: true }]);
    }, 15_000);
  });

  describe('hostile clients', () => {
    it('survives 1,000 malformed frames without dropping the socket, and answers rate_limited to a flood', async () => {
      const userId = randomUserId();
      const client = await connect(userId);
      const garbage: unknown[] = [null, 42, 'text', [], [1, 2], { roomId: 42 }, { roomId: 'x'.repeat(100) }, { content: {} }, { x: 'a' }, true];
      const events = ['room:join', 'room:leave', 'chat', 'typing', 'cursor-move', 'auth:refresh', 'no-such-event'];
      const acks: Ack[] = [];
      for (let i = 0; i < 1000; i++) {
        const event = events[i % events.length];
        const payload = garbage[i % garbage.length];
        if (event === 'no-such-event') client.socket.emit(event, payload);
        else client.socket.emit(event, payload, (ack: Ack) => acks.push(ack));
      }
      await waitFor(() => acks.length >= 850, 'acks for the malformed frames', 10_000);
      expect(acks.every((ack) => ack.ok === false)).toBe(true);
      expect(acks.some((ack) => ack.error === 'rate_limited')).toBe(true);
      expect(acks.some((ack) => ack.error === 'invalid_payload')).toBe(true);
      expect(client.socket.connected).toBe(true);
      // Once the bucket refills, the same socket is served normally and still gets its notifications.
      await waitFor(async () => (await client.request<Ack>('room:join', { roomId: room() })).ok, 'a valid request to pass again', 5_000, 200);
      const id = await publish(gateway.url, userId);
      expect((await client.waitForEvent<Notification>('job-match'))[0].id).toBe(id);
      expect((await request(gateway.url).get('/health')).status).toBe(200);
    });
  });

  describe('identity over time', () => {
    it('emits token-expired and disconnects at exp, unless auth:refresh extended it first', async () => {
      const userId = randomUserId();
      // `exp` is in whole seconds, so a token "of 1 s" lives 0 to 1 s: one of 2 s leaves the handshakes at least 1 s.
      const shortToken = () => userToken(userId, { expiresInSeconds: 2 });
      const expiring = await connect(userId, { token: shortToken() });
      expiring.socket.io.opts.reconnection = false;
      const refreshedToken = shortToken();
      const refreshedExpiresAt = (JSON.parse(Buffer.from(refreshedToken.split('.')[1], 'base64url').toString()) as { exp: number }).exp * 1000;
      const refreshed = await connect(userId, { token: refreshedToken });
      const ack = await refreshed.request<Ack>('auth:refresh', { token: userToken(userId, { expiresInSeconds: 60 }) });
      expect(ack).toEqual({ ok: true, expiresAt: expect.any(String) });
      expect(Date.parse(ack.expiresAt as string)).toBeGreaterThan(Date.now() + 50_000);
      expect(await refreshed.request('auth:refresh', { token: userToken('someone-else') })).toEqual({ ok: false, error: 'unauthorized' });

      await expiring.waitForEvent('token-expired', 1, 5_000);
      await waitFor(() => !expiring.socket.connected, 'the expired socket to be disconnected');
      // Past the refreshed socket's first exp, and then some: it must still be there.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, refreshedExpiresAt - Date.now()) + 600));
      expect(refreshed.socket.connected).toBe(true);
      expect(refreshed.eventsNamed('token-expired')).toEqual([]);
    });

    it('frees its feed listener when a socket disconnects', async () => {
      const fanout = gateway.app.get(NotificationFanout);
      // Earlier tests' sockets were closed by afterEach; let the server see them go.
      await waitFor(() => fanout.listenerCount() === 0, 'earlier sockets to be gone');
      const before = 0;
      const batch = await Promise.all(Array.from({ length: 20 }, () => connect(randomUserId())));
      await waitFor(() => fanout.listenerCount() === before + 20, 'a listener per socket');
      batch.forEach((client) => client.close());
      await waitFor(() => fanout.listenerCount() === before, 'listeners freed');
    });
  });

  describe('two instances on one Redis', () => {
    it('carries room chat, direct chat and notifications from one instance to the other', async () => {
      const second = await startGateway({ sharedPrefix: gateway.config.redisKeyPrefix });
      try {
        const roomId = room();
        const aliceId = randomUserId('alice');
        const bobId = randomUserId('bob');
        const alice = await connect(aliceId);
        const bob = await connect(bobId, {}, second);
        await alice.request('room:join', { roomId });
        const joined = await bob.request<Ack>('room:join', { roomId });
        expect((joined.members as string[]).sort()).toEqual([aliceId, bobId].sort());
        await alice.waitForEvent('presence');

        await alice.request('chat', { roomId, content: 'across instances' });
        expect((await bob.waitForEvent('chat'))[0]).toMatchObject({ content: 'across instances', from: aliceId });
        await bob.request('typing', { roomId, isTyping: true });
        expect((await alice.waitForEvent('typing'))[0]).toEqual({ roomId, userId: bobId, isTyping: true });

        const dm = await bob.request<Ack>('chat', { recipientId: aliceId, content: 'direct' });
        expect(dm.ok).toBe(true);
        await waitFor(() => alice.eventsNamed('chat').some((message) => message.id === dm.id), 'the direct chat on the other instance');
        expect((await alice.waitForEvent<Notification>('message-received'))[0].data.messageId).toBe(dm.id);

        const id = await publish(second.url, aliceId, 'job-match');
        expect((await alice.waitForEvent<Notification>('job-match'))[0].id).toBe(id);
      } finally {
        for (const client of clients.splice(0)) client.close();
        await second.close();
      }
    });
  });
});
