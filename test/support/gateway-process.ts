import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { markBuilt } from '../../tools/build-if-stale';
import { testRedisUrl } from './redis';
import { TEST_ADMIN_PASSWORD, TEST_API_KEY, TEST_JWT_SECRET } from './start-gateway';
import { waitFor } from './wait-for';

const root = path.resolve(__dirname, '../..');
const bundle = (app: string) => path.join(root, `dist/apps/${app}/main.js`);

// test/global-setup.js builds both bundles once per run.

/** What every gateway process of the tests runs with: its prefix, the test secrets, loopback, any free port. */
export function gatewayEnv(prefix: string, redisUrl = testRedisUrl()): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    INTERNAL_API_KEY: TEST_API_KEY,
    ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    HOST: '127.0.0.1',
    PORT: '0',
  };
}

export interface GatewayProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** The port from the `listening on` line. */
  waitForListening(timeoutMs?: number): Promise<number>;
  /** The host of the `listening on` line, once it is logged. */
  listeningHost(): string | null;
}

/** Runs the built gateway as its own process, with exactly `env` (plus PATH). */
export function runGateway(env: Record<string, string>): GatewayProcess {
  return runApp('gateway', env);
}

/** Runs a built app (`gateway` or `job-matcher`) as its own process. */
export function runApp(app: string, env: Record<string, string>): GatewayProcess {
  return runNode(bundle(app), env);
}

/**
 * Runs `npm start` (tools/start.js) with exactly `env` (plus PATH). The bundle's
 * mtime is bumped first: global-setup built it for this run, and a source file
 * another engineer saves meanwhile must not make start.js run a whole
 * `npm run build` inside a test.
 */
export function runNpmStart(env: Record<string, string>): GatewayProcess {
  markBuilt(['gateway']);
  return runNode(path.join(root, 'tools/start.js'), env);
}

function runNode(script: string, env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
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
    listeningHost: () => /listening on http:\/\/([^:"]+):\d+/.exec(stdout)?.[1] ?? null,
  };
}
