import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../tools/free-port';
import { waitFor } from './wait-for';

/** Whether something answers PING on the port. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
  });
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Stops it the way an operator or an OOM-free crash would: SIGTERM (the AOF is already on disk). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory: it reloads what it had. */
  start(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open but nothing answers, as with a hung server or a partition. */
  freeze(): void;
  thaw(): void;
  /** Kills it and removes its data directory. */
  destroy(): Promise<void>;
}

/**
 * A redis-server of the test's own, never the shared one: loopback, a free
 * port, an append-only file fsynced on every write in a temporary directory,
 * so a stop and a start lose nothing that Redis acknowledged.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtg-redis-'));
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--logfile', path.join(dir, 'redis.log')],
      { stdio: 'ignore' },
    );
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    await waitFor(() => pings(port), `the private redis-server on port ${port}`, 10_000, 50);
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop: async () => {
      child?.kill('SIGTERM');
      await exited;
      child = null;
    },
    freeze: () => {
      child?.kill('SIGSTOP');
    },
    thaw: () => {
      child?.kill('SIGCONT');
    },
    destroy: async () => {
      if (child) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
