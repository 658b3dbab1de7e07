/*
 * Flood benchmark: does a bounded flood from many sockets hurt the legitimate
 * clients on the same instance? It runs the built gateway (`npm run build`
 * first) as a process on REDIS_URL under a prefix of its own, connects
 * legitimate users (one SSE stream and one socket each) and publishes to them
 * at a steady rate, measuring publish-to-receive latency, first unloaded, then
 * while an attacker process floods the instance:
 *   - sockets that send junk payloads and events over their rate limit,
 *   - connection attempts past MAX_CONNECTIONS_PER_USER (sockets and SSE).
 * It prints p50/p99/max per phase and channel and the ratio of the p99s
 * (target: at most 2x). Timings are reported, never asserted: the machine's
 * two cores are shared with whatever else runs.
 *
 *   node -r ts-node/register/transpile-only bench/flood.ts [--seconds 10] [--attack-sockets 300] [--rate 40] [--shared-room] [--json out.json]
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { io, type Socket } from 'socket.io-client';
import { deletePrefix } from '../test/support/redis';
import { API_KEY, appEnv, root, userToken } from './support';


function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const SECONDS = arg('seconds', 10);
const LEGIT_USERS = arg('legit-users', 20);
const PUBLISH_PER_SECOND = arg('publish-rate', 50);
const ATTACK_SOCKETS = arg('attack-sockets', 100);
const ATTACK_RATE = arg('rate', 40); // events per second per attacking socket: twice the limit of 20 (burst 40)
const CAP_PROBES_PER_SECOND = arg('cap-probes', 50);
/**
 * With --shared-room every attacking socket joins one room and chats into it at its rate limit, so
 * each message fans out to every other attacker: the per-socket limit does not bound that
 * amplification (see docs/security.md). By default each socket chats into a room of its own.
 */
const SHARED_ROOM = process.argv.includes('--shared-room');

// ---------------------------------------------------------------- attacker --

interface AttackReport {
  connected: number;
  acks: Record<string, number>;
  capRefusals: { socket: number; sse: number; admitted: number };
  disconnects: number;
}

