import { EventSource } from 'eventsource';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { findNginx, type Fleet, type FleetGateway, startFleet } from '../scripts/fleet';
import { randomUserId, uniquePrefix } from './support/prefix';
import { publish } from './support/publish';
import { deletePrefix, primariesOf, queuePrefixOf, subscriberConnectionName, testQueue, testRedisClient, testRedisUrl } from './support/redis';
import { connectSocket, connected, type TestSocket } from './support/socket-client';
import { openSse, type RawSseStream } from './support/sse-client';
import { TEST_API_KEY, TEST_JWT_SECRET } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

type Notification = { id: string; type: string; userId: string; data: Record<string, unknown> };
type Ack = { ok: boolean; error?: string; [key: string]: unknown };

const nginx = findNginx();
if (nginx === null) {
  // .ci/run installs nginx with apt, so CI never gets here.
  process.stderr.write('fleet.e2e-spec: SKIPPED, nginx is not installed (apt-get install nginx)\n');
}
const describeWithNginx = nginx === null ? describe.skip : describe;

/**
 * The topology of `npm run fleet` (scripts/fleet.ts): two gateways behind a real nginx, one
 * job-matcher, the real Redis. Clients only ever talk to nginx; the tests look at the gateways
 * directly only to find out where nginx put a connection, or to publish on a chosen instance.
 */
