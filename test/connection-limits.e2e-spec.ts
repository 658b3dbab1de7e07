import request from 'supertest';
import { gatewayEnv, runGateway } from './support/gateway-process';
import { randomUserId, uniquePrefix } from './support/prefix';
import { deletePrefix } from './support/redis';
import { openSse, type RawSseStream } from './support/sse-client';
import { LiveConnections } from '../apps/gateway/src/connections/live-connections';
import { connectSocket, type TestSocket } from './support/socket-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

const bearer = (userId: string) => ({ Authorization: `Bearer ${userToken(userId)}` });

function connectError(socket: TestSocket): Promise<Error & { data?: Record<string, unknown> }> {
  return new Promise((resolve) => socket.socket.once('connect_error', resolve));
}

describe('connection caps (MAX_CONNECTIONS_PER_USER, MAX_CONNECTIONS_PER_INSTANCE)', () => {
  let gateway: TestGateway;
  const streams: RawSseStream[] = [];
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    gateway = await startGateway({ env: { MAX_CONNECTIONS_PER_USER: '2', MAX_CONNECTIONS_PER_INSTANCE: '5' } });
  });

  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
    for (const socket of sockets.splice(0)) socket.close();
  });

  afterAll(async () => {
    await gateway.close();
  });

  const stream = async (userId: string) => {
    const opened = await openSse(gateway.url, '/api/events', bearer(userId));
    streams.push(opened);
    return opened;
  };
  const socket = (userId: string) => {
    const connected = connectSocket(gateway.url, userId);
    sockets.push(connected);
    return connected;
  };

  it('answers a user over the cap with 429, a JSON reason and Retry-After, and lets others in', async () => {
    const userId = randomUserId();
    expect((await stream(userId)).status).toBe(200);
    expect((await stream(userId)).status).toBe(200);
    const refused = await request(gateway.url).get('/api/events').set(bearer(userId));
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringContaining('MAX_CONNECTIONS_PER_USER') });
    expect((await stream(randomUserId())).status).toBe(200);
  });

  it('counts SSE streams and sockets together, and gives the slot back when one closes', async () => {
    const userId = randomUserId();
    const first = await stream(userId);
    const connected = socket(userId);
    await waitFor(() => connected.socket.connected, 'the socket to connect');
    const over = socket(userId);
    const error = await connectError(over);
    expect(error.message).toBe('too_many_connections');
    expect(error.data).toMatchObject({ code: 'TOO_MANY_CONNECTIONS', retryAfterMs: expect.any(Number) });

    first.close();
    const live = gateway.app.get(LiveConnections);
    await waitFor(() => live.size === 1 || null, 'the closed stream to free its slot');
    const again = await stream(userId);
    expect(again.status).toBe(200);
  });

  it('while draining, answers /health and new streams with 503, and closes the transport of new sockets so that stock clients retry', async () => {
    const draining = await startGateway();
    try {
      await draining.app.get(LiveConnections).drain();
      const health = await request(draining.url).get('/health');
      expect(health.status).toBe(503);
      expect(health.body.error).toMatchObject({ lifecycle: { status: 'down', state: 'draining' } });
      const refused = await request(draining.url).get('/api/events').set(bearer(randomUserId()));
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      const late = connectSocket(draining.url, randomUserId());
      sockets.push(late);
      const errors: Error[] = [];
      late.socket.on('connect_error', (error) => errors.push(error));
      let attempts = 0;
      late.socket.io.on('reconnect_attempt', () => attempts++);
      // Refused by a transport close, not a connect_error: the stock client keeps retrying by itself.
      await waitFor(() => attempts >= 2, 'two more attempts by the client itself');
      expect(late.socket.active).toBe(true);
      expect(late.socket.connected).toBe(false);
      expect(errors.map((error) => error.message)).not.toContain('shutting_down');
    } finally {
      await draining.close();
    }
  });

  it('caps the instance over all users', async () => {
    for (let index = 0; index < 5; index++) expect((await stream(randomUserId())).status).toBe(200);
    const refused = await request(gateway.url).get('/api/events').set(bearer(randomUserId()));
    expect(refused.status).toBe(429);
    expect(refused.body.message).toContain('MAX_CONNECTIONS_PER_INSTANCE');
    const error = await connectError(socket(randomUserId()));
    expect(error.message).toBe('too_many_connections');
  });
});

describe('paced drain on SIGTERM (DRAIN_PERCENT_PER_SECOND)', () => {
  const prefix = uniquePrefix();

  afterAll(async () => {
    await deletePrefix(prefix);
  });

  it('ends streams in waves, each with its own retry in [retry, 2 × retry], and exits 0', async () => {
    const gateway = runGateway({
      ...gatewayEnv(prefix),
      SSE_RETRY_MS: '1000',
      DRAIN_PERCENT_PER_SECOND: '25',
    });
    const url = `http://127.0.0.1:${await gateway.waitForListening()}`;
    const streams = await Promise.all(Array.from({ length: 8 }, () => openSse(url, '/api/events', bearer(randomUserId()))));
    gateway.child.kill('SIGTERM');
    // Waves of ceil(8 × 25%) = 2, one second apart: when the first wave has ended, six are still open.
    await waitFor(() => streams.filter((s) => s.ended).length >= 2 || null, 'the first wave', 5000);
    expect(streams.filter((s) => s.ended).length).toBeLessThanOrEqual(4);
    // The listener closed at SIGTERM: newcomers are refused, so a proxy sends them to a neighbour.
    await expect(request(url).get('/health')).rejects.toThrow(/ECONNREFUSED/);

    await Promise.all(streams.map((s) => s.waitForEnd(10_000)));
    expect(await gateway.exited).toBe(0);
    const retries = streams.map((s) => Number(s.blocks[s.blocks.length - 1].retry));
    for (const retry of retries) {
      expect(retry).toBeGreaterThanOrEqual(1000);
      expect(retry).toBeLessThanOrEqual(2000);
    }
    expect(new Set(retries).size).toBeGreaterThan(1);
  });
});