/** The attacker process: floods until told to stop, then reports what the gateway answered. */
async function attack(port: number): Promise<void> {
  // Bounded: it never outlives the driver, whatever happens to it.
  process.once('disconnect', () => process.exit(0));
  const url = `http://127.0.0.1:${port}`;
  const report: AttackReport = { connected: 0, acks: {}, capRefusals: { socket: 0, sse: 0, admitted: 0 }, disconnects: 0 };
  const count = (key: string) => (report.acks[key] = (report.acks[key] ?? 0) + 1);
  const sockets: Socket[] = [];
  const roomOf = (i: number) => (SHARED_ROOM ? 'flood-room' : `flood-room-${i}`);
  const junk = (i: number): Array<[string, unknown]> => [
    ['chat', { roomId: roomOf(i), content: 'spam '.repeat(50) }],
    ['chat', { roomId: 42 }],
    ['room:join', { roomId: '../../etc' }],
    ['cursor-move', { roomId: roomOf(i), x: 'NaN', y: {} }],
    ['typing', null],
    ['chat', { recipientId: 'nobody here', content: '' }],
    ['auth:refresh', { token: 'forged' }],
    ['no-such-event', { a: 1 }],
  ];
  // Sockets of 10 per attacking user (under the per-user cap of 32), all in one room they spam.
  for (let i = 0; i < ATTACK_SOCKETS; i++) {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: userToken(`attacker-${Math.floor(i / 10)}`) } });
    socket.on('connect', () => {
      report.connected++;
      socket.emit('room:join', { roomId: roomOf(i) }, () => undefined);
    });
    // Only the gateway's doing: a rate-limited or junk-sending socket must not be dropped.
    socket.on('disconnect', (reason) => {
      if (reason !== 'io client disconnect') report.disconnects++;
    });
    sockets.push(socket);
  }
  let n = 0;
  const eventTimer = setInterval(() => {
    // Spread each socket's events over the second: ATTACK_RATE per socket per second, in 20 ms ticks.
    const perTick = Math.round((ATTACK_SOCKETS * ATTACK_RATE) / 50);
    for (let k = 0; k < perTick; k++) {
      const index = n++ % sockets.length;
      const socket = sockets[index];
      if (!socket.connected) continue;
      const events = junk(index);
      const [event, payload] = events[n % events.length];
      if (event === 'no-such-event') socket.emit(event, payload);
      else socket.emit(event, payload, (ack: { ok: boolean; error?: string }) => count(ack.ok ? 'ok' : (ack.error ?? 'error')));
    }
  }, 20);
  // Connection flood past the per-user cap: one user already holds 32 sockets; every probe must be refused.
  const capped = 'attacker-capped';
  const holders: Socket[] = [];
  for (let i = 0; i < 32; i++) holders.push(io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: userToken(capped) } }));
  // Probe only once the user holds its 32: an admitted probe would then mean the cap did not hold.
  await Promise.all(holders.map((holder) => new Promise<void>((resolve) => (holder.connected ? resolve() : holder.once('connect', () => resolve())))));
  const capTimer = setInterval(() => {
    for (let k = 0; k < Math.round(CAP_PROBES_PER_SECOND / 10); k++) {
      const probe = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: userToken(capped) } });
      probe.once('connect_error', () => {
        report.capRefusals.socket++;
        probe.close();
      });
      probe.once('connect', () => {
        report.capRefusals.admitted++;
        probe.close();
      });
      const sse = http.get(`${url}/api/events`, { agent: false, headers: { Authorization: `Bearer ${userToken(capped)}` } }, (response) => {
        if (response.statusCode === 429) report.capRefusals.sse++;
        else report.capRefusals.admitted++;
        response.resume();
        sse.destroy();
      });
      sse.on('error', () => undefined);
    }
  }, 100);
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  clearInterval(eventTimer);
  clearInterval(capTimer);
  for (const socket of [...sockets, ...holders]) socket.close();
  process.send?.(report);
  setTimeout(() => process.exit(0), 200);
}

// ------------------------------------------------------------------ driver --

interface Phase {
  sse: hdr.Histogram;
  socketio: hdr.Histogram;
  sent: number;
  received: { sse: number; socketio: number };
  /** The gateway's CPU use (share of one core) and event-loop lag p99 over the phase, from its /metrics. */
  gateway?: { cpu: number; lagP99Ms: number };
}

/** CPU seconds used so far and the event-loop lag p99, from the gateway's Prometheus text. */
async function gatewayMetrics(port: number): Promise<{ cpuSeconds: number; lagP99Ms: number }> {
  const text = await new Promise<string>((resolve) => {
    http.get({ host: '127.0.0.1', port, path: '/metrics', agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve(body));
    }).on('error', () => resolve(''));
  });
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { cpuSeconds: value('process_cpu_seconds_total'), lagP99Ms: value('nodejs_eventloop_lag_p99_seconds') * 1000 };
}

