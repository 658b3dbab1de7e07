import fc from 'fast-check';
import request from 'supertest';
import WebSocket from 'ws';
import { RedisKeys } from '@app/notifications';
import { LiveConnections } from '../apps/gateway/src/connections/live-connections';
import { SOCKET_MAX_MESSAGE_BYTES } from '../apps/gateway/src/realtime/redis-io.adapter';
import { ROOM_LIMITS } from '../apps/gateway/src/realtime/rooms';
import { USER_ID } from './support/contract-oracles';
import { countCase, deeplyNested, deepJsonText, fuzzParameters, fuzzTimeout, hostileJson, hostileString, mutated, overTheWire, printFuzzTally } from './support/fuzz';
import { randomUserId } from './support/prefix';
import { type RedisClient, testRedisClient } from './support/redis';
import { connectSocket, connected, type TestSocket } from './support/socket-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * Property-based fuzzing of the Socket.IO edge: every client event with an ack,
 * fire-and-forget and multi-argument emits, binary payloads, the handshake's
 * auth, and raw engine.io/Socket.IO frames no client library would send. Every
 * ack is `{ ok: true, ... }` or `{ ok: false, error }` with a documented code,
 * never `internal_error`; a bad payload never costs the socket its connection;
 * and a refused direct chat stores nothing for its recipient.
 */

type Ack = { ok: boolean; error?: string; field?: string; members?: string[]; expiresAt?: string | null };

const ROOM = /^[A-Za-z0-9_-]{1,64}$/;
const POISON = ['__proto__', 'constructor', 'prototype'];
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
const onlyKeys = (value: Record<string, unknown>, allowed: string[]) => Object.keys(value).every((key) => allowed.includes(key));
/** Content of 1 to 4000 characters; class-validator counts a surrogate pair, or a character with its variation selector, as one. */
const contentVerdict = (content: unknown): 'valid' | 'invalid' | 'either' => {
  if (typeof content !== 'string') return 'invalid';
  if (/[\uFE0E\uFE0F]/.test(content)) return 'either';
  const length = [...content].length;
  return length >= 1 && length <= 4000 ? 'valid' : 'invalid';
};
const hasPoison = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && !Buffer.isBuffer(value) &&
  ((!Array.isArray(value) && Object.keys(value).some((key) => POISON.includes(key))) || Object.values(value).some(hasPoison));

/** What an event's ack must be for a payload, by the contract (docs/api.md, Socket.IO client events). */
function expectedAck(event: string, payload: unknown, memberOf: ReadonlySet<string>, userId: string): { ok: boolean | 'either'; errors: string[] } {
  const invalid = { ok: false, errors: ['invalid_payload'] };
  if (!isPlainObject(payload) || hasPoison(payload)) return invalid;
  const roomValid = typeof payload.roomId === 'string' && ROOM.test(payload.roomId);
  const member = typeof payload.roomId === 'string' && memberOf.has(payload.roomId);
  switch (event) {
    case 'room:join':
      if (!(onlyKeys(payload, ['roomId']) && roomValid)) return invalid;
      // A long run (FUZZ_SCALE) can fill a socket's rooms.
      return member || memberOf.size < ROOM_LIMITS.roomsPerSocket ? { ok: true, errors: [] } : { ok: false, errors: ['too_many_rooms'] };
    case 'room:leave':
      if (!(onlyKeys(payload, ['roomId']) && roomValid)) return invalid;
      return member ? { ok: true, errors: [] } : { ok: false, errors: ['not_a_member'] };
    case 'chat': {
      const direct = 'recipientId' in payload;
      const allowed = direct ? ['recipientId', 'content'] : ['roomId', 'content'];
      const target = direct ? typeof payload.recipientId === 'string' && USER_ID.test(payload.recipientId) : roomValid;
      const content = contentVerdict(payload.content);
      if (!onlyKeys(payload, allowed) || !target || content === 'invalid') return invalid;
      const outcome = direct || member ? { ok: true as boolean | 'either', errors: [] as string[] } : { ok: false, errors: ['not_a_member'] };
      return content === 'either' ? { ok: 'either', errors: ['invalid_payload', ...outcome.errors] } : outcome;
    }
    case 'typing':
      if (!(onlyKeys(payload, ['roomId', 'isTyping']) && roomValid && typeof payload.isTyping === 'boolean')) return invalid;
      return member ? { ok: true, errors: [] } : { ok: false, errors: ['not_a_member'] };
    case 'cursor-move': {
      const finite = (n: unknown) => typeof n === 'number' && Number.isFinite(n);
      if (!(onlyKeys(payload, ['roomId', 'x', 'y']) && roomValid && finite(payload.x) && finite(payload.y))) return invalid;
      return member ? { ok: true, errors: [] } : { ok: false, errors: ['not_a_member'] };
    }
    case 'auth:refresh':
      if (!(onlyKeys(payload, ['token']) && typeof payload.token === 'string')) return invalid;
      return isOwnValidToken(payload.token, userId) ? { ok: true, errors: [] } : { ok: false, errors: ['unauthorized'] };
    default:
      return invalid;
  }
}

