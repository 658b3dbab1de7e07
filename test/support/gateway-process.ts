import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { testRedisUrl } from './redis';
import { TEST_API_KEY, TEST_JWT_SECRET } from './start-gateway';
import { waitFor } from './wait-for';

const root = path.resolve(__dirname, '../..');
const bundle = (app: string) => path.join(root, `dist/apps/${app}/main.js`);

// test/global-setup.js builds both bundles once per run.

/** What every gateway process of the tests runs with: its prefix, the test secrets, loopback, any free port. */
export function gatewayEnv(prefix: string, redisUrl = testRedisUrl()): Record<string, string> {
  return { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, JWT_SECRET: TEST_JWT_SECRET, INTERNAL_API_KEY: TEST_API_KEY, HOST: '127.0.0.1', PORT: '0' };
}

export interface GatewayProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** The port from the `listening on` line. */
  waitForListening(timeoutMs?: number): Promise<number>;
}

/** Runs the built gateway as its own process, with exactly `env` (plus PATH). */
export function runGateway(env: Record<string, string>): GatewayProcess {
  return runApp('gateway', env);
}

/** Runs a built app (`gateway` or `job-matcher`) as its own process. */
export function runApp(app: string, env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, [bundle(app)], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    waitForListening: async (timeoutMs = 15_000) => {
      const match = await waitFor(() => /listening on http:\/\/[^:]+:(\d+)/.exec(stdout), 'the listening line', timeoutMs);
      return Number(match[1]);
    },
  };
}
