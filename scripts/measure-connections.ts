/**
 * Memory per idle connection, measured through the fleet (docs/deploy.md, "Sizing"):
 * starts `startFleet` (2 gateways behind nginx), reads each gateway's RSS and V8 heap and nginx's
 * workers' RSS, opens N idle SSE streams through nginx (one user each), reads again, closes them,
 * then does the same with N Socket.IO WebSocket clients. Prints the deltas per connection.
 *
 *   node -r ts-node/register/transpile-only scripts/measure-connections.ts [N=2000]
 *
 * Needs the built bundles (npm run build) and nginx; uses the prefix rtg-measure-<random> and
 * deletes its keys afterwards.
 */
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { io, type Socket } from 'socket.io-client';
import { deletePrefix } from '../test/support/redis';
import { type Fleet, startFleet } from './fleet';

const SETTLE_MS = 5_000;

function token(secret: string, userId: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: userId, iat: now, exp: now + 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

function rssKiB(pid: number | undefined): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
}

function nginxWorkersRssKiB(masterPid: number | undefined): number {
  const children = fs.readFileSync(`/proc/${masterPid}/task/${masterPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return children.reduce((sum, pid) => sum + rssKiB(Number(pid)), 0);
}

async function metric(url: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

interface Snapshot {
  rss: number[];
  heap: number[];
  nginx: number;
}

async function snapshot(fleet: Fleet): Promise<Snapshot> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return {
    rss: fleet.gateways.map((g) => rssKiB(g.process.pid)),
    heap: await Promise.all(fleet.gateways.map((g) => metric(g.url, /^nodejs_heap_size_used_bytes (\S+)$/m))),
    nginx: nginxWorkersRssKiB(fleet.nginx.process.pid),
  };
}

async function connectionsPerGateway(fleet: Fleet, channel: string): Promise<number[]> {
  const pattern = new RegExp(`^rtg_connections\\{channel="${channel}"\\} (\\d+)$`, 'm');
  return Promise.all(fleet.gateways.map((g) => metric(g.url, pattern)));
}

async function waitForTotal(fleet: Fleet, channel: string, total: number): Promise<number[]> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const counts = await connectionsPerGateway(fleet, channel);
    if (counts.reduce((a, b) => a + b, 0) === total) return counts;
    if (Date.now() > deadline) throw new Error(`${channel}: ${counts} connections, expected ${total} in all`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function report(label: string, before: Snapshot, after: Snapshot, counts: number[], total: number): void {
  const lines = counts.map((count, i) => {
    const rss = (after.rss[i] - before.rss[i]) / count;
    const heap = (after.heap[i] - before.heap[i]) / 1024 / count;
    return `  g${i + 1}: ${count} connections, RSS ${before.rss[i]} → ${after.rss[i]} KiB (${rss.toFixed(1)} KiB each), V8 heap used +${heap.toFixed(1)} KiB each`;
  });
  const nginx = (after.nginx - before.nginx) / total;
  console.log(`${label}\n${lines.join('\n')}\n  nginx workers: RSS ${before.nginx} → ${after.nginx} KiB (${nginx.toFixed(1)} KiB each)`);
}

async function openSse(url: string, secret: string, n: number): Promise<http.ClientRequest[]> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const requests: http.ClientRequest[] = [];
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, j) =>
        new Promise<void>((resolve, reject) => {
          const request = http.get(`${url}/api/events`, { agent, headers: { Authorization: `Bearer ${token(secret, `measure-sse-${i + j}`)}` } }, (response) => {
            if (response.statusCode !== 200) reject(new Error(`SSE answered ${response.statusCode}`));
            response.once('data', () => resolve());
            response.resume();
          });
          request.on('error', reject);
          requests.push(request);
        }),
      ),
    );
  }
  return requests;
}

async function openSockets(url: string, secret: string, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, j) =>
        new Promise<void>((resolve, reject) => {
          const socket = io(url, { transports: ['websocket'], auth: { token: token(secret, `measure-io-${i + j}`) }, reconnection: false, forceNew: true });
          sockets.push(socket);
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        }),
      ),
    );
  }
  return sockets;
}

async function close(connections: Array<http.ClientRequest | Socket>): Promise<void> {
  for (const connection of connections) {
    if (connection instanceof http.ClientRequest) connection.destroy();
    else connection.disconnect();
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 2000);
  const prefix = `rtg-measure-${randomBytes(3).toString('hex')}`;
  const fleet = await startFleet({ gateways: 2, port: 0, prefix, env: { MAX_CONNECTIONS_PER_INSTANCE: String(n * 2) } });
  try {
    console.log(`fleet ${fleet.url}, ${n} connections per channel, RSS settled ${SETTLE_MS} ms before each reading`);
    const phases = [
      { label: 'SSE (idle streams, one user each)', channel: 'sse', open: openSse },
      { label: 'Socket.IO (idle WebSocket clients, one user each)', channel: 'socketio', open: openSockets },
    ] as const;
    for (const phase of phases) {
      // Fresh gateways for each channel (nothing left over from the previous one), warmed up once
      // (JIT, lazily loaded code) so that the baseline is not a cold process.
      await Promise.all(fleet.gateways.map((gateway) => gateway.restart()));
      await close(await phase.open(fleet.url, fleet.jwtSecret, 20));
      await waitForTotal(fleet, phase.channel, 0);
      const before = await snapshot(fleet);
      const connections = await phase.open(fleet.url, fleet.jwtSecret, n);
      const counts = await waitForTotal(fleet, phase.channel, n);
      report(`${phase.label}:`, before, await snapshot(fleet), counts, n);
      await close(connections);
      await waitForTotal(fleet, phase.channel, 0);
    }
  } finally {
    await fleet.stop();
    await deletePrefix(prefix, fleet.redisUrl);
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
