import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { io as connect } from 'socket.io-client';
import { batchWebSocketWrites } from './websocket-write-batching';

const BURST = 10;

/**
 * Emits a burst to one websocket client of a real Socket.IO server on
 * loopback and counts the writes its TCP socket made to deliver it.
 */
async function writesForBurst(batched: boolean): Promise<number> {
  const http = createServer();
  const server = new Server(http, { transports: ['websocket'] });
  if (batched) batchWebSocketWrites(server.engine);
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'], reconnection: false });
  try {
    const [socket] = (await once(server, 'connection')) as [Socket];
    if (!client.connected) await new Promise((resolve) => client.once('connect', () => resolve(undefined)));
    const tcp = (socket.conn as unknown as { transport: { socket: { _socket: NetSocket } } }).transport.socket._socket;
    let writes = 0;
    const counted = tcp as unknown as Record<'_write' | '_writev', (...args: unknown[]) => void>;
    for (const method of ['_write', '_writev'] as const) {
      const original = counted[method];
      counted[method] = function (this: unknown, ...args: unknown[]) {
        writes++;
        return original.apply(this, args);
      };
    }
    const received: number[] = [];
    const all = new Promise<void>((resolve) =>
      client.on('n', (i: number) => {
        if (received.push(i) === BURST) resolve();
      }),
    );
    for (let i = 0; i < BURST; i++) socket.emit('n', i);
    await all;
    expect(received).toEqual(Array.from({ length: BURST }, (_, i) => i));
    return writes;
  } finally {
    client.close();
    await server.close();
  }
}

describe('batchWebSocketWrites', () => {
  it('writes a burst to a websocket in two writes: the first packet, then all those queued behind it', async () => {
    expect(await writesForBurst(true)).toBe(2);
  });

  it('is needed: without it each queued packet is a write of its own', async () => {
    expect(await writesForBurst(false)).toBe(BURST);
  });
});
