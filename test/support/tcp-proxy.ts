import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /**
   * The client side goes silent: nothing more is read from the gateway or
   * passed either way, but every connection stays open. To the gateway this is
   * a peer that stopped reading (its buffers fill) or, for a protocol with
   * pings, a peer that stopped answering.
   */
  freeze(): void;
  /**
   * The client vanished without a FIN: nothing is passed on, and the next bytes
   * the gateway sends are answered with a reset, as the client's host does once
   * it no longer knows the connection (a reboot, a NAT that dropped the mapping).
   */
  vanish(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy in front of `targetPort`, for simulating clients that freeze or vanish. */
export function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let mode: 'pass' | 'frozen' | 'vanished' = 'pass';
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => {
      if (mode === 'pass') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (mode === 'pass') client.write(chunk);
      else if (mode === 'vanished') {
        upstream.resetAndDestroy();
        pairs.delete(pair);
      }
    });
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', () => {
      if (mode === 'pass') drop();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        freeze: () => {
          mode = 'frozen';
          for (const { upstream } of pairs) upstream.pause();
        },
        vanish: () => {
          mode = 'vanished';
        },
        close: () =>
          new Promise<void>((done) => {
            for (const { client, upstream } of pairs) {
              client.destroy();
              upstream.destroy();
            }
            server.close(() => done());
          }),
      });
    });
  });
}
