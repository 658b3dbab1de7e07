import { JwtService } from '@nestjs/jwt';
import Redis from 'ioredis';
import { io } from 'socket.io-client';
import type { Server } from 'socket.io';
import { RedisKeys } from '@app/notifications';
import { RealtimeGateway } from '../apps/gateway/src/realtime/realtime.gateway';
import { INSTANCE_TTL_MS } from '../apps/gateway/src/realtime/room-members';
import { ROOM_LIMITS } from '../apps/gateway/src/realtime/rooms';
import { randomUserId, uniquePrefix } from './support/prefix';
import { deletePrefix, type RedisClient, testRedisClient } from './support/redis';
import { connectSocket, connected, type TestSocket } from './support/socket-client';
import { startGateway, TEST_JWT_SECRET, type TestGateway } from './support/start-gateway';
import { waitFor } from './support/wait-for';

type Ack = { ok: boolean; error?: string; field?: string; members?: string[]; left?: string[]; [key: string]: unknown };

/*
 * Rooms (contract, Socket.IO "Rooms"): who may join (ROOM_ACCESS and the
 * token's `rooms` claim), what a non-member never sees, what a join costs
 * whatever the room's size, the caps, and what socket data carries across
 * instances.
 */

const jwt = new JwtService({ secret: TEST_JWT_SECRET });
/** A user token with extra claims, as the identity provider would issue it. */
const tokenWith = (userId: string, claims: Record<string, unknown> = {}) => jwt.sign({ sub: userId, ...claims }, { algorithm: 'HS256', expiresIn: 3600 });
const room = (label = 'room') => `${label}-${Math.random().toString(36).slice(2, 10)}`;
/** Events that belong to a room's members only. */
const ROOM_EVENTS = ['chat', 'typing', 'cursor-move', 'presence'];

