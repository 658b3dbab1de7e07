import { NotificationFanout } from '@app/notifications';
import type { Server } from 'socket.io';
import { LiveConnections } from '../apps/gateway/src/connections/live-connections';
import { SSE_MAX_BUFFERED_BYTES } from '../apps/gateway/src/events/sse-connection';
import { SseConnections } from '../apps/gateway/src/events/sse-connections';
import { RealtimeGateway } from '../apps/gateway/src/realtime/realtime.gateway';
import { SOCKET_MAX_QUEUED_PACKETS } from '../apps/gateway/src/realtime/socket-feed.sink';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { type RedisClient, testRedisClient } from './support/redis';
import { connectSocket, connected, type TestSocket } from './support/socket-client';
import { openSse } from './support/sse-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * Clients that stop reading or vanish, seen through a loopback TCP proxy the
 * test freezes. The gateway must notice by itself (bounded buffers, SSE
 * heartbeats provoking a write error, engine.io ping/pong) and free the
 * connection: its slot, its feed listener and its Redis subscription.
 */

describe('slow and dead consumers', () => {
  let gateway: TestGateway;
  let redis: RedisClient;
  const proxies: TcpProxy[] = [];
  const sockets: TestSocket[] = [];

  const proxy = async () => {
    const started = await startTcpProxy(gateway.port);
    proxies.push(started);
    return started;
  };
  const freed = async (what: string) => {
    const fanout = gateway.app.get(NotificationFanout);
    const live = gateway.app.get(LiveConnections);
    await waitFor(() => live.size === 0 && fanout.listenerCount() === 0, `${what} to be freed`, 10_000);
    await waitFor(async () => (await redis.pubsub('CHANNELS', `${gateway.config.redisKeyPrefix}:live:*`)).length === 0, 'its Redis subscription to go', 5_000);
  };

  beforeAll(async () => {
    gateway = await startGateway({ env: { SSE_HEARTBEAT_MS: '200' } });
    redis = testRedisClient();
    // Engine.io's heartbeat, shortened from 25 s + 20 s so that the test takes a second, not 45.
    const io = (gateway.app.get(RealtimeGateway) as unknown as { server: Server }).server;
    Object.assign(io.engine.opts, { pingInterval: 300, pingTimeout: 300 });
  });

  afterEach(async () => {
    for (const client of sockets.splice(0)) client.close();
    for (const started of proxies.splice(0)) await started.close();
  });

  afterAll(async () => {
    redis.disconnect();
    await gateway.close();
  });

  it('SSE: a client that vanished without a FIN is found by the next heartbeat and freed', async () => {
    const through = await proxy();
    const userId = randomUserId('vanish');
    const stream = await openSse(through.url, '/api/events', { Authorization: `Bearer ${userToken(userId)}` });
    await waitFor(() => stream.blocks.length > 0, 'the opening block');
    expect(gateway.app.get(SseConnections).size).toBe(1);
    const vanishedAt = Date.now();
    through.vanish();
    // Nothing is published: only the heartbeat's write can reveal that the peer is gone.
    await freed('the vanished SSE client');
    process.stdout.write(`\nSSE: vanished client freed ${Date.now() - vanishedAt} ms after it vanished (heartbeat every 200 ms)\n`);
    stream.close();
  });

  it('SSE: a client that stops reading is cut off at its buffer bound while notifications flow', async () => {
    const through = await proxy();
    const userId = randomUserId('stalled');
    const stream = await openSse(through.url, '/api/events', { Authorization: `Bearer ${userToken(userId)}` });
    await waitFor(() => stream.blocks.length > 0, 'the opening block');
    through.freeze();
    const connections = gateway.app.get(SseConnections);
    const blob = { blob: 'x'.repeat(60 * 1024) };
    let published = 0;
    // Bounded: far beyond loopback socket buffers plus the bound, then give up.
    while (connections.size > 0 && published < 1_000) {
      await publish(gateway.url, userId, 'job-match', blob);
      published++;
    }
    await freed('the stalled SSE client');
    process.stdout.write(`SSE: stalled client cut off after ${published} notifications of 60 KiB (bound ${SSE_MAX_BUFFERED_BYTES} bytes past the kernel's buffers)\n`);
    expect(published).toBeLessThan(1_000);
    stream.close();
  });

  it('Socket.IO: a client that stops answering pings is freed by engine.io heartbeats', async () => {
    const through = await proxy();
    const userId = randomUserId('silent');
    const client = connectSocket(through.url, userId);
    client.socket.io.opts.reconnection = false;
    sockets.push(client);
    await connected(client);
    expect(gateway.app.get(LiveConnections).size).toBe(1);
    const frozenAt = Date.now();
    through.freeze();
    await freed('the silent socket');
    process.stdout.write(`Socket.IO: silent client freed ${Date.now() - frozenAt} ms after it went silent (ping every 300 ms, timeout 300 ms)\n`);
  });

  it('Socket.IO: a client that stops reading is cut off once its queue passes the bound', async () => {
    const through = await proxy();
    const userId = randomUserId('slow-socket');
    const client = connectSocket(through.url, userId);
    client.socket.io.opts.reconnection = false;
    sockets.push(client);
    await connected(client);
    through.freeze();
    // Pings stay out of it: the bound must cut the socket before the heartbeat would.
    const io = (gateway.app.get(RealtimeGateway) as unknown as { server: Server }).server;
    Object.assign(io.engine.opts, { pingInterval: 60_000, pingTimeout: 60_000 });
    try {
      const live = gateway.app.get(LiveConnections);
      const blob = { blob: 'y'.repeat(16 * 1024) };
      let published = 0;
      while (live.size > 0 && published < 2_000) {
        await publish(gateway.url, userId, 'job-match', blob);
        published++;
      }
      await freed('the slow socket');
      process.stdout.write(`Socket.IO: slow client cut off after ${published} notifications of 16 KiB (bound ${SOCKET_MAX_QUEUED_PACKETS} queued packets)\n`);
      expect(published).toBeLessThan(2_000);
    } finally {
      Object.assign(io.engine.opts, { pingInterval: 300, pingTimeout: 300 });
    }
  });
});