/** Tokens the fuzzer may produce that are valid for the user: only the ones it was handed. */
const validTokens = new Map<string, string>();
function isOwnValidToken(token: string, userId: string): boolean {
  return validTokens.get(token) === userId;
}

jest.setTimeout(fuzzTimeout(60_000));

describe('fuzz: Socket.IO edge', () => {
  let gateway: TestGateway;
  let redis: RedisClient;
  /** Each socket with the rooms it is in (the fuzzing joins and leaves rooms as it goes). */
  const pool: Array<{ client: TestSocket; userId: string; disconnects: number; rooms: Set<string> }> = [];
  const sharedRoom = 'fz-room';
  const recipients = [randomUserId('fz-rcpt'), randomUserId('fz-rcpt')];
  let next = 0;
  const take = () => pool[next++ % pool.length];
  const historyLength = (userId: string) => redis.xlen(new RedisKeys(gateway.config.redisKeyPrefix).userStream(userId));

  beforeAll(async () => {
    gateway = await startGateway({ env: { MAX_CONNECTIONS_PER_USER: '1000' } });
    redis = testRedisClient();
    // Enough sockets that round-robin fuzzing stays under each one's 20 events a second.
    const users = Array.from({ length: 8 }, () => randomUserId('fz-sock'));
    for (let i = 0; i < 40; i++) {
      const userId = users[i % users.length];
      const client = connectSocket(gateway.url, userId);
      await connected(client);
      const entry = { client, userId, disconnects: 0, rooms: new Set([sharedRoom]) };
      client.socket.on('disconnect', () => entry.disconnects++);
      expect((await client.request<Ack>('room:join', { roomId: sharedRoom })).ok).toBe(true);
      pool.push(entry);
    }
  });

  afterAll(async () => {
    printFuzzTally('fuzz-socket');
    for (const { client } of pool) client.close();
    redis.disconnect();
    await gateway.close();
  });

  afterEach(() => {
    // The promise of the edge: no bad input cost any socket its connection.
    expect(pool.filter((entry) => entry.disconnects > 0 || !entry.client.socket.connected).map((entry) => entry.client.socket.id)).toEqual([]);
  });

  // Socket.IO frames over SOCKET_MAX_MESSAGE_BYTES close the connection by design (engine.io's rule, its own test below).
  const fits = <T>(arbitrary: fc.Arbitrary<T>) => arbitrary.filter((value) => Buffer.byteLength(JSON.stringify(value) ?? '') < SOCKET_MAX_MESSAGE_BYTES - 1_024);
  const roomId = fc.oneof(fc.constant(sharedRoom), fc.stringMatching(ROOM), hostileString(70));
  const content = fc.oneof(fc.string({ minLength: 1, maxLength: 50 }), hostileString(50), fc.constantFrom('x'.repeat(4000), 'x'.repeat(4001), '😀'.repeat(4000), 'e\uFE0F'.repeat(10)));
  const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.MAX_VALUE, -0, 1e308));
  const payloads: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
    'room:join': fc.record({ roomId }),
    'room:leave': fc.record({ roomId: fc.oneof(fc.stringMatching(ROOM), hostileString(70)) }),
    chat: fc.oneof(fc.record({ roomId, content }), fc.record({ recipientId: fc.oneof(fc.constantFrom(...recipients), hostileString(130)), content })),
    typing: fc.record({ roomId, isTyping: fc.oneof(fc.boolean(), hostileJson()) }),
    'cursor-move': fc.record({ roomId, x: number, y: number }),
    'auth:refresh': fc.record({ token: fc.oneof(hostileString(200), fc.constant('OWN'), fc.constant('OTHER'), fc.constant('EXPIRED')) }),
  };

  for (const event of Object.keys(payloads)) {
    it(`acks every ${event} payload with ok or a documented error, never internal_error, and keeps the socket`, async () => {
      const otherToken = userToken(randomUserId('fz-other'));
      await fc.assert(
        fc.asyncProperty(fc.oneof({ weight: 5, arbitrary: fits(mutated(payloads[event])) }, { weight: 1, arbitrary: fits(hostileJson()) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) }), async (raw) => {
          countCase(`socket ${event}`);
          const entry = take();
          // Stand-ins for tokens made per case: the user's own, another user's, an expired one.
          let payload: unknown = raw;
          if (isPlainObject(raw) && typeof raw.token === 'string' && ['OWN', 'OTHER', 'EXPIRED'].includes(raw.token)) {
            const token = raw.token === 'OWN' ? userToken(entry.userId) : raw.token === 'OTHER' ? otherToken : userToken(entry.userId, { expiresInSeconds: -10 });
            if (raw.token === 'OWN') validTokens.set(token, entry.userId);
            payload = { ...raw, token };
          }
          const wire = Buffer.isBuffer(payload) ? payload : overTheWire(payload);
          const direct = event === 'chat' && isPlainObject(wire) && typeof wire.recipientId === 'string' && recipients.includes(wire.recipientId) ? wire.recipientId : null;
          const before = direct === null ? 0 : await historyLength(direct);
          const ack = await entry.client.request<Ack>(event, payload);
          const expected = expectedAck(event, wire, entry.rooms, entry.userId);
          expect(typeof ack.ok).toBe('boolean');
          if (ack.ok === false && ack.error === 'rate_limited') return; // a valid answer; the pool keeps it rare
          if (expected.ok !== 'either') expect({ ok: ack.ok, payload: wire }).toEqual({ ok: expected.ok, payload: wire });
          if (ack.ok === false) expect(expected.errors).toContain(ack.error);
          if (ack.ok && event === 'room:join') {
            expect(ack.members).toContain(entry.userId);
            entry.rooms.add((wire as { roomId: string }).roomId);
          }
          if (ack.ok && event === 'room:leave') {
            entry.rooms.delete((wire as { roomId: string }).roomId);
            if (!entry.rooms.has(sharedRoom)) {
              expect((await entry.client.request<Ack>('room:join', { roomId: sharedRoom })).ok).toBe(true);
              entry.rooms.add(sharedRoom);
            }
          }
          if (direct !== null) expect(await historyLength(direct)).toBe(before + (ack.ok ? 1 : 0));
        }),
        fuzzParameters(event === 'chat' ? 400 : 250),
      );
    });
  }

  it('survives fire-and-forget emits, extra arguments and unknown event names without dropping the socket', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom('room:join', 'chat', 'typing', 'cursor-move', 'auth:refresh', 'room:leave'), hostileString(20).filter((name) => !['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'].includes(name))),
        fits(fc.array(fc.oneof(hostileJson(), hostileString(30)), { maxLength: 4 })),
        fc.boolean(),
        async (event, args, withAck) => {
          countCase('socket any event, any arguments');
          const entry = take();
          const known = ['room:join', 'chat', 'typing', 'cursor-move', 'auth:refresh', 'room:leave'].includes(event);
          if (withAck) {
            // Unknown events are not answered (no handler to ack them): a short wait shows it. Known ones always are.
            const ack = await entry.client.socket.timeout(known ? 5_000 : 100).emitWithAck(event, ...args).catch((error: Error) => ({ timeout: error.message }));
            if (known) expect(typeof (ack as Ack).ok).toBe('boolean');
          } else {
            entry.client.socket.emit(event, ...args);
          }
          const check = await entry.client.request<Ack>('typing', { roomId: sharedRoom, isTyping: false });
          expect(check.ok || check.error === 'rate_limited').toBe(true);
        },
      ),
      fuzzParameters(200),
    );
  });

  it('refuses payloads nested deeper than the limit or carrying __proto__, with invalid_payload', async () => {
    const entry = take();
    for (const payload of [
      { roomId: deeplyNested(65, 'object') },
      { roomId: sharedRoom, content: deeplyNested(1_000, 'array') },
      JSON.parse('{"roomId":"fz-room","__proto__":{"content":"smuggled"}}'),
      JSON.parse('{"roomId":"fz-room","content":"hi","constructor":{"prototype":{"polluted":true}}}'),
    ]) {
      countCase('socket nested and __proto__ payloads');
      const ack = await entry.client.request<Ack>('chat', payload);
      expect(ack).toMatchObject({ ok: false, error: 'invalid_payload' });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('closes only the connection of a frame over the size limit (engine.io), and the stock client comes back by itself', async () => {
    countCase('socket oversized frame');
    const userId = randomUserId('fz-big');
    const big = connectSocket(gateway.url, userId);
    await connected(big);
    let reconnected = false;
    big.socket.io.on('reconnect', () => (reconnected = true));
    big.socket.emit('chat', { roomId: sharedRoom, content: 'x'.repeat(SOCKET_MAX_MESSAGE_BYTES) });
    await waitFor(() => reconnected && big.socket.connected, 'the oversized sender to reconnect', 10_000);
    expect((await big.request<Ack>('room:join', { roomId: sharedRoom })).ok).toBe(true);
    big.close();
  });

  describe('handshake', () => {
    it('connects exactly with a valid token and a valid or absent lastEventId, and refuses the rest with a documented connect_error', async () => {
      const userId = randomUserId('fz-hs');
      const lastEventId = fc.oneof(
        fc.constantFrom(undefined, null, '', '0', '0-0', '1732190000000-5', 1732190000000, 1.5, -1, 1e21, true, [], {}, '18446744073709551616'),
        hostileString(30),
      );
      const token = fc.oneof(fc.constant('VALID'), fc.constant('EXPIRED'), fc.constant('NBF'), hostileString(100), fc.constantFrom(undefined, null, 42, {}, []));
      await fc.assert(
        fc.asyncProperty(token, lastEventId, fc.option(fits(hostileJson()), { freq: 3 }), async (tokenKind, resumeId, extra) => {
          countCase('socket handshake auth');
          const tokenValue =
            tokenKind === 'VALID' ? userToken(userId) : tokenKind === 'EXPIRED' ? userToken(userId, { expiresInSeconds: -10 }) : tokenKind === 'NBF' ? userToken(userId, { notBeforeSeconds: 600 }) : tokenKind;
          const auth = overTheWire({ ...(isPlainObject(extra) ? extra : {}), token: tokenValue, lastEventId: resumeId }) as Record<string, unknown>;
          const client = connectSocket(gateway.url, userId, { auth });
          client.socket.io.opts.reconnection = false;
          try {
            const outcome = await connected(client).then(
              () => 'connected',
              (error: Error) => error.message,
            );
            const sentId = auth.lastEventId;
            const idAbsent = sentId === undefined || sentId === null || sentId === '';
            // Strings only: a JSON number cannot carry a 64-bit id exactly.
            const idValid =
              idAbsent ||
              (typeof sentId === 'string' &&
                /^\d{1,20}(-\d{1,20})?$/.test(sentId.trim()) &&
                sentId.trim().split('-').every((part) => BigInt(part) <= 18446744073709551615n));
            if (tokenKind !== 'VALID') expect(outcome).toBe('unauthorized');
            else expect(outcome).toBe(idValid ? 'connected' : 'bad_cursor');
          } finally {
            client.close();
          }
        }),
        fuzzParameters(150),
      );
    });
  });

  describe('raw frames', () => {
    /** A raw WebSocket speaking engine.io v4 and Socket.IO v5 by hand, connected to the default namespace. */
    const rawSocket = async (userId: string) => {
      const ws = new WebSocket(`${gateway.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
      const frames: string[] = [];
      let closed = false;
      ws.on('message', (data) => frames.push(data.toString()));
      ws.on('close', () => (closed = true));
      ws.on('error', () => (closed = true));
      await waitFor(() => frames.some((frame) => frame.startsWith('0{')), 'the engine.io open packet');
      ws.send(`40${JSON.stringify({ token: userToken(userId) })}`);
      await waitFor(() => frames.some((frame) => frame.startsWith('40{')), 'the Socket.IO connect packet');
      return { ws, frames, isClosed: () => closed };
    };

    it('takes any text or binary frame without crashing or harming other clients; a frame it cannot parse closes only that connection', async () => {
      const control = pool[0];
      const frame = fc.oneof(
        hostileString(200),
        fc.constantFrom(
          '42["room:join",{"roomId":"fz-room"},"extra"]',
          '42["__proto__"]',
          '42["constructor",{}]',
          '42["disconnect"]',
          '42["connect"]',
          '42[]',
          '42{}',
          '42',
          '42["chat"',
          '42["chat",{"roomId":"fz-room","content":"x"}]garbage',
          '421["chat",{"roomId":"fz-room","content":"hi"}]',
          '4299999999999999999999["room:join",{"roomId":"a"}]',
          '43999["x"]',
          '451-["chat",{"_placeholder":true,"num":0}]',
          '452-["chat",{"_placeholder":true,"num":7},{"_placeholder":true,"num":-1}]',
          '42/nope,["chat",{}]',
          '40/nope,',
          '41',
          '44{"message":"x"}',
          '2probe',
          '3',
          '5',
          '6',
          '9',
          '4',
          '',
          deepJsonText(30_000, 'array', '42["chat",', ']'),
          deepJsonText(10_000, 'object', '42["room:join",', ']'),
        ),
        fc.string({ maxLength: 100 }).map((tail) => `42${tail}`),
        fc.jsonValue({ maxDepth: 3 }).map((value) => `42${JSON.stringify(value)}`),
        fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      );
      let closedByServer = 0;
      let rawRequests = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 5 }), async (frames) => {
          countCase('raw engine.io / Socket.IO frames');
          const raw = await rawSocket(control.userId);
          for (const payload of frames) if (!raw.isClosed()) raw.ws.send(payload);
          // Then a valid request on the same connection: either it is answered (the junk was shrugged
          // off) or the server has closed the connection (the junk could not be parsed). Nothing else.
          const ackId = 7_000 + (rawRequests++ % 1_000);
          if (!raw.isClosed()) raw.ws.send(`42${ackId}["room:join",{"roomId":"fz-raw"}]`);
          const answered = () => raw.frames.some((f) => f.startsWith(`43${ackId}[{"ok":true`));
          // A DISCONNECT packet for the namespace ("41") is a valid request: the socket leaves, the
          // transport stays, and later events on that namespace go unanswered, as the protocol says.
          const leftNamespace = frames.some((f) => f === '41');
          const settled = waitFor(() => answered() || raw.isClosed(), 'an answer or a close on the raw connection', leftNamespace ? 1_000 : 5_000);
          if (leftNamespace) await settled.catch(() => undefined);
          else await settled;
          if (raw.isClosed()) closedByServer++;
          // Whatever it made of them, the gateway still serves everyone else.
          const ack = await control.client.request<Ack>('typing', { roomId: sharedRoom, isTyping: true });
          expect(ack.ok || ack.error === 'rate_limited').toBe(true);
          raw.ws.terminate();
        }),
        fuzzParameters(150),
      );
      process.stdout.write(`raw frame batches that made the server close that connection: ${closedByServer}\n`);
      expect((await request(gateway.url).get('/health')).status).toBe(200);
      // Every raw connection is gone from the gateway's books: only the pool is left.
      const live = gateway.app.get(LiveConnections);
      await waitFor(() => live.size === pool.length || null, 'the raw sockets to be released', 5_000);
    });
  });
});
