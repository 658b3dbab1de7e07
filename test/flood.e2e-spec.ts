import http from 'node:http';
import request from 'supertest';
import { LiveConnections } from '../apps/gateway/src/connections/live-connections';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { connectSocket, connected, type TestSocket } from './support/socket-client';
import { openSse, type RawSseStream } from './support/sse-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * Bounded floods against one instance, with legitimate clients connected
 * throughout: concurrent connection attempts past the per-user and
 * per-instance caps, and many sockets sending junk and over-rate events.
 * What must hold is structural: the caps are never exceeded, every refusal is
 * the documented one, no flooding socket is dropped for its events, and the
 * legitimate clients receive everything published to them, in order. How much
 * slower they are is bench/flood.ts's question, not this test's.
 */

type Ack = { ok: boolean; error?: string };
const PER_USER = 8;
const PER_INSTANCE = 150;

describe('floods', () => {
  let gateway: TestGateway;
  const streams: RawSseStream[] = [];
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    gateway = await startGateway({ env: { MAX_CONNECTIONS_PER_USER: String(PER_USER), MAX_CONNECTIONS_PER_INSTANCE: String(PER_INSTANCE) } });
  });

  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    for (const socket of sockets.splice(0)) socket.close();
    await waitFor(() => gateway.app.get(LiveConnections).size === 0 || null, 'every connection to close', 10_000);
  });

  afterAll(async () => {
    await gateway.close();
  });

  /** A legitimate user with one SSE stream and one socket, both replaying from the start so nothing published is missed. */
  const legitimate = async () => {
    const userId = randomUserId('legit');
    const stream = await openSse(gateway.url, '/api/events', { Authorization: `Bearer ${userToken(userId)}`, 'Last-Event-ID': '0' });
    streams.push(stream);
    const socket = connectSocket(gateway.url, userId, { auth: { token: userToken(userId), lastEventId: '0' } });
    sockets.push(socket);
    await connected(socket);
    return { userId, stream, socket };
  };

  /** Opens an SSE stream and reports its status without keeping a handle open on refusal. */
  const attemptSse = (userId: string) =>
    new Promise<{ status: number; req: http.ClientRequest }>((resolve, reject) => {
      const req = http.get(`${gateway.url}/api/events`, { agent: false, headers: { Authorization: `Bearer ${userToken(userId)}` } }, (response) => {
        if (response.statusCode !== 200) response.resume();
        resolve({ status: response.statusCode ?? 0, req });
      });
      req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    });
  const attemptSocket = (userId: string) =>
    new Promise<{ outcome: string; socket: TestSocket }>((resolve) => {
      const socket = connectSocket(gateway.url, userId);
      socket.socket.io.opts.reconnection = false;
      sockets.push(socket);
      connected(socket).then(
        () => resolve({ outcome: 'connected', socket }),
        (error: Error) => resolve({ outcome: error.message, socket }),
      );
    });

  it('holds MAX_CONNECTIONS_PER_USER against one user opening 60 streams and 60 sockets at once', async () => {
    const legit = await legitimate();
    const attacker = randomUserId('greedy');
    const live = gateway.app.get(LiveConnections);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, live.size)), 5);
    const [sse, io] = await Promise.all([
      Promise.all(Array.from({ length: 60 }, () => attemptSse(attacker))),
      Promise.all(Array.from({ length: 60 }, () => attemptSocket(attacker))),
    ]);
    clearInterval(sampler);
    const admitted = sse.filter((a) => a.status === 200).length + io.filter((a) => a.outcome === 'connected').length;
    expect(admitted).toBe(PER_USER);
    expect(sse.filter((a) => a.status !== 200).every((a) => a.status === 429)).toBe(true);
    expect(io.filter((a) => a.outcome !== 'connected').every((a) => a.outcome === 'too_many_connections')).toBe(true);
    // The legitimate user's two connections plus the attacker's eight, never more.
    expect(peak).toBeLessThanOrEqual(2 + PER_USER);
    for (const attempt of sse) attempt.req.destroy();
    const id = await publish(gateway.url, legit.userId);
    expect((await legit.stream.waitForEvents(1))[0].id).toBe(id);
    expect((await legit.socket.waitForEvent<{ id: string }>('job-match'))[0].id).toBe(id);
  });

  it('holds MAX_CONNECTIONS_PER_INSTANCE against 400 attempts from 100 users while legitimate clients keep receiving', async () => {
    const legit = await Promise.all(Array.from({ length: 5 }, legitimate));
    const live = gateway.app.get(LiveConnections);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, live.size)), 5);
    const published: string[] = [];
    let flooding = true;
    const publisher = (async () => {
      for (let i = 0; flooding || i < 5; i++) published.push(await publish(gateway.url, legit[i % legit.length].userId, 'job-match', { i }));
    })();
    const attackers = Array.from({ length: 100 }, () => randomUserId('flood'));
    const attempts = await Promise.all(
      attackers.flatMap((userId) => [attemptSse(userId), attemptSse(userId), attemptSocket(userId), attemptSocket(userId)]) as Array<
        Promise<{ status?: number; outcome?: string; req?: http.ClientRequest; socket?: TestSocket }>
      >,
    );
    flooding = false;
    await publisher;
    clearInterval(sampler);
    const admitted = attempts.filter((a) => a.status === 200 || a.outcome === 'connected').length;
    const refused = attempts.filter((a) => a.status === 429 || a.outcome === 'too_many_connections').length;
    expect(admitted + refused).toBe(attempts.length);
    expect(admitted).toBe(PER_INSTANCE - 10);
    expect(peak).toBeLessThanOrEqual(PER_INSTANCE);
    // Everyone legitimate got everything published to them during the flood, in order, on both channels.
    for (const { userId, stream, socket } of legit) {
      const expected = published.filter((_, i) => legit[i % legit.length].userId === userId);
      await waitFor(() => stream.events.length >= expected.length || null, `SSE of ${userId}`, 10_000);
      await waitFor(() => socket.eventsNamed('job-match').length >= expected.length || null, `socket of ${userId}`, 10_000);
      expect(stream.events.map((event) => event.id)).toEqual(expected);
      expect(socket.eventsNamed<{ id: string }>('job-match').map((n) => n.id)).toEqual(expected);
    }
    for (const attempt of attempts) {
      attempt.req?.destroy();
      attempt.socket?.close();
    }
    // Once the flood is gone, newcomers get in again.
    await waitFor(() => live.size === 10 || null, 'the flood to be released', 10_000);
    const newcomer = await attemptSse(randomUserId('after'));
    newcomer.req.destroy();
    expect(newcomer.status).toBe(200);
    process.stdout.write(`\nflood (connections): ${attempts.length} attempts, ${admitted} admitted up to the cap of ${PER_INSTANCE}, ${refused} refused; peak ${peak} live; ${published.length} notifications delivered to legitimate clients meanwhile\n`);
  });

  it('answers 40 sockets flooding junk and over-rate events with acks, drops none, and still serves the legitimate clients', async () => {
    const [alice, bob] = await Promise.all([legitimate(), legitimate()]);
    const room = `legit-${Math.random().toString(36).slice(2, 8)}`;
    expect((await alice.socket.request<Ack>('room:join', { roomId: room })).ok).toBe(true);
    expect((await bob.socket.request<Ack>('room:join', { roomId: room })).ok).toBe(true);
    const flooders = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const socket = connectSocket(gateway.url, randomUserId(`flooder-${i}`));
        sockets.push(socket);
        await connected(socket);
        let dropped = false;
        socket.socket.on('disconnect', () => (dropped = true));
        return { socket, dropped: () => dropped };
      }),
    );
    const junk: Array<[string, unknown]> = [
      ['chat', { roomId: room, content: 'not a member' }],
      ['chat', { roomId: 7 }],
      ['room:join', { roomId: 'a b' }],
      ['cursor-move', { roomId: room, x: 'x', y: 1 }],
      ['typing', [1, 2, 3]],
      ['auth:refresh', { token: 'forged.token.here' }],
      ['chat', { recipientId: '', content: 'x' }],
    ];
    const acks: Ack[] = [];
    const sent = Promise.all(
      flooders.flatMap(({ socket }, s) =>
        Array.from({ length: 100 }, (_, i) => {
          const [event, payload] = junk[(s + i) % junk.length];
          return socket.request<Ack>(event, payload).then((ack) => acks.push(ack));
        }),
      ),
    );
    // Meanwhile the legitimate ones talk and get notified, within their own limits.
    const chats: string[] = [];
    const published: string[] = [];
    for (let i = 0; i < 10; i++) {
      const chat = await alice.socket.request<Ack & { id?: string }>('chat', { roomId: room, content: `hello ${i}` });
      expect(chat.ok).toBe(true);
      chats.push(chat.id as string);
      published.push(await publish(gateway.url, bob.userId, 'job-match', { i }));
    }
    await sent;
    expect(acks).toHaveLength(4_000);
    const codes = new Set(acks.map((ack) => (ack.ok ? 'ok' : ack.error)));
    for (const code of codes) expect(['rate_limited', 'invalid_payload', 'not_a_member', 'unauthorized']).toContain(code);
    expect(codes).toContain('rate_limited');
    expect(flooders.filter(({ dropped }) => dropped())).toHaveLength(0);
    await waitFor(() => bob.socket.eventsNamed('chat').length >= 10 || null, 'bob to get every chat', 10_000);
    expect(bob.socket.eventsNamed<{ id: string }>('chat').map((c) => c.id)).toEqual(chats);
    await waitFor(() => bob.stream.events.length >= 10 || null, "bob's stream to get every notification", 10_000);
    expect(bob.stream.events.map((event) => event.id)).toEqual(published);
    expect((await request(gateway.url).get('/health')).status).toBe(200);
    const tally = Object.fromEntries([...codes].map((code) => [code, acks.filter((ack) => (ack.ok ? 'ok' : ack.error) === code).length]));
    process.stdout.write(`flood (events): 4,000 junk and over-rate events from 40 sockets answered ${JSON.stringify(tally)}; none dropped; legitimate chat and notifications all delivered\n`);
  });
});
