import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';

export const root = path.resolve(__dirname, '..');
export const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
export const JWT_SECRET = 'bench-secret-bench-secret-bench-secret!';
export const API_KEY = 'bench-internal-key';

/**
 * An HS256 JWT, as an identity provider would issue it. `jti` makes tokens of
 * one user and second distinct, as every device's own token is.
 */
export function userToken(userId: string, ttlSeconds = 3600, jti?: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: userId, iat: now, exp: now + ttlSeconds, ...(jti === undefined ? {} : { jti }) };
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', JWT_SECRET).update(unsigned).digest('base64url')}`;
}

const children = new Set<ChildProcess>();

/** Registers a child process so that it is killed whenever the bench exits, however it exits. */
export function trackChild<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * Kills every tracked child on any exit (normal end, error, Ctrl-C, SIGTERM)
 * and, on a signal, runs `cleanup` (bounded to 5 s) before exiting 130.
 */
export function installCleanup(cleanup: () => Promise<void>): void {
  process.once('exit', killChildren);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping every child process and deleting this run's Redis keys\n`);
      killChildren();
      const deadline = setTimeout(() => process.exit(130), 5_000);
      cleanup().finally(() => {
        clearTimeout(deadline);
        process.exit(130);
      });
    });
  }
}

export interface AppProcess {
  child: ChildProcess;
  port: number | null;
  stop(): Promise<void>;
}

/** What every gateway or worker the benches start runs with: its prefix, the bench secrets, loopback, any free port. */
export function appEnv(prefix: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '', REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, JWT_SECRET, INTERNAL_API_KEY: API_KEY, HOST: '127.0.0.1', PORT: '0' };
}

/** Runs a built app (`dist/apps/<app>/main.js`) as its own process; resolves once it is ready. */
export function startApp(app: 'gateway' | 'job-matcher', prefix: string, env: Record<string, string>): Promise<AppProcess> {
  const child = trackChild(
    spawn(process.execPath, [path.join(root, `dist/apps/${app}/main.js`)], {
      env: { ...appEnv(prefix), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${app} did not start: ${output.slice(-500)}`)), 20_000);
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk;
      const listening = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (listening || (app === 'job-matcher' && output.includes('job-matcher ready'))) {
        clearTimeout(timer);
        resolve({ child, port: listening ? Number(listening[1]) : null, stop });
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`${app} exited with ${code}: ${output.slice(-500)}`)));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One JSON request over a keep-alive agent. */
export function requestJson(port: number, method: string, urlPath: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(
      { host: '127.0.0.1', port, method, path: urlPath, agent, headers: { 'Content-Type': 'application/json', ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<void>, onProgress?: (done: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        await task(i);
        done++;
        if (onProgress && done % 500 === 0) onProgress(done);
      }
    }),
  );
}

/** Keys are cleaned up exactly as the tests do it: SCAN + UNLINK of the prefix only. */
export { deletePrefix } from '../test/support/redis';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