describeWithNginx(`a fleet behind nginx${nginx === null ? ' (skipped: nginx is not installed)' : ''}`, () => {
  const prefix = uniquePrefix();
  let fleet: Fleet;
  const streams: RawSseStream[] = [];
  const sockets: TestSocket[] = [];
  const sources: EventSource[] = [];

  const auth = (userId: string) => ({ Authorization: `Bearer ${userToken(userId)}` });
  const connect = async (userId: string, transports: string[]) => {
    const client = connectSocket(fleet.url, userId, { transports });
    sockets.push(client);
    await connected(client);
    return client;
  };
  const subscribe = async (userId: string, query = '') => {
    const stream = await openSse(fleet.url, `/api/events${query}`, auth(userId));
    streams.push(stream);
    expect(stream.status).toBe(200);
    await waitFor(() => stream.blocks.length > 0, 'the stream to open');
    return stream;
  };

  /** Live connections of `channel` per gateway, from each instance's own /metrics (nginx's view would be one instance's). */
  const connectionsOn = async (gateway: FleetGateway, channel: 'sse' | 'socketio') => {
    const text = (await request(gateway.url).get('/metrics')).text;
    const match = new RegExp(`^rtg_connections\\{channel="${channel}"\\} (\\d+)$`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };
  /** The one gateway holding this test's single `channel` connection. */
  const holderOf = (channel: 'sse' | 'socketio') =>
    waitFor(
      async () => {
        const counts = await Promise.all(fleet.gateways.map((gateway) => connectionsOn(gateway, channel)));
        return counts.reduce((a, b) => a + b, 0) === 1 ? fleet.gateways[counts.indexOf(1)] : null;
      },
      `exactly one ${channel} connection in the fleet`,
      10_000,
    );
  const otherThan = (gateway: FleetGateway) => fleet.gateways.find((candidate) => candidate !== gateway)!;
  const fleetLogs = () =>
    [...fleet.gateways, fleet.jobMatcher, fleet.nginx]
      .map((member) => `--- ${member.name}\n${member.logs().split('\n').slice(-30).join('\n')}`)
      .concat(`--- nginx error.log\n${readTail(path.join(fleet.runDir, 'error.log'))}`)
      .join('\n');

  beforeAll(async () => {
    fleet = await startFleet({
      gateways: 2,
      port: 0,
      prefix,
      redisUrl: testRedisUrl(),
      env: {
        NODE_ENV: 'test',
        JWT_SECRET: TEST_JWT_SECRET,
        INTERNAL_API_KEY: TEST_API_KEY,
        // Clients told to come back do so quickly; heartbeats keep streams visibly alive.
        SSE_RETRY_MS: '200',
        SSE_HEARTBEAT_MS: '1000',
      },
    });
  }, 90_000);

  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
    for (const client of sockets.splice(0)) client.close();
    for (const source of sources.splice(0)) source.close();
  });

  afterAll(async () => {
    await fleet?.stop();
    await deletePrefix(prefix);
  }, 60_000);

  it('runs two gateways with their own instance ids, one job-matcher and nginx in front', async () => {
    expect(fleet.gateways.map((gateway) => gateway.instanceId)).toEqual(['g1', 'g2']);
    const health = await request(fleet.url).get('/health');
    expect(health.status).toBe(200);
    for (const member of [...fleet.gateways, fleet.jobMatcher, fleet.nginx]) expect(member.process.exitCode).toBeNull();
  });

  it('subscribes only where clients are served: one subscriber connection per gateway, none for the job-matcher', async () => {
    const redis = testRedisClient({ lazyConnect: true });
    try {
      await redis.connect();
      const nodes = primariesOf(redis);
      // On a cluster, one per primary the sharded subscriber subscribes on: at most one per gateway on each.
      const name = subscriberConnectionName(prefix, redis);
      const perNode = await Promise.all(
        nodes.map(async (node) => ((await node.client('LIST')) as string).split('\n').filter((line) => line.includes(` name=${name} `)).length),
      );
      if (nodes.length === 1) expect(perNode).toEqual([fleet.gateways.length]);
      else {
        for (const count of perNode) expect(count).toBeLessThanOrEqual(fleet.gateways.length);
        expect(Math.max(...perNode)).toBe(fleet.gateways.length);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('delivers a notification published on one instance to SSE and Socket.IO clients that nginx connected to the other', async () => {
    const userId = randomUserId();
    const stream = await subscribe(userId);
    const socket = await connect(userId, ['websocket']);
    const sseHolder = await holderOf('sse');
    const socketHolder = await holderOf('socketio');

    // Published straight on the instance that does not hold the client, then the other way round.
    const first = await publish(otherThan(sseHolder).url, userId, 'job-match', { n: 1 });
    const second = await publish(otherThan(socketHolder).url, userId, 'job-match', { n: 2 });

    const events = await stream.waitForEvents(2);
    expect(events.map((event) => event.id)).toEqual([first, second]);
    const notifications = await socket.waitForEvent<Notification>('job-match', 2);
    expect(notifications.map((notification) => notification.id)).toEqual([first, second]);
  });

  it('keeps a long-polling Socket.IO session on its instance over many requests: room chat and notifications', async () => {
    const roomId = `room-${Math.random().toString(36).slice(2, 10)}`;
    const aliceId = randomUserId('alice');
    const bobId = randomUserId('bob');
    const alice = await connect(aliceId, ['polling']);
    const bob = await connect(bobId, ['polling']);
    const sessions = [alice, bob].map((client) => client.socket.io.engine.id);
    for (const sid of sessions) expect(sid).toMatch(/^g[12]\.[A-Za-z0-9_-]+$/);

    expect(await alice.request<Ack>('room:join', { roomId })).toMatchObject({ ok: true });
    const joined = await bob.request<Ack>('room:join', { roomId });
    expect((joined.members as string[]).sort()).toEqual([aliceId, bobId].sort());
    for (let n = 1; n <= 10; n++) expect(await alice.request<Ack>('chat', { roomId, content: `message ${n}` })).toMatchObject({ ok: true });
    const messages = await bob.waitForEvent<{ content: string }>('chat', 10, 10_000);
    expect(messages.map((message) => message.content)).toEqual(Array.from({ length: 10 }, (_, i) => `message ${i + 1}`));
    const id = await publish(fleet.url, bobId, 'job-match', { over: 'polling' });
    expect((await bob.waitForEvent<Notification>('job-match'))[0].id).toBe(id);

    // Same sessions throughout, still polling: not one request of theirs reached the wrong instance.
    expect([alice, bob].map((client) => client.socket.io.engine.id)).toEqual(sessions);
    for (const client of [alice, bob]) {
      expect(client.socket.io.engine.transport.name).toBe('polling');
      expect(client.socket.connected).toBe(true);
    }
    // And nginx's log agrees: every request carrying a sid went to the instance named in it.
    const portOf = new Map(fleet.gateways.map((gateway) => [gateway.instanceId, gateway.port]));
    const routed = fs
      .readFileSync(path.join(fleet.runDir, 'access.log'), 'utf8')
      .split('\n')
      .map((line) => /sid=([a-z0-9-]+)\.(\S+) upstream=\S+:(\d+)/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null && sessions.includes(`${match[1]}.${match[2]}`));
    expect(routed.length).toBeGreaterThan(10);
    for (const [, instance, , port] of routed) expect(Number(port)).toBe(portOf.get(instance));
  });

  it('upgrades a polling session to WebSocket through nginx, and serves WebSocket-only clients', async () => {
    const roomId = `room-${Math.random().toString(36).slice(2, 10)}`;
    const upgradingId = randomUserId('upgrading');
    const upgrading = await connect(upgradingId, ['polling', 'websocket']);
    const direct = await connect(randomUserId('direct'), ['websocket']);
    // The upgrade request carries the sid: it must reach the instance that holds the session.
    await waitFor(() => upgrading.socket.io.engine.transport.name === 'websocket', 'the upgrade to WebSocket', 10_000);

    await upgrading.request('room:join', { roomId });
    await direct.request('room:join', { roomId });
    await direct.request('chat', { roomId, content: 'over websocket' });
    expect((await upgrading.waitForEvent<{ content: string }>('chat'))[0].content).toBe('over websocket');
    const id = await publish(fleet.url, upgradingId, 'job-match', {});
    expect((await upgrading.waitForEvent<Notification>('job-match'))[0].id).toBe(id);
  });

  it('matches a posting once, wherever it was enqueued', async () => {
    const userId = randomUserId();
    const word = `fleetword${Math.random().toString(36).slice(2, 8)}`;
    const saved = await request(fleet.url).post('/api/saved-searches').set(auth(userId)).send({ keywords: [word] });
    expect(saved.status).toBe(201);
    const stream = await subscribe(userId, '?types=job-match');
    const posting = { id: `job-${Math.random().toString(36).slice(2, 10)}`, title: `Engineer for ${word}`, company: 'Acme' };

    // On each instance directly, and twice through nginx.
    for (const target of [...fleet.gateways.map((gateway) => gateway.url), fleet.url, fleet.url]) {
      const response = await request(target).post('/api/jobs').set('X-Api-Key', TEST_API_KEY).send(posting);
      expect(response.status).toBe(202);
      expect(response.body).toEqual({ jobId: posting.id });
    }
    const [event] = await stream.waitForEvents(1, 15_000);
    expect(JSON.parse(event.data!).data).toMatchObject({ jobId: posting.id, searchIds: [saved.body.id] });

    const queue = testQueue('job-postings', { queuePrefix: queuePrefixOf(prefix) });
    try {
      await waitFor(
        async () => {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
          return counts.waiting + counts.active + counts.delayed === 0 && counts.completed >= 1 ? counts : null;
        },
        'the job-matcher to finish',
        15_000,
      );
      expect((await queue.getJob(posting.id))?.finishedOn).toEqual(expect.any(Number));
    } finally {
      await queue.close();
    }
    const polled = (await request(fleet.url).get('/api/notifications').set(auth(userId))).body.items as Notification[];
    expect(polled.filter((item) => item.type === 'job-match')).toHaveLength(1);
    expect(stream.events).toHaveLength(1);
  });

  it('cuts off an expired token through nginx: SSE gets token-expired and ends, the socket gets token-expired', async () => {
    const userId = randomUserId();
    const shortLived = userToken(userId, { expiresInSeconds: 2 });
    const stream = await openSse(fleet.url, '/api/events', { Authorization: `Bearer ${shortLived}` });
    streams.push(stream);
    expect(stream.status).toBe(200);
    const socket = connectSocket(fleet.url, userId, { token: shortLived, transports: ['polling'] });
    sockets.push(socket);
    await connected(socket);

    await stream.waitForEnd(10_000);
    const last = stream.blocks.filter((block) => block.comments.length === 0).at(-1);
    expect(last).toMatchObject({ event: 'token-expired', data: '{"reason":"token-expired"}' });
    await socket.waitForEvent('token-expired', 1, 10_000);
    await waitFor(() => !socket.socket.connected, 'the socket to be disconnected', 10_000);
  });

  it('survives a rolling restart of both gateways while clients read and a publisher publishes: nothing missed, nothing twice', async () => {
    const userId = randomUserId();
    // Four streams, so that nginx spreads them over both instances and their reconnects also try
    // the instance that is going away (a single stream could land on the right one by luck).
    const clients = Array.from({ length: 4 }, () => {
      const received: Array<{ id: string; seq: number }> = [];
      const client = { received, opens: 0, source: new EventSource(`${fleet.url}/api/events?access_token=${userToken(userId)}`) };
      sources.push(client.source);
      // `eventsource` is the WHATWG EventSource: it reconnects by itself and sends Last-Event-ID.
      client.source.addEventListener('open', () => client.opens++);
      client.source.addEventListener('job-match', (event) => received.push({ id: event.lastEventId, seq: JSON.parse(event.data).data.seq }));
      return client;
    });
    // And two stock Socket.IO clients, one over WebSocket, one long-polling, each resuming with
    // auth.lastEventId = the last id it saw, as an application using the stock client would.
    const resuming = await Promise.all(
      [['websocket'], ['polling']].map(async (transports) => {
        const socket = connectSocket(fleet.url, userId, { transports, auth: { token: userToken(userId) } });
        sockets.push(socket);
        socket.socket.on('job-match', (notification: Notification) => {
          (socket.socket.auth as Record<string, unknown>).lastEventId = notification.id;
        });
        await connected(socket);
        return socket;
      }),
    );
    const socketIds = (socket: TestSocket) => socket.eventsNamed<Notification>('job-match').map((notification) => notification.id);
    const fewest = () => Math.min(...clients.map((client) => client.received.length), ...resuming.map((socket) => socketIds(socket).length));
    const sseOn = (gateway: FleetGateway) => connectionsOn(gateway, 'sse');
    const socketsOn = (gateway: FleetGateway) => connectionsOn(gateway, 'socketio');
    await waitFor(() => clients.every((client) => client.source.readyState === EventSource.OPEN), 'the streams to open');
    await waitFor(async () => (await Promise.all(fleet.gateways.map(sseOn))).reduce((a, b) => a + b) === clients.length, 'the streams on the gateways');

    // Publishes seq 1, 2, 3, ... through nginx, one at a time, until told to stop. A request that
    // fails mid-restart is repeated with the same idempotencyKey, so it is stored exactly once.
    const published: string[] = [];
    let publishing = true;
    const publisher = (async () => {
      for (let seq = 1; publishing; seq++) {
        published.push(await publishOnce(fleet.url, userId, seq));
        await pause(25);
      }
    })();
    const failed = publisher.then(() => null, (error: unknown) => error);

    try {
      await waitFor(() => fewest() >= 5, 'the first events', 10_000);
      // g1 goes away (its streams move to g2) and comes back, then g2 (every stream moves to g1).
      for (const gateway of fleet.gateways) {
        const neighbour = otherThan(gateway);
        const before = published.length;
        const exited = gateway.stop('SIGTERM');
        await waitFor(async () => (await sseOn(neighbour)) === clients.length, `every stream to resume on ${neighbour.instanceId}`, 20_000);
        await waitFor(async () => (await socketsOn(neighbour)) === resuming.length, `every socket to reconnect to ${neighbour.instanceId}`, 20_000);
        expect(await exited).toBe(0);
        await waitFor(() => fewest() >= before + 5, `events after ${gateway.instanceId} left`, 10_000);
        await gateway.restart();
      }
      const total = published.length + 5;
      await waitFor(() => published.length >= total, 'a few more publishes on the restarted fleet', 10_000);
      publishing = false;
      await publisher;
      await waitFor(() => fewest() >= published.length, 'every published event on every stream', 10_000);
    } catch (error) {
      publishing = false;
      const publisherError = await failed;
      const state = [
        ...clients.map((client, n) => `stream ${n}: readyState ${client.source.readyState}, ${client.received.length} events, ${client.opens} opens`),
        ...resuming.map((socket, n) => `socket ${n}: connected ${socket.socket.connected}, ${socketIds(socket).length} events`),
      ];
      throw new Error(
        [(error as Error).message, publisherError ? `publisher: ${String(publisherError)}` : '', `published ${published.length}`, ...state, fleetLogs()].join('\n'),
        { cause: error },
      );
    }

    for (const client of clients) {
      expect(client.received.map((event) => event.id)).toEqual(published);
      expect(client.received.map((event) => event.seq)).toEqual(published.map((_, index) => index + 1));
    }
    // Every stream moved at least once (all of them were on g2 when it stopped).
    for (const client of clients) expect(client.opens).toBeGreaterThanOrEqual(2);
    for (const socket of resuming) {
      expect(socketIds(socket)).toEqual(published);
      expect(socket.socket.io.engine.id).toMatch(/^g1\./);
    }
  }, 120_000);
});

/** POST /api/notifications until it answers 202, always with the same idempotencyKey. */
async function publishOnce(baseUrl: string, userId: string, seq: number): Promise<string> {
  const body = { userId, type: 'job-match', data: { seq }, idempotencyKey: `${userId}-${seq}` };
  let last = '';
  for (let attempt = 1; attempt <= 50; attempt++) {
    try {
      const response = await request(baseUrl).post('/api/notifications').set('X-Api-Key', TEST_API_KEY).send(body);
      if (response.status === 202) return response.body.id as string;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await pause(100);
  }
  throw new Error(`publishing seq ${seq} failed 50 times: ${last}`);
}

/** Pacing of the publisher (not a wait for a condition). */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function readTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}
