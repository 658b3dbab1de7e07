import { JwtService } from '@nestjs/jwt';
import http from 'node:http';
import request from 'supertest';
import { closeAfterEach } from './support/close-after-each';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { type RedisClient, testRedisClient } from './support/redis';
import { connectSocket, connected } from './support/socket-client';
import { openSse } from './support/sse-client';
import { startGateway, TEST_ADMIN_PASSWORD, TEST_API_KEY, TEST_JWT_SECRET, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * The authorization matrix of docs/security.md: every channel against every
 * kind of bad credential, each cell its own test named `<channel> › <kind>`.
 * Each channel also has a positive control (a valid token gets in), so a
 * refusal is never an artefact of a broken probe; and the "another user's
 * token" column checks that a valid token of user B never reads user A's
 * stream, history, saved searches or room.
 */

type Ack = { ok: boolean; error?: string; [key: string]: unknown };

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** Kinds of bad user token, each a function of the user it claims to be. */
const BAD_TOKENS: Record<string, (userId: string) => string | null> = {
  missing: () => null,
  malformed: () => 'not-a.jwt-at.all',
  expired: (userId) => userToken(userId, { expiresInSeconds: -60 }),
  'not yet valid (nbf in the future)': (userId) => userToken(userId, { notBeforeSeconds: 600 }),
  'wrong signature (another secret)': (userId) => userToken(userId, { secret: 'an-attackers-secret-that-is-long-enough!!' }),
  'alg none (unsigned)': (userId) => `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: userId, exp: now() + 3600 })}.`,
  'alg NoNe with a signature': (userId) => `${encode({ alg: 'NoNe', typ: 'JWT' })}.${encode({ sub: userId, exp: now() + 3600 })}.${'A'.repeat(43)}`,
  'HS512 with the right secret (HS256 only)': (userId) => new JwtService({ secret: TEST_JWT_SECRET }).sign({ sub: userId, exp: now() + 3600 }, { algorithm: 'HS512' }),
  'valid signature, no sub': () => new JwtService({ secret: TEST_JWT_SECRET }).sign({ exp: now() + 3600 }, { algorithm: 'HS256' }),
  'valid signature, sub not a user id': () => new JwtService({ secret: TEST_JWT_SECRET }).sign({ sub: 'has space', exp: now() + 3600 }, { algorithm: 'HS256' }),
  'payload of another user under the signature of mine': (userId) => {
    const [header, , signature] = userToken(userId).split('.');
    return `${header}.${userToken(`${userId}-victim`).split('.')[1]}.${signature}`;
  },
};
const badKinds = Object.keys(BAD_TOKENS);

describe('authorization matrix', () => {
  let gateway: TestGateway;
  let redis: RedisClient;
  const track = closeAfterEach();

  /** HTTP credentials in each place a user token may travel. */
  const placements = (token: string | null): Array<[string, (req: request.Test) => request.Test, string]> =>
    token === null
      ? [['nowhere', (req) => req, '']]
      : [
          ['Authorization: Bearer', (req) => req.set('Authorization', `Bearer ${token}`), ''],
          // As the gateway's own page sends it: elsewhere the cookie does not count (cookie-admission.e2e-spec.ts).
          ['access_token cookie', (req) => req.set('Cookie', `access_token=${token}`).set('Sec-Fetch-Site', 'same-origin'), ''],
          ['?access_token', (req) => req, `access_token=${encodeURIComponent(token)}`],
        ];
  const withQuery = (path: string, query: string) => (query === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${query}`);

  /** Every placement of `token` on `method path` answers 401 with the JSON error shape. */
  const expectHttpRefused = async (method: 'get' | 'post' | 'delete', path: string, token: string | null, body?: object) => {
    for (const [where, place, query] of placements(token)) {
      const req = place(request(gateway.url)[method](withQuery(path, query)));
      const response = await (body ? req.send(body) : req);
      expect({ where, status: response.status }).toEqual({ where, status: 401 });
      expect(response.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', message: expect.any(String) });
    }
  };

  /** A socket with `options`; resolves with 'connected' or the connect_error message. */
  const handshake = async (userId: string, options: Parameters<typeof connectSocket>[2]) => {
    const client = connectSocket(gateway.url, userId, options);
    track(client);
    client.socket.io.opts.reconnection = false;
    return connected(client).then(
      () => 'connected',
      (error: Error) => error.message,
    );
  };

  beforeAll(async () => {
    gateway = await startGateway({ env: { MAX_CONNECTIONS_PER_USER: '1000' } });
    redis = testRedisClient();
  });

  afterAll(async () => {
    redis.disconnect();
    await gateway.close();
  });

  describe('SSE GET /api/events', () => {
    it('valid token (control) → 200 in every placement', async () => {
      const token = userToken(randomUserId());
      for (const [path, headers] of [
        ['/api/events', { Authorization: `Bearer ${token}` }],
        ['/api/events', { Cookie: `access_token=${token}`, 'Sec-Fetch-Site': 'same-origin' }],
        [`/api/events?access_token=${token}`, {}],
      ] as Array<[string, Record<string, string>]>) {
        const stream = await openSse(gateway.url, path, headers);
        expect(stream.status).toBe(200);
        stream.close();
      }
    });
    it.each(badKinds)('%s → 401', async (kind) => {
      await expectHttpRefused('get', '/api/events', BAD_TOKENS[kind](randomUserId()));
    });
    it("another user's token → never A's notifications, live or replayed", async () => {
      const a = randomUserId('a');
      const b = randomUserId('b');
      await publish(gateway.url, a, 'job-match', { secret: 'for A' });
      const stream = await openSse(gateway.url, '/api/events', { Authorization: `Bearer ${userToken(b)}`, 'Last-Event-ID': '0' });
      await publish(gateway.url, a, 'job-match', { secret: 'for A, live' });
      const own = await publish(gateway.url, b, 'job-match', { mine: true });
      const events = await stream.waitForEvents(1);
      expect(events.map((event) => event.id)).toEqual([own]);
      expect(stream.raw).not.toContain('for A');
      stream.close();
    });
  });

  describe('Socket.IO handshake', () => {
    it('valid token (control) → connects with auth.token, Authorization or cookie', async () => {
      const userId = randomUserId();
      const token = userToken(userId);
      expect(await handshake(userId, { auth: { token } })).toBe('connected');
      expect(await handshake(userId, { auth: {}, extraHeaders: { Authorization: `Bearer ${token}` } })).toBe('connected');
      expect(await handshake(userId, { auth: {}, extraHeaders: { Cookie: `access_token=${token}`, Origin: gateway.url } })).toBe('connected');
    });
    it.each(badKinds)('%s → connect_error unauthorized', async (kind) => {
      const userId = randomUserId();
      const token = BAD_TOKENS[kind](userId);
      if (token === null) {
        expect(await handshake(userId, { auth: {} })).toBe('unauthorized');
        return;
      }
      expect(await handshake(userId, { auth: { token } })).toBe('unauthorized');
      expect(await handshake(userId, { auth: {}, extraHeaders: { Authorization: `Bearer ${token}` } })).toBe('unauthorized');
      expect(await handshake(userId, { auth: {}, extraHeaders: { Cookie: `access_token=${token}`, Origin: gateway.url } })).toBe('unauthorized');
    });
    it("another user's token → never A's notifications, direct chats or personal room", async () => {
      const a = randomUserId('a');
      const b = randomUserId('b');
      const intruder = connectSocket(gateway.url, b, { auth: { token: userToken(b), lastEventId: '0' } });
      track(intruder);
      await connected(intruder);
      // A's personal room is `user:<id>`: no room id a client may name can reach it.
      expect(await intruder.request<Ack>('room:join', { roomId: `user:${a}` })).toMatchObject({ ok: false, error: 'invalid_payload' });
      const sender = connectSocket(gateway.url, randomUserId('c'));
      track(sender);
      await connected(sender);
      expect((await sender.request<Ack>('chat', { recipientId: a, content: 'for A only' })).ok).toBe(true);
      await publish(gateway.url, a, 'job-match', { secret: 'for A' });
      const own = await publish(gateway.url, b, 'job-match', { mine: true });
      const [mine] = await intruder.waitForEvent<{ id: string }>('job-match');
      expect(mine.id).toBe(own);
      expect(JSON.stringify(intruder.received)).not.toContain('for A');
    });
  });

  describe('Socket.IO auth:refresh', () => {
    const session = async () => {
      const userId = randomUserId();
      // lastEventId 0: the feed replays from the start, so a publish right after connect is never missed.
      const client = connectSocket(gateway.url, userId, { auth: { token: userToken(userId, { expiresInSeconds: 60 }), lastEventId: '0' } });
      track(client);
      await connected(client);
      return { userId, client };
    };
    it('valid token of the same user (control) → ok with the new expiry', async () => {
      const { userId, client } = await session();
      expect(await client.request<Ack>('auth:refresh', { token: userToken(userId, { expiresInSeconds: 7200 }) })).toMatchObject({ ok: true, expiresAt: expect.any(String) });
    });
    it.each(badKinds)('%s → ok false, and the socket keeps its identity', async (kind) => {
      const { userId, client } = await session();
      const token = BAD_TOKENS[kind](userId);
      const ack = await client.request<Ack>('auth:refresh', token === null ? {} : { token });
      expect(ack).toMatchObject({ ok: false, error: token === null ? 'invalid_payload' : 'unauthorized' });
      expect(client.socket.connected).toBe(true);
      // Still the same user: its own notifications still reach it.
      const id = await publish(gateway.url, userId);
      expect((await client.waitForEvent<{ id: string }>('job-match'))[0].id).toBe(id);
    });
    it("another user's token → unauthorized: a socket cannot become someone else", async () => {
      const { userId, client } = await session();
      const victim = randomUserId('victim');
      expect(await client.request<Ack>('auth:refresh', { token: userToken(victim, { expiresInSeconds: 7200 }) })).toMatchObject({ ok: false, error: 'unauthorized' });
      await publish(gateway.url, victim, 'job-match', { secret: 'for the victim' });
      const own = await publish(gateway.url, userId);
      expect((await client.waitForEvent<{ id: string }>('job-match'))[0].id).toBe(own);
      expect(JSON.stringify(client.received)).not.toContain('for the victim');
    });
  });

  describe('polling GET /api/notifications', () => {
    it('valid token (control) → 200 in every placement', async () => {
      for (const [, place, query] of placements(userToken(randomUserId()))) {
        expect((await place(request(gateway.url).get(withQuery('/api/notifications', query)))).status).toBe(200);
      }
    });
    it.each(badKinds)('%s → 401', async (kind) => {
      await expectHttpRefused('get', '/api/notifications', BAD_TOKENS[kind](randomUserId()));
    });
    it("another user's token → only B's own history, whatever `after` says", async () => {
      const a = randomUserId('a');
      const b = randomUserId('b');
      const ofA = await publish(gateway.url, a, 'job-match', { secret: 'for A' });
      const page = await request(gateway.url).get('/api/notifications?after=0').set('Authorization', `Bearer ${userToken(b)}`);
      expect(page.body).toEqual({ items: [], lastId: '0-0' });
      // Even naming A's id as the cursor gives nothing of A's.
      const named = await request(gateway.url).get(`/api/notifications?after=${ofA.replace(/-\d+$/, '-0')}`).set('Authorization', `Bearer ${userToken(b)}`);
      expect(named.body.items).toEqual([]);
    });
  });

  describe('saved searches', () => {
    it('valid token (control) → 200/201/204', async () => {
      const token = userToken(randomUserId());
      const created = await request(gateway.url).post('/api/saved-searches').set('Authorization', `Bearer ${token}`).send({ keywords: ['go'] });
      expect(created.status).toBe(201);
      expect((await request(gateway.url).get('/api/saved-searches').set('Authorization', `Bearer ${token}`)).status).toBe(200);
      expect((await request(gateway.url).delete(`/api/saved-searches/${created.body.id}`).set('Authorization', `Bearer ${token}`)).status).toBe(204);
    });
    it.each(badKinds)('%s → 401 on list, create and delete, nothing created', async (kind) => {
      const userId = randomUserId();
      const token = BAD_TOKENS[kind](userId);
      await expectHttpRefused('get', '/api/saved-searches', token);
      await expectHttpRefused('post', '/api/saved-searches', token, { keywords: ['go'] });
      await expectHttpRefused('delete', '/api/saved-searches/00000000-0000-0000-0000-000000000000', token);
      expect(await redis.exists(`${gateway.config.redisKeyPrefix}:saved-searches:{${userId}}`)).toBe(0);
    });
    it("another user's token → cannot list or delete A's searches", async () => {
      const a = randomUserId('a');
      const b = randomUserId('b');
      const created = await request(gateway.url).post('/api/saved-searches').set('Authorization', `Bearer ${userToken(a)}`).send({ keywords: ['secret project'] });
      const asB = { Authorization: `Bearer ${userToken(b)}` };
      expect((await request(gateway.url).get('/api/saved-searches').set(asB)).body).toEqual({ items: [] });
      expect((await request(gateway.url).delete(`/api/saved-searches/${created.body.id}`).set(asB)).status).toBe(404);
      expect((await request(gateway.url).get('/api/saved-searches').set('Authorization', `Bearer ${userToken(a)}`)).body.items).toHaveLength(1);
    });
  });

  /** Credentials an internal endpoint may be offered instead of `X-Api-Key: <INTERNAL_API_KEY>`. */
  const BAD_KEYS: Record<string, (req: request.Test) => request.Test> = {
    missing: (req) => req,
    'wrong key': (req) => req.set('X-Api-Key', 'not-the-key'),
    'the key minus its last character': (req) => req.set('X-Api-Key', TEST_API_KEY.slice(0, -1)),
    'the key plus a character': (req) => req.set('X-Api-Key', `${TEST_API_KEY}x`),
    'the key as Bearer token': (req) => req.set('Authorization', `Bearer ${TEST_API_KEY}`),
    'the key as ?apiKey': (req) => req.query({ apiKey: TEST_API_KEY, 'X-Api-Key': TEST_API_KEY }),
    "a valid user's token": (req) => req.set('Authorization', `Bearer ${userToken(randomUserId())}`),
    'an empty X-Api-Key': (req) => req.set('X-Api-Key', ''),
  };
  const keyKinds = Object.keys(BAD_KEYS);

  describe('internal POST /api/notifications', () => {
    it('the internal key (control) → 202', async () => {
      const response = await request(gateway.url).post('/api/notifications').set('X-Api-Key', TEST_API_KEY).send({ userId: randomUserId(), type: 'job-match', data: {} });
      expect(response.status).toBe(202);
    });
    it.each(keyKinds)('%s → 401, nothing stored', async (kind) => {
      const userId = randomUserId();
      const response = await BAD_KEYS[kind](request(gateway.url).post('/api/notifications')).send({ userId, type: 'job-match', data: {} });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ statusCode: 401 });
      expect(await redis.exists(`${gateway.config.redisKeyPrefix}:history:{${userId}}`)).toBe(0);
    });
  });

  describe('internal POST /api/jobs', () => {
    it('the internal key (control) → 202', async () => {
      const response = await request(gateway.url).post('/api/jobs').set('X-Api-Key', TEST_API_KEY).send({ id: `am-${randomUserId()}`, title: 't', company: 'c' });
      expect(response.status).toBe(202);
    });
    it.each(keyKinds)('%s → 401, nothing queued', async (kind) => {
      const id = `am-${randomUserId()}`;
      const response = await BAD_KEYS[kind](request(gateway.url).post('/api/jobs')).send({ id, title: 't', company: 'c' });
      expect(response.status).toBe(401);
      expect(await redis.exists(`${gateway.config.redisKeyPrefix}:job-postings:${id}`)).toBe(0);
    });
  });

  /** What may be offered instead of Basic auth with ADMIN_PASSWORD: the internal key among them (issue 13). */
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const BAD_ADMIN: Record<string, (req: request.Test) => request.Test> = {
    missing: (req) => req,
    'Basic with a wrong password': (req) => req.auth('admin', 'nope'),
    'the password minus its last character': (req) => req.auth('admin', TEST_ADMIN_PASSWORD.slice(0, -1)),
    'the password plus a character': (req) => req.auth('admin', `${TEST_ADMIN_PASSWORD}x`),
    'the password as user name': (req) => req.auth(TEST_ADMIN_PASSWORD, 'x'),
    'the password as X-Api-Key': (req) => req.set('X-Api-Key', TEST_ADMIN_PASSWORD),
    'the password as Bearer token': (req) => req.set('Authorization', `Bearer ${TEST_ADMIN_PASSWORD}`),
    'the internal key as X-Api-Key': (req) => req.set('X-Api-Key', TEST_API_KEY),
    'the internal key as Basic password': (req) => req.auth('admin', TEST_API_KEY),
    "a valid user's token": (req) => req.set('Authorization', `Bearer ${userToken(randomUserId())}`),
    'Basic with an empty password': (req) => req.set('Authorization', basic('admin', '')),
    'Basic that is not base64': (req) => req.set('Authorization', 'Basic %%%'),
  };
  const adminPaths: Array<['get' | 'put', string]> = [
    ['get', '/admin/queues'],
    ['get', '/admin/queues/api/queues'],
    ['put', '/admin/queues/api/queues/job-postings/clean/completed'],
  ];

  describe('Bull Board /admin/queues', () => {
    it('the admin password (control) → 200 as the Basic password, whatever the user name', async () => {
      expect((await request(gateway.url).get('/admin/queues').auth('admin', TEST_ADMIN_PASSWORD)).status).toBe(200);
      expect((await request(gateway.url).get('/admin/queues/api/queues').auth('ops', TEST_ADMIN_PASSWORD)).status).toBe(200);
      expect((await request(gateway.url).get('/admin/queues/api/queues').set('Authorization', basic('', TEST_ADMIN_PASSWORD))).status).toBe(200);
    });
    it.each(Object.keys(BAD_ADMIN))('%s → 401 with WWW-Authenticate on the page and the API', async (kind) => {
      for (const [method, path] of adminPaths) {
        const response = await BAD_ADMIN[kind](request(gateway.url)[method](path));
        expect({ path, status: response.status }).toEqual({ path, status: 401 });
        expect(response.headers['www-authenticate']).toMatch(/^Basic realm="queues"/);
      }
    });
    it('ADMIN_PASSWORD unset → 401 to everyone, the internal key and the would-be password included', async () => {
      const closed = await startGateway({ env: { ADMIN_PASSWORD: '' } });
      try {
        for (const place of [...Object.values(BAD_ADMIN), (req: request.Test) => req.auth('admin', TEST_ADMIN_PASSWORD)]) {
          for (const [method, path] of adminPaths) {
            const response = await place(request(closed.url)[method](path));
            expect({ path, status: response.status }).toEqual({ path, status: 401 });
            expect(response.headers['www-authenticate']).toMatch(/^Basic realm="queues"/);
          }
        }
      } finally {
        await closed.close();
      }
    });
    it('sends no CORS headers, even to an origin in CORS_ORIGINS', async () => {
      const origin = 'https://app.example';
      const withCors = await startGateway({ env: { CORS_ORIGINS: origin } });
      try {
        // Control: the same origin does get CORS on the API, so a missing header below is not a broken probe.
        const api = await request(withCors.url).get('/health').set('Origin', origin);
        expect(api.headers['access-control-allow-origin']).toBe(origin);
        const noCors = (headers: Record<string, unknown>) => Object.keys(headers).filter((name) => name.startsWith('access-control-'));
        for (const path of ['/admin/queues', '/admin/queues/api/queues', '/ADMIN/queues', '/admin/']) {
          const page = await request(withCors.url).get(path).set('Origin', origin).auth('admin', TEST_ADMIN_PASSWORD);
          expect({ path, cors: noCors(page.headers) }).toEqual({ path, cors: [] });
          const preflight = await request(withCors.url)
            .options(path)
            .set('Origin', origin)
            .set('Access-Control-Request-Method', 'PUT')
            .set('Access-Control-Request-Headers', 'authorization');
          expect({ path, cors: noCors(preflight.headers) }).toEqual({ path, cors: [] });
        }
        expect((await request(withCors.url).get('/admin/queues').set('Origin', origin).auth('admin', TEST_ADMIN_PASSWORD)).status).toBe(200);
      } finally {
        await withCors.close();
      }
    });
  });

  describe('internal endpoints with INTERNAL_API_KEY unset', () => {
    it('every credential, the would-be key included → 401', async () => {
      const closed = await startGateway({ env: { INTERNAL_API_KEY: '' } });
      try {
        for (const kind of keyKinds) {
          expect((await BAD_KEYS[kind](request(closed.url).post('/api/notifications')).send({ userId: 'u', type: 't', data: {} })).status).toBe(401);
        }
        expect((await request(closed.url).post('/api/notifications').set('X-Api-Key', TEST_API_KEY).send({ userId: 'u', type: 't', data: {} })).status).toBe(401);
        expect((await request(closed.url).post('/api/jobs').set('X-Api-Key', TEST_API_KEY).send({ id: 'x1', title: 't', company: 'c' })).status).toBe(401);
        expect((await request(closed.url).get('/admin/queues').set('X-Api-Key', TEST_API_KEY)).status).toBe(401);
        expect((await request(closed.url).get('/admin/queues').auth('ops', '')).status).toBe(401);
      } finally {
        await closed.close();
      }
    });
  });

  describe('cross-site requests riding the access_token cookie', () => {
    // What an HTML form or a no-cors fetch on another site can send without a CORS preflight.
    it.each([
      ['application/x-www-form-urlencoded', 'keywords[0]=csrf&keywords[1]=attack'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="keywords[0]"\r\n\r\ncsrf\r\n--x--\r\n'],
      ['text/plain', '{"keywords":["csrf"]}'],
    ])('a %s body → 415, nothing created', async (contentType, body) => {
      const victim = randomUserId('victim');
      const response = await request(gateway.url)
        .post('/api/saved-searches')
        .set('Cookie', `access_token=${userToken(victim)}`)
        .set('Origin', 'https://evil.example')
        .set('Content-Type', contentType)
        .send(body);
      expect(response.status).toBe(415);
      expect(response.body).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(await redis.exists(`${gateway.config.redisKeyPrefix}:saved-searches:{${victim}}`)).toBe(0);
    });

    it('a JSON body (which needs a preflight cross-site) from the gateway’s own page still works', async () => {
      const response = await request(gateway.url)
        .post('/api/saved-searches')
        .set({ Cookie: `access_token=${userToken(randomUserId())}`, Origin: gateway.url })
        .send({ keywords: ['go'] });
      expect(response.status).toBe(201);
    });
  });

  describe('HTTP security headers (helmet)', () => {
    const expectSecurityHeaders = (headers: http.IncomingHttpHeaders) => {
      expect(headers['content-security-policy']).toContain("default-src 'self'");
      expect(headers['content-security-policy']).toContain("script-src 'self'");
      expect(headers['content-security-policy']).toContain("connect-src 'self'");
      expect(headers['content-security-policy']).toContain("frame-ancestors 'self'");
      expect(headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['strict-transport-security']).toMatch(/^max-age=\d+/);
      expect(headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(headers['x-powered-by']).toBeUndefined();
    };

    it('are on REST answers, errors and the demo route', async () => {
      for (const response of [
        await request(gateway.url).get('/health'),
        await request(gateway.url).get('/api/notifications'),
        await request(gateway.url).get('/api/nope'),
        await request(gateway.url).get('/'),
      ]) {
        expectSecurityHeaders(response.headers);
      }
    });

    it('are on the SSE stream as far as they bind a non-document (nosniff, CORP, HSTS), which keeps its own headers, no compression and unbuffered delivery', async () => {
      const userId = randomUserId();
      const stream = await openSse(gateway.url, '/api/events', { Authorization: `Bearer ${userToken(userId)}`, 'Accept-Encoding': 'gzip, br' });
      try {
        expect(stream.headers['x-content-type-options']).toBe('nosniff');
        expect(stream.headers['cross-origin-resource-policy']).toBe('same-origin');
        expect(stream.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
        expect(stream.headers['x-powered-by']).toBeUndefined();
        // Document-only headers are left out: each is held for the life of the connection.
        expect(stream.headers['content-security-policy']).toBeUndefined();
        expect(stream.headers['content-type']).toBe('text/event-stream');
        expect(stream.headers['cache-control']).toBe('no-cache');
        expect(stream.headers['x-accel-buffering']).toBe('no');
        expect(stream.headers['content-encoding']).toBeUndefined();
        await waitFor(() => stream.blocks.length > 0, 'the opening block');
        const id = await publish(gateway.url, userId);
        expect((await stream.waitForEvents(1))[0].id).toBe(id);
      } finally {
        stream.close();
      }
    });
  });
});
