import { spawn, type ChildProcess } from 'node:child_process';
import { trackChild } from '../support';
import type { ProbeReply } from './probe';

/** Memory after a full GC, and CPU time so far, of a server under test. */
export interface ServerProbe {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly cpuUs: number;
}

export interface ServerProcess {
  readonly port: number;
  /** Memory after a full GC (the GC's time lands in its CPU figure: do not probe inside a timed phase). */
  probe(): Promise<ServerProbe>;
  /** CPU time so far (µs), without a GC. */
  cpu(): Promise<number>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines it printed (for error messages). */
  tail(): string;
}

/**
 * Node flags of every server under test. `--expose-gc` for the probe. The young
 * generation is pinned at its usual maximum (16 MB per semi-space on 64-bit),
 * the size a busy server grows it to anyway: left to grow from 1 MB, it grows
 * while the connections open, by up to 32 MB that would count as per-connection
 * memory at random (±30 KB per connection at N=1,000).
 */
export const SERVER_NODE_FLAGS = ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16'];

const START_TIMEOUT_MS = 30_000;
const PROBE_TIMEOUT_MS = 30_000;

/**
 * Runs one server under test as a process of its own: `node <flags> -r <probe>
 * <script>`, with an IPC channel for the probe. Resolves once it prints
 * `listening on http://HOST:PORT` (the gateway's line; the references print the same).
 */
export function startServer(script: string, probe: string, env: Record<string, string>, extraFlags: string[] = []): Promise<ServerProcess> {
  const child: ChildProcess = trackChild(
    spawn(process.execPath, [...SERVER_NODE_FLAGS, ...extraFlags, '-r', probe, script], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }),
  );
  let output = '';
  // Keep only the tail: the gateway logs a line per event and runs can be long.
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8_000));
  const tail = () => output.split('\n').slice(-12).join('\n');

  // One question at a time: each command waits for its own kind of answer.
  const ask = <T>(cmd: 'probe' | 'cpu', pick: (reply: ProbeReply) => T | undefined) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${cmd}: the probe did not answer`)), PROBE_TIMEOUT_MS);
      const onMessage = (message: ProbeReply) => {
        const value = message ? pick(message) : undefined;
        if (value !== undefined) done(null, value);
      };
      const onExit = () => done(new Error(`server exited: ${tail()}`));
      function done(error: Error | null, value?: T) {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve(value as T);
      }
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ cmd });
    });
  const probeServer = () => ask<ServerProbe>('probe', (reply) => ('probe' in reply ? reply.probe : undefined));
  const cpu = () => ask<number>('cpu', (reply) => ('cpuUs' in reply ? reply.cpuUs : undefined));

  const stop = (graceMs = 10_000) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      child.kill('SIGTERM');
    });

  return new Promise((resolve, reject) => {
    let found: number | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start in ${START_TIMEOUT_MS / 1000} s: ${tail()}`));
    }, START_TIMEOUT_MS);
    child.stdout?.on('data', (chunk: Buffer) => {
      keep(chunk);
      if (found !== null) return;
      const listening = /listening on http:\/\/[^:\s]+:(\d+)/.exec(output);
      if (!listening) return;
      found = Number(listening[1]);
      clearTimeout(timer);
      resolve({ port: found, probe: probeServer, cpu, stop, tail });
    });
    child.stderr?.on('data', keep);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (found === null) reject(new Error(`${script} exited (${code ?? signal}) before listening: ${tail()}`));
    });
  });
}
