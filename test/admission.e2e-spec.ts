import request from 'supertest';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { connectSocket, connected, type TestSocket } from './support/socket-client';
import { openSse, type RawSseStream } from './support/sse-client';
import { startGateway, TEST_API_KEY, type TestGateway } from './support/start-gateway';
import { closeAfterEach } from './support/close-after-each';
import { userToken } from './support/tokens';

/*
 * The edge of every channel is one admission step (apps/gateway/src/admission):
 * the same rule answers the same input the same way on SSE, polling and
 * Socket.IO, and the event stream, served ahead of Express, answers as Express
 * does (docs/api.md, Conventions).
 */
describe('admission: one edge for SSE, REST and Socket.IO', () => {
  let gateway: TestGateway;
  const track = closeAfterEach();

  const asUser = (userId: string) => ({ Authorization: `Bearer ${userToken(userId)}` });
  const socket = (userId: string, auth: Record<string, unknown>) => {
    const client = track(connectSocket(gateway.url, userId, { auth: { token: userToken(userId), ...auth } }));
    client.socket.io.opts.reconnection = false;
    return client;
  };
  const connectError = async (client: TestSocket) => {
    const error = await connected(client).then(
      () => null,
      (refusal: Error & { data?: unknown }) => refusal,
    );
    return error === null ? null : { message: error.message, data: error.data };
  };

  beforeAll(async () => {
    gateway = await startGateway();
  });


  afterAll(async () => {
    await gateway.close();
  });

  describe('query parameters of GET /api/events', () => {
    it.each([['lastEventID=1-0'], ['topic=x'], ['types=job-match&_=1732190000000'], ['__proto__=x']])(
      'refuses an unknown parameter (%s) with a 400 naming it, as REST refuses one',
      async (query) => {
        const name = query.split('&').pop()!.split('=')[0];
        const stream = await request(gateway.url).get(`/api/events?${query}`).set(asUser(randomUserId()));
        expect(stream.status).toBe(400);
        expect(stream.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(stream.body).toEqual({ statusCode: 400, error: 'Bad Request', message: `property ${name} should not exist`, field: name });
        const polling = await request(gateway.url).get(`/api/notifications?${query.replace('types=job-match&', '')}`).set(asUser(randomUserId()));
        expect(polling.body).toEqual(stream.body);
      },
    );

    it('still takes every parameter it documents', async () => {
      const userId = randomUserId();
      const id = await publish(gateway.url, userId);
      const stream = track(await openSse(gateway.url, `/api/events?types=job-match&lastEventId=0&access_token=${userToken(userId)}`));
      expect(stream.status).toBe(200);
      expect((await stream.waitForEvents(1))[0].id).toBe(id);
    });

    it('answers 401 before looking at the query, as the REST guard runs before the pipe', async () => {
      const response = await request(gateway.url).get('/api/events?nope=1');
      expect(response.status).toBe(401);
    });
  });

  describe('the cursor rule', () => {
    it('refuses a malformed cursor in the same words on SSE, polling and Socket.IO, naming each field', async () => {
      const userId = randomUserId();
      const sse = await request(gateway.url).get('/api/events?lastEventId=abc').set(asUser(userId));
      const polling = await request(gateway.url).get('/api/notifications?after=abc').set(asUser(userId));
      const handshake = await connectError(socket(userId, { lastEventId: 'abc' }));
      const message = (field: string) => `${field} must be a notification id like 1732190000000-0`;
      expect(sse.body).toEqual({ statusCode: 400, error: 'Bad Request', message: message('lastEventId'), field: 'lastEventId' });
      expect(polling.body).toEqual({ statusCode: 400, error: 'Bad Request', message: message('after'), field: 'after' });
      expect(handshake).toEqual({ message: 'bad_cursor', data: { code: 'BAD_CURSOR', field: 'lastEventId', message: message('lastEventId') } });
    });

    it('refuses a repeated cursor parameter with the same rule', async () => {
      const userId = randomUserId();
      const sse = await request(gateway.url).get('/api/events?lastEventId=1-0&lastEventId=2-0').set(asUser(userId));
      const polling = await request(gateway.url).get('/api/notifications?after=1-0&after=2-0').set(asUser(userId));
      expect(sse.body).toMatchObject({ statusCode: 400, field: 'lastEventId', message: 'lastEventId must be a notification id like 1732190000000-0' });
      expect(polling.body).toMatchObject({ statusCode: 400, field: 'after', message: 'after must be a notification id like 1732190000000-0' });
    });

    it('reads a cursor with surrounding whitespace the same way on every channel', async () => {
      const userId = randomUserId();
      const [first, second] = [await publish(gateway.url, userId), await publish(gateway.url, userId)];
      const padded = ` ${first} `;
      const polling = await request(gateway.url).get(`/api/notifications?after=${encodeURIComponent(padded)}`).set(asUser(userId));
      expect(polling.status).toBe(200);
      expect(polling.body.items.map((item: { id: string }) => item.id)).toEqual([second]);
      const stream = track(await openSse(gateway.url, `/api/events?lastEventId=${encodeURIComponent(padded)}`, asUser(userId)));
      expect((await stream.waitForEvents(1)).map((event) => event.id)).toEqual([second]);
      const client = socket(userId, { lastEventId: padded });
      await connected(client);
      expect((await client.waitForEvent<{ id: string }>('job-match')).map((event) => event.id)).toEqual([second]);
    });
  });

  describe('CORS, with the cors package on every route', () => {
    it('answers an allowed origin on the event stream exactly as Express answers it on REST', async () => {
      const withCors = await startGateway({ env: { CORS_ORIGINS: 'https://app.example,https://other.example' } });
      let stream: RawSseStream | undefined;
      try {
        const headers = { ...asUser(randomUserId()), Origin: 'https://other.example' };
        stream = await openSse(withCors.url, '/api/events', headers);
        const polling = await request(withCors.url).get('/api/notifications').set(headers);
        const cors = (answer: Record<string, string | string[] | undefined>) =>
          Object.fromEntries(Object.entries(answer).filter(([name]) => name.startsWith('access-control-') || name === 'vary'));
        expect(cors(stream.headers)).toEqual(cors(polling.headers));
        expect(cors(stream.headers)).toEqual({
          'access-control-allow-origin': 'https://other.example',
          'access-control-allow-credentials': 'true',
          vary: 'Origin',
        });
      } finally {
        stream?.close();
        await withCors.close();
      }
    });
  });

  describe('Redis errors are answered 503 with Retry-After: 1', () => {
    let closedPort: TestGateway;

    beforeAll(async () => {
      closedPort = await startGateway({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    });

    afterAll(async () => {
      await closedPort.close();
    });

    it.each([
      ['GET /api/events', () => request(closedPort.url).get('/api/events').set(asUser(randomUserId()))],
      ['GET /api/notifications', () => request(closedPort.url).get('/api/notifications').set(asUser(randomUserId()))],
      [
        'POST /api/notifications',
        () => request(closedPort.url).post('/api/notifications').set('X-Api-Key', TEST_API_KEY).send({ userId: 'u1', type: 'job-match', data: {} }),
      ],
    ])('%s', async (_label, send) => {
      const response = await send();
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    });

    it('but a 4xx never carries one', async () => {
      const response = await request(closedPort.url).get('/api/events');
      expect(response.status).toBe(401);
      expect(response.headers['retry-after']).toBeUndefined();
    });
  });
});
