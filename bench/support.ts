import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';

export const root = path.resolve(__dirname, '..');
export const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
export const JWT_SECRET = 'bench-secret-bench-secret-bench-secret!';
export const API_KEY = 'bench-internal-key';

/** An HS256 JWT, as an identity provider would issue it. */
export function userToken(userId: string, ttlSeconds = 3600): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: userId, iat: now, exp: now + ttlSeconds })}`;
  return `${unsigned}.${createHmac('sha256', JWT_SECRET).update(unsigned).digest('base64url')}`;
}

export interface AppProcess {
  child: ChildProcess;
  port: number | null;
  stop(): Promise<void>;
}

/** Runs a built app (`dist/apps/<app>/main.js`) as its own process; resolves once it is ready. */
export function startApp(app: 'gateway' | 'job-matcher', env: Record<string, string>): Promise<AppProcess> {
  const child = spawn(process.execPath, [path.join(root, `dist/apps/${app}/main.js`)], {
    env: { PATH: process.env.PATH ?? '', REDIS_URL: redisUrl, JWT_SECRET, INTERNAL_API_KEY: API_KEY, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

/** A progress line that rewrites itself on a terminal. */
export function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
  else process.stderr.write(`${text}\n`);
}