function startGateway(prefix: string): Promise<{ child: ChildProcess; port: number }> {
  // e.g. FLOOD_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where the gateway's time goes.
  const nodeArgs = (process.env.FLOOD_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist/apps/gateway/main.js')], {
    env: { ...appEnv(prefix), WORKER_EMBEDDED: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk;
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${output.slice(-400)}`)));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** Publishes one timestamped notification; resolves with the status (0 when it failed or took over 10 s). */
function publish(port: number, userId: string, seq: number): Promise<number> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ userId, type: 'flood-bench', data: { seq, sentAt: performance.now() } });
    const request = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/api/notifications', agent, headers: { 'Content-Type': 'application/json', 'X-Api-Key': API_KEY } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('close', () => resolve(response.complete ? (response.statusCode ?? 0) : 0));
      },
    );
    request.setTimeout(10_000, () => request.destroy());
    request.on('error', () => resolve(0));
    request.end(body);
  });
}

async function main(): Promise<void> {
  if (process.argv.includes('--attacker')) return attack(Number(process.argv[process.argv.indexOf('--attacker') + 1]));
  if (!fs.existsSync(path.join(root, 'dist/apps/gateway/main.js'))) throw new Error('dist/apps/gateway/main.js is missing: run npm run build first');
  const prefix = `rtg-bench-flood-${randomBytes(3).toString('hex')}`;
  const { child, port } = await startGateway(prefix);
  const children: ChildProcess[] = [child];
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const proc of children) proc.kill('SIGKILL');
      process.exit(1);
    });
  }
  const progress = (line: string) => process.stderr.write(`[flood] ${line}\n`);
  const url = `http://127.0.0.1:${port}`;
  const phases: Record<'unloaded' | 'flood', Phase> = {
    unloaded: { sse: hdr.build(), socketio: hdr.build(), sent: 0, received: { sse: 0, socketio: 0 } },
    flood: { sse: hdr.build(), socketio: hdr.build(), sent: 0, received: { sse: 0, socketio: 0 } },
  };
  let current: Phase | null = null;
  const record = (channel: 'sse' | 'socketio', data: { sentAt: number }) => {
    if (!current) return;
    current[channel].recordValue(Math.max(1, Math.round((performance.now() - data.sentAt) * 1000))); // microseconds
    current.received[channel]++;
  };

  // Legitimate clients: one SSE stream and one socket per user.
  const users = Array.from({ length: LEGIT_USERS }, (_, i) => `legit-${i}`);
  const streams: http.ClientRequest[] = [];
  const sockets: Socket[] = [];
  await Promise.all(
    users.map(
      (userId) =>
        new Promise<void>((resolve, reject) => {
          const req = http.get(`${url}/api/events`, { agent: false, headers: { Authorization: `Bearer ${userToken(userId)}` } }, (response) => {
            if (response.statusCode !== 200) return reject(new Error(`legit SSE answered ${response.statusCode}`));
            let pending = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              pending += chunk;
              let end: number;
              while ((end = pending.indexOf('\n\n')) >= 0) {
                const block = pending.slice(0, end);
                pending = pending.slice(end + 2);
                const line = block.split('\n').find((l) => l.startsWith('data: '));
                if (line) record('sse', JSON.parse(line.slice(6)).data);
              }
            });
            resolve();
          });
          streams.push(req);
        }),
    ),
  );
  await Promise.all(
    users.map(
      (userId) =>
        new Promise<void>((resolve, reject) => {
          const socket = io(url, { transports: ['websocket'], forceNew: true, auth: { token: userToken(userId) } });
          socket.on('flood-bench', (notification: { data: { sentAt: number } }) => record('socketio', notification.data));
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
          sockets.push(socket);
        }),
    ),
  );

  const runPhase = async (phase: Phase) => {
    const startedAt = performance.now();
    const before = await gatewayMetrics(port);
    current = phase;
    const interval = 1000 / PUBLISH_PER_SECOND;
    const end = performance.now() + SECONDS * 1000;
    let seq = 0;
    const inFlight: Promise<unknown>[] = [];
    const ticker = setInterval(() => process.stderr.write(`[flood]   sent ${phase.sent}, received sse ${phase.received.sse} socketio ${phase.received.socketio}\n`), 2_000);
    while (performance.now() < end) {
      const due = seq * interval;
      const wait = due - (performance.now() - (end - SECONDS * 1000));
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(publish(port, users[seq % users.length], seq).then((status) => (status === 202 ? phase.sent++ : undefined)));
      seq++;
    }
    await Promise.all(inFlight); // each one ends within its 10 s timeout
    // Let the last deliveries land before the phase closes.
    const deadline = performance.now() + 3_000;
    while (performance.now() < deadline && (phase.received.sse < phase.sent || phase.received.socketio < phase.sent)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    clearInterval(ticker);
    current = null;
    const after = await gatewayMetrics(port);
    phase.gateway = { cpu: (after.cpuSeconds - before.cpuSeconds) / ((performance.now() - startedAt) / 1000), lagP99Ms: after.lagP99Ms };
  };

  process.stdout.write(
    `flood bench: ${LEGIT_USERS} legitimate users (SSE + Socket.IO), ${PUBLISH_PER_SECOND} notifications/s, ${SECONDS} s per phase; ` +
      `flood: ${ATTACK_SOCKETS} sockets at ${ATTACK_RATE} events/s each (${SHARED_ROOM ? 'one shared room' : 'a room each'}), ${CAP_PROBES_PER_SECOND} over-cap connection attempts/s\n`,
  );
  progress('measuring unloaded');
  await runPhase(phases.unloaded);

  const attacker = fork(__filename, [...process.argv.slice(2), '--attacker', String(port)], { execArgv: process.execArgv, stdio: 'inherit' });
  children.push(attacker);
  progress('flood started');
  // Give the attackers time to connect before measuring under the flood.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  progress('measuring under the flood');
  await runPhase(phases.flood);
  progress('stopping the flood');
  const attackReport = await new Promise<AttackReport>((resolve) => {
    attacker.once('message', (message) => resolve(message as AttackReport));
    attacker.send('stop');
  });

  for (const req of streams) req.destroy();
  for (const socket of sockets) socket.close();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await deletePrefix(prefix);

  const ms = (h: hdr.Histogram, p: number) => h.getValueAtPercentile(p) / 1000;
  const rows = (['unloaded', 'flood'] as const).flatMap((name) =>
    (['sse', 'socketio'] as const).map((channel) => {
      const h = phases[name][channel];
      return { phase: name, channel, delivered: `${phases[name].received[channel]}/${phases[name].sent}`, p50: ms(h, 50), p99: ms(h, 99), max: h.maxValue / 1000 };
    }),
  );
  process.stdout.write('\nphase     channel   delivered   p50 ms   p99 ms   max ms\n');
  for (const row of rows) {
    process.stdout.write(`${row.phase.padEnd(9)} ${row.channel.padEnd(9)} ${row.delivered.padStart(9)}   ${row.p50.toFixed(2).padStart(6)}   ${row.p99.toFixed(2).padStart(6)}   ${row.max.toFixed(2).padStart(6)}\n`);
  }
  const ratio = (channel: 'sse' | 'socketio') => ms(phases.flood[channel], 99) / ms(phases.unloaded[channel], 99);
  for (const name of ['unloaded', 'flood'] as const) {
    const g = phases[name].gateway;
    if (g) process.stdout.write(`gateway during ${name}: ${(g.cpu * 100).toFixed(0)}% of a core, event-loop lag p99 ${g.lagP99Ms.toFixed(1)} ms\n`);
  }
  process.stdout.write(
    `\np99 under flood / unloaded: SSE ${ratio('sse').toFixed(2)}x, Socket.IO ${ratio('socketio').toFixed(2)}x (target <= 2x)\n` +
      `attacker: ${attackReport.connected}/${ATTACK_SOCKETS} sockets connected, ${attackReport.disconnects} disconnected by the gateway, acks ${JSON.stringify(attackReport.acks)}; ` +
      `cap probes refused: ${attackReport.capRefusals.socket} sockets, ${attackReport.capRefusals.sse} SSE (429), admitted ${attackReport.capRefusals.admitted}\n`,
  );
  const jsonAt = process.argv.indexOf('--json');
  if (jsonAt >= 0) {
    fs.writeFileSync(process.argv[jsonAt + 1], `${JSON.stringify({ seconds: SECONDS, legitUsers: LEGIT_USERS, publishPerSecond: PUBLISH_PER_SECOND, attackSockets: ATTACK_SOCKETS, attackRate: ATTACK_RATE, sharedRoom: SHARED_ROOM, rows, gateway: { unloaded: phases.unloaded.gateway, flood: phases.flood.gateway }, ratio: { sse: ratio('sse'), socketio: ratio('socketio') }, attacker: attackReport }, null, 2)}\n`);
  }
  agent.destroy();
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