describe('rooms', () => {
  let open: TestGateway;
  let claim: TestGateway;
  let redis: RedisClient;
  const clients: TestSocket[] = [];

  const connect = async (target: TestGateway, userId: string, token?: string) => {
    const client = connectSocket(target.url, userId, token === undefined ? {} : { token });
    clients.push(client);
    await connected(client);
    return client;
  };
  /** A request that waits out the per-socket rate limit instead of failing on it. */
  const paced = async (client: TestSocket, event: string, payload: unknown): Promise<Ack> => {
    for (;;) {
      const ack = await client.request<Ack>(event, payload);
      if (ack.error !== 'rate_limited') return ack;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  /**
   * Room members held by an instance this test plays: what a gateway writes
   * for its sockets (see room-members.ts), written in one go so that a room of
   * thousands costs nothing to fill. `alive: false` is an instance that died.
   * One command per key: on a cluster the keys lie in several slots.
   */
  const fakeInstance = async (prefix: string, roomId: string, userIds: string[], alive: boolean): Promise<string> => {
    const keys = new RedisKeys(prefix);
    const instanceId = `fake-${Math.random().toString(36).slice(2, 10)}`;
    if (alive) await redis.set(keys.instanceAlive(instanceId), '1', 'PX', 120_000);
    await redis.sadd(keys.instances(), instanceId);
    await redis.sadd(keys.instanceRooms(instanceId), roomId);
    if (userIds.length > 0) {
      await redis.hset(keys.roomSockets(roomId, instanceId), Object.fromEntries(userIds.map((userId, i) => [`${instanceId}-socket-${i}`, userId])));
      await redis.hset(keys.roomMembers(roomId), Object.fromEntries(userIds.map((userId) => [userId, '1'])));
    }
    return instanceId;
  };

  beforeAll(async () => {
    redis = testRedisClient();
    [open, claim] = await Promise.all([startGateway({ env: { MAX_CONNECTIONS_PER_USER: '100' } }), startGateway({ env: { ROOM_ACCESS: 'claim' } })]);
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    redis.disconnect();
    await Promise.all([open.close(), claim.close()]);
  });

  describe('access', () => {
    it('ROOM_ACCESS=claim: joins a room the rooms claim lists, by id or by prefix, and refuses any other forbidden', async () => {
      const team = room('team');
      const projects = `proj${Math.random().toString(36).slice(2, 8)}-`;
      const userId = randomUserId();
      const client = await connect(claim, userId, tokenWith(userId, { rooms: [team, `${projects}*`] }));
      expect(await client.request('room:join', { roomId: team })).toEqual({ ok: true, members: [userId] });
      expect(await client.request('room:join', { roomId: `${projects}42` })).toEqual({ ok: true, members: [userId] });
      expect(await client.request('room:join', { roomId: `${team}x` })).toEqual({ ok: false, error: 'forbidden' });
      expect(await client.request('room:join', { roomId: room('other') })).toEqual({ ok: false, error: 'forbidden' });
    });

    it.each([
      ['no rooms claim', {}],
      ['a malformed rooms claim', { rooms: 'team-1' }],
      ['a rooms claim with a bad entry', { rooms: ['team-1', 'user:u2'] }],
    ])('ROOM_ACCESS=claim: a token with %s connects but joins no room', async (_label, claims) => {
      const userId = randomUserId();
      const client = await connect(claim, userId, tokenWith(userId, claims));
      expect(await client.request('room:join', { roomId: 'team-1' })).toEqual({ ok: false, error: 'forbidden' });
    });

    it('ROOM_ACCESS=open (the default): any user joins any room id', async () => {
      const userId = randomUserId();
      const client = await connect(open, userId, tokenWith(userId, { rooms: ['elsewhere'] }));
      expect(await client.request('room:join', { roomId: room() })).toEqual({ ok: true, members: [userId] });
    });

    it('auth:refresh takes the new grant: rooms it no longer grants are left, and the ack lists them', async () => {
      const [kept, dropped, added] = [room('kept'), room('dropped'), room('added')];
      const userId = randomUserId('refresh');
      const speakerId = randomUserId('speaker');
      const client = await connect(claim, userId, tokenWith(userId, { rooms: [kept, dropped] }));
      const speaker = await connect(claim, speakerId, tokenWith(speakerId, { rooms: ['*'] }));
      for (const roomId of [kept, dropped]) {
        expect((await client.request<Ack>('room:join', { roomId })).ok).toBe(true);
        expect((await speaker.request<Ack>('room:join', { roomId })).ok).toBe(true);
      }
      const refreshed = await client.request<Ack>('auth:refresh', { token: tokenWith(userId, { rooms: [kept, added] }) });
      expect(refreshed).toEqual({ ok: true, expiresAt: expect.any(String), left: [dropped] });
      expect(await client.request('chat', { roomId: dropped, content: 'still in?' })).toEqual({ ok: false, error: 'not_a_member' });
      expect(await client.request('room:join', { roomId: dropped })).toEqual({ ok: false, error: 'forbidden' });
      expect((await client.request<Ack>('room:join', { roomId: added })).ok).toBe(true);

      await speaker.request('chat', { roomId: dropped, content: 'after the refresh' });
      await speaker.request('chat', { roomId: kept, content: 'barrier' });
      await client.waitForEvent('chat');
      expect(client.eventsNamed('chat').map((message) => message.content)).toEqual(['barrier']);
      // The one who left goes offline for the room like anyone who leaves (after the grace period).
      await waitFor(() => speaker.eventsNamed('presence').find((event) => event.roomId === dropped && event.userId === userId && event.online === false), 'presence offline in the dropped room', 10_000);
    });
  });

  it('never sends a room’s chat, typing, cursors, presence or members to a socket that is not in it', async () => {
    const roomId = room();
    const [aliceId, bobId, strangerId, formerId, outsiderId] = ['alice', 'bob', 'stranger', 'former', 'outsider'].map((label) => randomUserId(label));
    const grant = { rooms: [roomId] };
    const alice = await connect(claim, aliceId, tokenWith(aliceId, grant));
    const former = await connect(claim, formerId, tokenWith(formerId, grant));
    // Refused by the grant; and one who never asks.
    const stranger = await connect(claim, strangerId, tokenWith(strangerId, { rooms: ['somewhere-else'] }));
    const outsider = await connect(claim, outsiderId, tokenWith(outsiderId, grant));
    // A join's presence is broadcast to the room after the ack (on a cluster, once Redis has answered
    // the SPUBLISH): each joiner sees its own before the next one joins, so the former member's stay
    // holds exactly its own arrival, and no broadcast from before it joined is still on its way.
    const ownArrival = (client: TestSocket, userId: string) =>
      waitFor(() => client.eventsNamed('presence').find((event) => event.userId === userId && event.online), `${userId} sees its own arrival`);
    expect(await alice.request('room:join', { roomId })).toEqual({ ok: true, members: [aliceId] });
    await ownArrival(alice, aliceId);
    expect(await former.request<Ack>('room:join', { roomId })).toMatchObject({ ok: true });
    await ownArrival(former, formerId);
    expect(await former.request('room:leave', { roomId })).toEqual({ ok: true });
    const refused = await stranger.request<Ack>('room:join', { roomId });
    expect(refused).toEqual({ ok: false, error: 'forbidden' });

    const bob = await connect(claim, bobId, tokenWith(bobId, grant));
    expect((await bob.request<Ack>('room:join', { roomId })).members?.sort()).toEqual([aliceId, bobId].sort());
    await alice.request('chat', { roomId, content: 'members only' });
    await alice.request('typing', { roomId, isTyping: true });
    await alice.request('cursor-move', { roomId, x: 1, y: 2 });
    // An ack does not wait for the room to receive: on a cluster the sharded adapter hands a broadcast to
    // this instance's own members only once Redis has answered its SPUBLISH, so a member leaving right
    // after an ack can miss what was on its way. Bob, the member, gets all three before he leaves.
    for (const event of ['chat', 'typing', 'cursor-move']) await bob.waitForEvent(event);
    await bob.request('room:leave', { roomId });
    await waitFor(() => alice.eventsNamed('presence').find((event) => event.userId === bobId && event.online === false), 'bob offline after the grace period', 10_000);
    expect(bob.eventsNamed('typing')).toHaveLength(1);
    // The move, and its reliable copy once the cursor is still (either may be all that arrives of it).
    expect(new Set(bob.eventsNamed('cursor-move').map((move) => `${move.x},${move.y}`))).toEqual(new Set(['1,2']));

    for (const nonMember of [stranger, former, outsider]) {
      expect(nonMember.received.filter(([event]) => ROOM_EVENTS.includes(event))).toEqual(
        // The former member saw its own stay, nothing after it left.
        nonMember === former ? [['presence', { roomId, userId: formerId, online: true }]] : [],
      );
    }
  }, 20_000);

  describe('membership in Redis', () => {
    // MONITOR sees one node: on a cluster the scripts' commands are spread over the shards.
    (process.env.REDIS_TOPOLOGY === 'cluster' ? it.skip : it)('costs a join the same Redis commands in a room of 2,000 members as in one of 10, with no fetchSockets', async () => {
      const prefix = open.config.redisKeyPrefix;
      const small = room('small');
      const large = room('large');
      const smallMembers = Array.from({ length: 10 }, (_, i) => `small-member-${i}`);
      const largeMembers = Array.from({ length: 2_000 }, (_, i) => `large-member-${i}`);
      await fakeInstance(prefix, small, smallMembers, true);
      await fakeInstance(prefix, large, largeMembers, true);
      const userId = randomUserId('joiner');
      const joiner = await connect(open, userId);
      // Loads the scripts, so that neither measured join pays for it.
      expect((await joiner.request<Ack>('room:join', { roomId: room('warm-up') })).ok).toBe(true);

      const monitor = await (redis as Redis).monitor();
      const seen: string[][] = [];
      /** Commands a script ran (MONITOR names their source `lua`), apart from those sent over the wire. */
      const fromScripts = new Set<string[]>();
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (!args.some((arg) => arg.includes(prefix))) return;
        seen.push(args);
        if (source === 'lua') fromScripts.add(args);
      });
      let marks = 0;
      /** The gateway's commands for one join: everything with the prefix from the request to a marker sent after the ack. */
      const measure = async (roomId: string) => {
        seen.length = 0;
        const ack = await joiner.request<Ack>('room:join', { roomId });
        const marker = `${prefix}:marker-${++marks}`;
        await redis.echo(marker);
        await waitFor(() => seen.some((args) => args.includes(marker)), 'the marker in MONITOR');
        const commands = seen.slice(0, seen.findIndex((args) => args.includes(marker)));
        // The liveness heartbeat and the delivery probe (an SSUBSCRIBE and an SPUBLISH every second) run on
        // timers of their own, whatever the joins do: a join slow enough on a busy machine had a probe inside it.
        return { ack, commands: commands.filter((args) => !args.some((arg) => /:instance-alive:|:instances$|:instance-rooms:\{fake-|:probe:\{/.test(arg))) };
      };
      try {
        const inSmall = await measure(small);
        const inLarge = await measure(large);
        expect(inSmall.ack.members).toHaveLength(11);
        expect(inLarge.ack.members).toHaveLength(2_001);
        expect(inLarge.ack.members).toEqual(expect.arrayContaining([userId, 'large-member-0', 'large-member-1999']));
        const names = (commands: string[][]) => commands.map((args) => args[0].toLowerCase());
        expect(names(inLarge.commands)).toEqual(names(inSmall.commands));
        // fetchSockets asks the other instances over the adapter's request channel (after counting them with PUBSUB NUMSUB).
        const adapterRequests = [...inSmall.commands, ...inLarge.commands].filter((args) => args.some((arg) => arg.includes('socket.io-request')) || args[0].toLowerCase() === 'pubsub');
        expect(adapterRequests).toEqual([]);
        const report = ({ commands }: { commands: string[][] }) => {
          const sent = commands.filter((args) => !fromScripts.has(args));
          return `${sent.length} sent (${names(sent).join(', ')}) + ${commands.length - sent.length} inside the script`;
        };
        process.stderr.write(`rooms.e2e-spec: Redis commands per join: 10 members: ${report(inSmall)}; 2,000 members: ${report(inLarge)}\n`);
      } finally {
        monitor.disconnect();
      }
    });

    it('answers members as the distinct users in the room on every instance', async () => {
      const second = await startGateway({ sharedPrefix: open.config.redisKeyPrefix });
      try {
        const roomId = room();
        const aliceId = randomUserId('alice');
        const bobId = randomUserId('bob');
        const aliceHere = await connect(open, aliceId);
        const aliceThere = await connect(second, aliceId);
        const bob = await connect(second, bobId);
        await aliceHere.request('room:join', { roomId });
        expect((await aliceThere.request<Ack>('room:join', { roomId })).members).toEqual([aliceId]);
        expect((await bob.request<Ack>('room:join', { roomId })).members?.sort()).toEqual([aliceId, bobId].sort());
        // Alice stays online while one of her sockets is in the room, on either instance.
        await aliceHere.request('room:leave', { roomId });
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect((await bob.request<Ack>('room:join', { roomId })).members?.sort()).toEqual([aliceId, bobId].sort());
        await aliceThere.request('room:leave', { roomId });
        await waitFor(() => bob.eventsNamed('presence').find((event) => event.userId === aliceId && event.online === false), 'alice offline once her last socket left', 10_000);
        expect((await bob.request<Ack>('room:join', { roomId })).members).toEqual([bobId]);
      } finally {
        for (const client of clients.splice(0)) client.close();
        await second.close();
      }
    }, 20_000);

    it('drops the members of an instance that died within the liveness bound, and announces them offline', async () => {
      const roomId = room();
      const ghosts = ['ghost-1', 'ghost-2'];
      await fakeInstance(open.config.redisKeyPrefix, roomId, ghosts, false);
      const userId = randomUserId('watcher');
      const watcher = await connect(open, userId);
      await watcher.request('room:join', { roomId });
      await waitFor(() => ghosts.every((ghost) => watcher.eventsNamed('presence').some((event) => event.userId === ghost && event.online === false)), 'the ghosts offline', INSTANCE_TTL_MS + 5_000);
      expect((await watcher.request<Ack>('room:join', { roomId })).members).toEqual([userId]);
      const keys = new RedisKeys(open.config.redisKeyPrefix);
      expect(await redis.hlen(keys.roomMembers(roomId))).toBe(1);
    }, 30_000);
  });

  describe('caps', () => {
    it(`keeps a socket in at most ${ROOM_LIMITS.roomsPerSocket} rooms: one more is refused too_many_rooms`, async () => {
      const client = await connect(open, randomUserId());
      const rooms = Array.from({ length: ROOM_LIMITS.roomsPerSocket }, () => room());
      for (const roomId of rooms) expect((await paced(client, 'room:join', { roomId })).ok).toBe(true);
      expect(await paced(client, 'room:join', { roomId: room() })).toEqual({ ok: false, error: 'too_many_rooms' });
      // A room it is in already costs nothing more; one left frees a place.
      expect((await paced(client, 'room:join', { roomId: rooms[0] })).ok).toBe(true);
      expect(await paced(client, 'room:leave', { roomId: rooms[1] })).toEqual({ ok: true });
      expect((await paced(client, 'room:join', { roomId: room() })).ok).toBe(true);
    }, 20_000);

    it(`keeps a room at ${ROOM_LIMITS.membersPerRoom} members: a new one is refused room_full, a member still rejoins`, async () => {
      const roomId = room();
      const memberId = randomUserId('member');
      const member = await connect(open, memberId);
      await member.request('room:join', { roomId });
      await fakeInstance(open.config.redisKeyPrefix, roomId, Array.from({ length: ROOM_LIMITS.membersPerRoom - 1 }, (_, i) => `crowd-${i}`), true);
      expect(await (await connect(open, randomUserId('late'))).request('room:join', { roomId })).toEqual({ ok: false, error: 'room_full' });
      const again = await connect(open, memberId);
      expect((await again.request<Ack>('room:join', { roomId })).members).toHaveLength(ROOM_LIMITS.membersPerRoom);
    });
  });

  it('ships no credential in socket data (fetchSockets from another instance sees no token, cookie or authorization), and keeps no opening request', async () => {
    const prefix = uniquePrefix();
    const [one, two] = await Promise.all([startGateway({ sharedPrefix: prefix }), startGateway({ sharedPrefix: prefix })]);
    const userId = randomUserId();
    const token = tokenWith(userId);
    const socket = io(one.url, {
      path: '/socket.io',
      transports: ['websocket'],
      auth: { token, lastEventId: '' },
      query: { access_token: token, keep: 'me' },
      extraHeaders: { Cookie: `access_token=${token}; theme=dark`, Authorization: `Bearer ${token}` },
      forceNew: true,
      reconnection: false,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const roomId = room();
      expect(((await socket.timeout(5_000).emitWithAck('room:join', { roomId })) as Ack).ok).toBe(true);
      const server = (two.app.get(RealtimeGateway) as unknown as { server: Server }).server;
      const [remote] = await server.in(`room:${roomId}`).fetchSockets();
      expect(remote).toBeDefined();
      expect(remote.data).toMatchObject({ user: { id: userId } });
      const { headers, auth, query, url } = remote.handshake;
      expect(headers.cookie).toBeUndefined();
      expect(headers.authorization).toBeUndefined();
      expect(auth).not.toHaveProperty('token');
      expect(query).not.toHaveProperty('access_token');
      expect(query).toMatchObject({ keep: 'me' });
      expect(url).not.toContain(token);
      expect(JSON.stringify(remote.handshake)).not.toContain(token);
      // The request that opened the session still held the token in rawHeaders and url: let go of.
      const local = (one.app.get(RealtimeGateway) as unknown as { server: Server }).server.of('/').sockets.get(socket.id as string);
      expect(local?.data).toMatchObject({ user: { id: userId } });
      expect(local?.conn.request).toBeNull();
    } finally {
      socket.disconnect();
      await Promise.all([one.close(), two.close()]);
      await deletePrefix(prefix);
    }
  });
});
