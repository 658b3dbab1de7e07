import type { IncomingMessage } from 'node:http';
import request from 'supertest';
import { NotificationFanout } from '@app/notifications';
import { SseConnections } from '../apps/gateway/src/events/sse-connections';
import { SSE_MAX_BUFFERED_BYTES } from '../apps/gateway/src/events/sse-connection';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { testRedisClient } from './support/redis';
import { openSse, type RawSseStream } from './support/sse-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

describe('SSE: GET /api/events', () => {
  let gateway: TestGateway;
  const streams: RawSseStream[] = [];

  const subscribe = async (userId: string, query = '', headers: Record<string, string> = {}, target = gateway) => {
    const stream = await openSse(target.url, `/api/events${query}`, { Authorization: `Bearer ${userToken(userId)}`, ...headers });
    streams.push(stream);
    return stream;
  };
  const ids = (stream: RawSseStream) => stream.events.map((event) => event.id);

  beforeAll(async () => {
    gateway = await startGateway({ env: { SSE_HEARTBEAT_MS: '100', SSE_RETRY_MS: '1234' } });
  });

  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
  });

  afterAll(async () => {
    await gateway.close();
  });

  describe('the stream', () => {
    it('answers 200 with the contract headers, then `retry:` first, uncompressed', async () => {
      const stream = await subscribe(randomUserId(), '', { 'Accept-Encoding': 'gzip, deflate, br' });
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toBe('text/event-stream');
      expect(stream.headers['cache-control']).toBe('no-cache');
      expect(stream.headers['x-accel-buffering']).toBe('no');
      expect(stream.headers['content-encoding']).toBeUndefined();
      await waitFor(() => stream.blocks.length > 0, 'the opening block');
      expect(stream.raw.startsWith('retry: 1234\n')).toBe(true);
    });

    it('sends `: heartbeat` comments every SSE_HEARTBEAT_MS', async () => {
      const stream = await subscribe(randomUserId());
      await waitFor(() => stream.blocks.filter((block) => block.comments.includes('heartbeat')).length >= 3, 'three heartbeats', 3_000);
      expect(stream.raw).toContain('\n: heartbeat\n\n');
    });

    it('frames each notification as id, event and data lines carrying the notification JSON', async () => {
      const userId = randomUserId();
      const stream = await subscribe(userId);
      const id = await publish(gateway.url, userId, 'job-match', { jobId: 'j1', title: 'Line one\nline two' });
      const [event] = await stream.waitForEvents(1);
      expect(event.id).toBe(id);
      expect(event.event).toBe('job-match');
      expect(JSON.parse(event.data as string)).toEqual({
        id,
        type: 'job-match',
        userId,
        data: { jobId: 'j1', title: 'Line one\nline two' },
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      expect(stream.raw).toContain(`\n\nid: ${id}\nevent: job-match\ndata: ${event.data}\n\n`);
    });

    it('delivers every notification of a user, in order, to each of their connections', async () => {
      const userId = randomUserId();
      const first = await subscribe(userId);
      const second = await subscribe(userId);
      const published: string[] = [];
      for (let i = 0; i < 20; i++) published.push(await publish(gateway.url, userId, 'job-match', { i }));
      await first.waitForEvents(20);
      await second.waitForEvents(20);
      expect(ids(first)).toEqual(published);
      expect(ids(second)).toEqual(published);
    });

    it('narrows the stream with ?types=a,b', async () => {
      const userId = randomUserId();
      const stream = await subscribe(userId, '?types=job-match,message-received');
      await publish(gateway.url, userId, 'job-match');
      await publish(gateway.url, userId, 'other.kind');
      await publish(gateway.url, userId, 'message-received');
      const last = await publish(gateway.url, userId, 'other.kind');
      // A second, unfiltered stream proves all four went out before we look.
      const all = await subscribe(userId, '?lastEventId=0');
      await waitFor(() => all.events.some((event) => event.id === last), 'the unfiltered replay');
      await stream.waitForEvents(2);
      expect(stream.events.map((event) => event.event)).toEqual(['job-match', 'message-received']);
    });

    it('refuses a malformed ?types with a 400 naming the field', async () => {
      const response = await request(gateway.url)
        .get('/api/events?types=job-match,Bad Type')
        .set('Authorization', `Bearer ${userToken(randomUserId())}`);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, field: 'types' });
    });
  });

  describe('identity', () => {
    it('accepts the token as Bearer header, access_token cookie or access_token query, and forgets it once admitted', async () => {
      const userId = randomUserId();
      const token = userToken(userId);
      // A stream's request lives as long as the stream: it must not keep the token that long.
      const requests: IncomingMessage[] = [];
      const keep = (incoming: IncomingMessage) => requests.push(incoming);
      const server = gateway.app.getHttpServer();
      server.on('request', keep);
      const byHeader = await openSse(gateway.url, '/api/events', { Authorization: `Bearer ${token}` });
      // The cookie counts on a request of the gateway's own page (see cookie-admission.e2e-spec.ts).
      const byCookie = await openSse(gateway.url, '/api/events', { Cookie: `theme=dark; access_token=${token}`, 'Sec-Fetch-Site': 'same-origin' });
      const byQuery = await openSse(gateway.url, `/api/events?access_token=${token}`);
      streams.push(byHeader, byCookie, byQuery);
      server.off('request', keep);
      const id = await publish(gateway.url, userId);
      for (const stream of [byHeader, byCookie, byQuery]) {
        expect(stream.status).toBe(200);
        expect((await stream.waitForEvents(1))[0].id).toBe(id);
      }
      expect(requests).toHaveLength(3);
      for (const { url, headers, rawHeaders } of requests) expect(JSON.stringify({ url, headers, rawHeaders })).not.toContain(token);
      expect(requests[1].headers.cookie).toBeUndefined();
    });

    it.each([
      ['no token', {}],
      ['an expired token', { Authorization: `Bearer ${userToken('u-exp', { expiresInSeconds: -10 })}` }],
      ['a token not valid yet', { Authorization: `Bearer ${userToken('u-nbf', { notBeforeSeconds: 600 })}` }],
      ['a token signed with another secret', { Authorization: `Bearer ${userToken('u-sig', { secret: 'another-secret-another-secret-!!' })}` }],
      ['an unsigned alg:none token', { Authorization: `Bearer ${unsignedToken('u-none')}` }],
      ['garbage', { Authorization: 'Bearer not.a.jwt' }],
    ])('answers 401 with a JSON body for %s', async (_, headers) => {
      const response = await request(gateway.url).get('/api/events').set(headers as Record<string, string>);
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    });

    it('never shows a user the notifications of another', async () => {
      const alice = randomUserId('alice');
      const bob = randomUserId('bob');
      const aliceStream = await subscribe(alice);
      const bobStream = await subscribe(bob);
      const forAlice = await publish(gateway.url, alice, 'job-match', { for: 'alice' });
      const forBob = await publish(gateway.url, bob, 'job-match', { for: 'bob' });
      await aliceStream.waitForEvents(1);
      await bobStream.waitForEvents(1);
      // Replay is per user too: Bob resuming from the start sees only his own.
      const bobReplay = await subscribe(bob, '?lastEventId=0');
      await bobReplay.waitForEvents(1);
      expect(ids(aliceStream)).toEqual([forAlice]);
      expect(ids(bobStream)).toEqual([forBob]);
      expect(ids(bobReplay)).toEqual([forBob]);
      expect(aliceStream.raw).not.toContain('"for":"bob"');
    });

    it('ends the stream with `event: token-expired` when the token expires', async () => {
      const userId = randomUserId();
      const stream = await subscribe(userId, '', { Authorization: `Bearer ${userToken(userId, { expiresInSeconds: 1 })}` });
      await stream.waitForEnd(4_000);
      const last = stream.blocks[stream.blocks.length - 1];
      expect(last.event).toBe('token-expired');
      expect(JSON.parse(last.data as string)).toEqual({ reason: 'token-expired' });
      // Every listener goes: this one at once, those of earlier tests' streams once the server hears they closed.
      await waitFor(() => gateway.app.get(NotificationFanout).listenerCount() === 0, 'no listener left');
    });
  });

  describe('resume', () => {
    it('replays, in order, everything after the Last-Event-ID header, then goes live', async () => {
      const userId = randomUserId();
      const published: string[] = [];
      for (let i = 0; i < 5; i++) published.push(await publish(gateway.url, userId, 'job-match', { i }));
      const stream = await subscribe(userId, '', { 'Last-Event-ID': published[1] });
      await stream.waitForEvents(3);
      const live = await publish(gateway.url, userId, 'job-match', { i: 5 });
      await stream.waitForEvents(4);
      expect(ids(stream)).toEqual([...published.slice(2), live]);
    });

    it('takes ?lastEventId when the header is absent, and the header over the query', async () => {
      const userId = randomUserId();
      const published: string[] = [];
      for (let i = 0; i < 4; i++) published.push(await publish(gateway.url, userId, 'job-match', { i }));
      const byQuery = await subscribe(userId, `?lastEventId=${published[0]}`);
      const headerWins = await subscribe(userId, `?lastEventId=${published[0]}`, { 'Last-Event-ID': published[2] });
      await byQuery.waitForEvents(3);
      await headerWins.waitForEvents(1);
      expect(ids(byQuery)).toEqual(published.slice(1));
      expect(ids(headerWins)).toEqual(published.slice(3));
    });

    it('gives a fresh stream its starting position, so a client that saw nothing still resumes without a gap', async () => {
      const userId = randomUserId();
      const before = await publish(gateway.url, userId);
      const fresh = await subscribe(userId);
      await waitFor(() => fresh.blocks.length > 0, 'the opening block');
      expect(fresh.blocks[0]).toMatchObject({ retry: '1234', id: before });
      fresh.close();
      const missed = await publish(gateway.url, userId);
      const resumed = await subscribe(userId, '', { 'Last-Event-ID': fresh.blocks[0].id as string });
      await resumed.waitForEvents(1);
      expect(ids(resumed)).toEqual([missed]);
    });

    it('loses and repeats nothing across reconnects while notifications keep coming', async () => {
      const userId = randomUserId();
      const published: string[] = [];
      let publishing = true;
      const publisher = (async () => {
        for (let i = 0; i < 300 && publishing; i++) published.push(await publish(gateway.url, userId, 'job-match', { i }));
        publishing = false;
      })();
      const received: string[] = [];
      let lastId = '0';
      for (let reconnect = 0; reconnect < 6 && publishing; reconnect++) {
        const stream = await subscribe(userId, '', { 'Last-Event-ID': lastId });
        const seen = received.length;
        await waitFor(() => stream.events.length >= 10 || !publishing, 'some events before cutting the stream');
        stream.close();
        for (const event of stream.events) received.push(event.id as string);
        lastId = received[received.length - 1] ?? lastId;
        expect(received.length).toBeGreaterThan(seen - 1);
      }
      publishing = false;
      await publisher;
      const final = await subscribe(userId, '', { 'Last-Event-ID': lastId });
      await waitFor(() => received.length + final.events.length >= published.length, 'the rest after the last reconnect');
      for (const event of final.events) received.push(event.id as string);
      expect(received).toEqual(published);
      expect(new Set(received).size).toBe(received.length);
    });

    it('sends `event: reset` first when the resume id is older than the retained history, then what is left', async () => {
      const small = await startGateway({ env: { HISTORY_MAX_PER_USER: '5' } });
      try {
        const userId = randomUserId();
        const published: string[] = [];
        for (let i = 0; i < 12; i++) published.push(await publish(small.url, userId, 'job-match', { i }));
        const stream = await subscribe(userId, '', { 'Last-Event-ID': published[2] }, small);
        await stream.waitForEvents(6);
        const [reset, ...rest] = stream.events;
        expect(reset.event).toBe('reset');
        // Its id is where the stream continues after: the newest trimmed id, the user's own position.
        expect(reset.id).toBe(published[6]);
        expect(JSON.parse(reset.data as string)).toEqual({ reason: 'history-truncated' });
        expect(rest.map((event) => event.id)).toEqual(published.slice(7));

        // A resume id inside the retained window is no reset.
        const inside = await subscribe(userId, '', { 'Last-Event-ID': published[8] }, small);
        await inside.waitForEvents(3);
        expect(inside.events.map((event) => event.event)).toEqual(['job-match', 'job-match', 'job-match']);
      } finally {
        for (const stream of streams.splice(0)) stream.close();
        await small.close();
      }
    });

    it.each(['abc', '12-x', '-1', '1-2-3', '99999999999999999999999-0'])('takes Last-Event-ID %p as an unknown cursor: a reset, not a 400 that EventSource would give up on', async (bad) => {
      const stream = await subscribe(randomUserId(), '', { 'Last-Event-ID': bad });
      expect(stream.status).toBe(200);
      const [reset] = await stream.waitForEvents(1);
      expect(reset).toMatchObject({ event: 'reset', data: '{"reason":"unknown-cursor"}' });
      expect(stream.blocks[0]).toMatchObject({ id: '0-0' });
      // The same value in the query is a 400 naming it.
      const byQuery = await request(gateway.url)
        .get(`/api/events?lastEventId=${encodeURIComponent(bad)}`)
        .set('Authorization', `Bearer ${userToken(randomUserId())}`);
      expect(byQuery.body).toMatchObject({ statusCode: 400, field: 'lastEventId' });
    });
  });

  describe('resources', () => {
    it('frees every listener, timer and Redis subscription when streams close', async () => {
      const fanout = gateway.app.get(NotificationFanout);
      const connections = gateway.app.get(SseConnections);
      // The streams of earlier tests were closed by their clients; the server hears of it a moment later.
      await waitFor(() => connections.size === 0 && fanout.listenerCount() === 0, 'earlier streams to be closed');
      const baseline = { listeners: fanout.listenerCount(), users: fanout.subscribedStreamCount(), sse: connections.size };
      const users = Array.from({ length: 20 }, () => randomUserId('churn'));
      for (let round = 0; round < 5; round++) {
        const batch = await Promise.all(Array.from({ length: 40 }, (_, i) => subscribe(users[i % users.length])));
        await waitFor(() => batch.every((stream) => stream.blocks.length > 0), 'all streams open');
        expect(fanout.listenerCount()).toBe(baseline.listeners + 40);
        expect(fanout.subscribedStreamCount()).toBe(baseline.users + 20);
        for (const stream of batch) stream.close();
        streams.length = 0;
        await waitFor(() => fanout.listenerCount() === baseline.listeners && connections.size === baseline.sse, 'listeners freed');
      }
      expect(fanout.subscribedStreamCount()).toBe(baseline.users);
      const redis = testRedisClient();
      try {
        const channels = await redis.pubsub('CHANNELS', `${gateway.config.redisKeyPrefix}:live:*`);
        expect(channels).toEqual([]);
      } finally {
        redis.disconnect();
      }
    });

    it('cuts off a client that stops reading, without letting its backlog grow the server', async () => {
      const userId = randomUserId();
      const reader = await subscribe(userId);
      const connections = gateway.app.get(SseConnections);
      await waitFor(() => reader.blocks.length > 0, 'the opening block');
      reader.pause();
      const bigData = { blob: 'x'.repeat(60 * 1024) };
      let publishedBytes = 0;
      // Bounded: far past kernel buffers plus the server's bound, then stop.
      for (let i = 0; i < 400 && connections.size > 0; i++) {
        await publish(gateway.url, userId, 'job-match', bigData);
        publishedBytes += 60 * 1024;
      }
      await waitFor(() => connections.size === 0, 'the slow client to be cut off');
      expect(gateway.app.get(NotificationFanout).listenerCount()).toBe(0);
      // It was dropped well before it could hold what was published for it.
      expect(publishedBytes).toBeGreaterThan(SSE_MAX_BUFFERED_BYTES);
      expect(publishedBytes).toBeLessThan(400 * 60 * 1024);
    });

    it('ends every stream with a last `retry:` when the gateway shuts down', async () => {
      const closing = await startGateway({ env: { SSE_RETRY_MS: '500' } });
      const userId = randomUserId();
      const stream = await subscribe(userId, '', {}, closing);
      await waitFor(() => stream.blocks.length > 0, 'the opening block');
      await closing.close();
      await stream.waitForEnd();
      const last = stream.blocks[stream.blocks.length - 1];
      expect(Number(last.retry)).toBeGreaterThanOrEqual(500);
      expect(Number(last.retry)).toBeLessThanOrEqual(1000);
      expect(last.data).toBeUndefined();
    });
  });

  describe('served ahead of Express', () => {
    it('is matched as Express matched the route: any case, one trailing slash', async () => {
      for (const path of ['/API/Events', '/api/events/']) {
        const stream = await openSse(gateway.url, path, { Authorization: `Bearer ${userToken(randomUserId())}` });
        streams.push(stream);
        expect(stream.status).toBe(200);
        expect(stream.headers['content-type']).toBe('text/event-stream');
      }
    });

    it('leaves other methods and neighbouring paths to Express: 404 JSON with the document headers', async () => {
      for (const [method, path] of [['post', '/api/events'], ['get', '/api/events/extra'], ['get', '/api/eventsx']] as const) {
        const response = await request(gateway.url)[method](path).set('Authorization', `Bearer ${userToken(randomUserId())}`);
        expect(response.status).toBe(404);
        expect(response.body).toMatchObject({ statusCode: 404 });
        expect(response.headers['content-security-policy']).toContain("default-src 'self'");
      }
    });

    it('answers its errors in the one JSON shape, with nosniff and HSTS', async () => {
      const response = await request(gateway.url).get('/api/events?types=a&types=b').set('Authorization', `Bearer ${userToken(randomUserId())}`);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'types must be a string', field: 'types' });
    });

    it('reads the access_token cookie as cookie-parser does, ignoring other cookies', async () => {
      const userId = randomUserId();
      const stream = await openSse(gateway.url, '/api/events', { Cookie: `a=1; access_token=${userToken(userId)}; b="2"`, 'Sec-Fetch-Site': 'same-origin' });
      streams.push(stream);
      expect(stream.status).toBe(200);
      const id = await publish(gateway.url, userId);
      expect((await stream.waitForEvents(1))[0].id).toBe(id);
    });

    it('answers CORS for the configured origins only', async () => {
      const withCors = await startGateway({ env: { CORS_ORIGINS: 'https://app.example' } });
      try {
        const token = userToken(randomUserId());
        const allowed = await openSse(withCors.url, '/api/events', { Authorization: `Bearer ${token}`, Origin: 'https://app.example' });
        const other = await openSse(withCors.url, '/api/events', { Authorization: `Bearer ${token}`, Origin: 'https://evil.example' });
        streams.push(allowed, other);
        expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
        expect(allowed.headers['access-control-allow-credentials']).toBe('true');
        expect(allowed.headers.vary).toBe('Origin');
        expect(other.headers['access-control-allow-origin']).toBeUndefined();
        const refused = await request(withCors.url).get('/api/events').set('Origin', 'https://app.example');
        expect(refused.status).toBe(401);
        expect(refused.headers['access-control-allow-origin']).toBe('https://app.example');
        // The preflight stays with Express's cors middleware.
        const preflight = await request(withCors.url).options('/api/events').set('Origin', 'https://app.example').set('Access-Control-Request-Method', 'GET');
        expect(preflight.status).toBe(204);
        expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
      } finally {
        for (const stream of streams.splice(0)) stream.close();
        await withCors.close();
      }
    });
  });

  describe('several instances on one Redis', () => {
    it('delivers a notification published on one instance to a stream on another', async () => {
      const second = await startGateway({ sharedPrefix: gateway.config.redisKeyPrefix });
      try {
        const userId = randomUserId();
        const onSecond = await subscribe(userId, '', {}, second);
        const onFirst = await subscribe(userId);
        const id = await publish(gateway.url, userId);
        expect((await onSecond.waitForEvents(1))[0].id).toBe(id);
        expect((await onFirst.waitForEvents(1))[0].id).toBe(id);
      } finally {
        for (const stream of streams.splice(0)) stream.close();
        await second.close();
      }
    });
  });
});

function unsignedToken(userId: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: userId, exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
}
