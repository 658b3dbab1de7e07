/**
 * `npm run fleet`: the production topology on loopback. N gateways (INSTANCE_ID g1..gN, no embedded
 * worker), one job-matcher, one Redis and nginx in front (deploy/nginx/gateway.conf.template), all
 * sharing one key prefix and one pair of secrets. Ctrl-C or SIGTERM stops nginx, then the gateways
 * (they drain), then the job-matcher, and removes the run directory.
 *
 *   npm run fleet -- --gateways 3 --port 8080     (or FLEET_GATEWAYS, FLEET_PORT, REDIS_KEY_PREFIX)
 *
 * It builds first when the sources are newer than dist/ (--no-build runs dist/ as it is).
 *
 * The end-to-end tests import {@link startFleet}, so they run exactly this topology.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { bundlePath as bundle, buildIfStale } from '../tools/build-if-stale';
import { freePort } from '../tools/free-port';
import { findNginx, renderNginxConfig } from './fleet/nginx-config';
import { type FleetGateway, type FleetProcess, httpStatus, LOOPBACK, ManagedGateway, ManagedProcess, START_TIMEOUT_MS, stringEnv } from './fleet/managed-process';

export { findNginx, renderNginxConfig } from './fleet/nginx-config';
export type { FleetGateway, FleetProcess } from './fleet/managed-process';

const root = path.resolve(__dirname, '..');

export interface FleetOptions {
  /** Gateway instances behind nginx; default 2. */
  gateways?: number;
  /** nginx's port on 127.0.0.1; default 8080, 0 for any free port. */
  port?: number;
  /** REDIS_KEY_PREFIX of the whole fleet; default `REDIS_KEY_PREFIX` or `rtg`. */
  prefix?: string;
  /** The Redis to use; default `REDIS_URL`, else 127.0.0.1:6379 if it answers, else a private redis-server. */
  redisUrl?: string;
  /** Variables for every gateway and the job-matcher (JWT_SECRET, SSE_RETRY_MS, ...); HOST, PORT, INSTANCE_ID and WORKER_EMBEDDED stay the fleet's. */
  env?: Record<string, string>;
  /** Called with every line the processes log, prefixed with their name; default: kept in memory only. */
  onLog?: (line: string) => void;
}

export interface Fleet {
  /** nginx: http://127.0.0.1:<port>. */
  readonly url: string;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly jwtSecret: string;
  readonly internalApiKey: string;
  /** The directory holding nginx's config, pid, logs and temp files (removed by stop()). */
  readonly runDir: string;
  readonly gateways: FleetGateway[];
  readonly jobMatcher: FleetProcess;
  readonly nginx: FleetProcess;
  /** Stops nginx, the gateways, the job-matcher and a Redis it started; removes the run directory. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the whole topology and resolves once nginx answers /health through a gateway. */
export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const count = options.gateways ?? 2;
  if (!Number.isInteger(count) || count < 1 || count > 32) throw new Error(`gateways: must be 1-32 (got ${count})`);
  const nginxBinary = findNginx();
  if (nginxBinary === null) throw new Error('nginx is not installed: apt-get install nginx (Debian/Ubuntu), or put it on the PATH');
  for (const app of ['gateway', 'job-matcher']) {
    if (!fs.existsSync(bundle(app))) throw new Error(`${path.relative(root, bundle(app))} is missing: run npm run build`);
  }

  const started: ManagedProcess[] = [];
  let redisStop: () => void = () => undefined;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtg-fleet-'));
  // nginx started as root runs its workers as nobody: they must reach the temp dirs inside.
  fs.chmodSync(runDir, 0o755);
  const cleanUp = async () => {
    // nginx first (no new requests), then the gateways in parallel (they drain), then the worker.
    const nginx = started.filter((p) => p.name === 'nginx');
    const gateways: ManagedProcess[] = started.filter((p) => p instanceof ManagedGateway);
    const rest = started.filter((p) => !nginx.includes(p) && !gateways.includes(p));
    for (const group of [nginx, gateways, rest]) await Promise.all(group.map((p) => p.stop('SIGTERM')));
    redisStop();
    fs.rmSync(runDir, { recursive: true, force: true });
  };

  try {
    let redisUrl = options.redisUrl ?? '';
    if (!redisUrl) {
      const redis = await ensureRedis();
      redisUrl = redis.url;
      redisStop = redis.stop;
    }
    const prefix = options.prefix ?? (process.env.REDIS_KEY_PREFIX || 'rtg');
    const givenSecret = options.env?.JWT_SECRET || process.env.JWT_SECRET;
    const jwtSecret = givenSecret || randomBytes(32).toString('base64url');
    const internalApiKey = options.env?.INTERNAL_API_KEY || process.env.INTERNAL_API_KEY || randomBytes(18).toString('base64url');
    const production = (options.env?.NODE_ENV ?? process.env.NODE_ENV) === 'production';
    const shared: Record<string, string> = {
      ...stringEnv(process.env),
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      JWT_SECRET: jwtSecret,
      INTERNAL_API_KEY: internalApiKey,
      // The gateways share a secret made up for this session (the dev token hint below needs it on
      // every instance); a secret given from outside gets dev tokens only if DEV_TOKENS says so.
      ...(givenSecret || production ? {} : { DEV_TOKENS: 'true' }),
      ...options.env,
      HOST: LOOPBACK,
      WORKER_EMBEDDED: 'false',
    };
    delete shared.INSTANCE_ID;

    const jobMatcher = new ManagedProcess('job-matcher', process.execPath, [bundle('job-matcher')], shared, options.onLog);
    started.push(jobMatcher);
    const gateways = Array.from({ length: count }, (_, index) => new ManagedGateway(`g${index + 1}`, shared, options.onLog));
    started.push(...gateways);
    await Promise.all([
      jobMatcher.waitForLine(/job-matcher ready/, START_TIMEOUT_MS),
      ...gateways.map((gateway) => gateway.start(0)),
    ]);

    const port = options.port ?? 8080;
    const configFile = path.join(runDir, 'nginx.conf');
    const errorLog = path.join(runDir, 'error.log');
    const nginxArgs = ['-p', runDir, '-c', configFile, '-e', errorLog];
    let nginx: ManagedProcess | null = null;
    let url = '';
    // With port 0 another process may take the probed port before nginx binds it: probe again.
    for (let attempt = 1; nginx === null; attempt++) {
      const listenPort = port === 0 ? await freePort(LOOPBACK) : port;
      if (port !== 0 && !(await portIsFree(port))) throw new Error(`${LOOPBACK}:${port} is in use: choose another port (--port, FLEET_PORT; 0 for any free one)`);
      fs.writeFileSync(configFile, renderNginxConfig({ runDir, listen: `${LOOPBACK}:${listenPort}`, gateways }));
      const check = spawnSync(nginxBinary, [...nginxArgs, '-t', '-q'], { encoding: 'utf8' });
      if (check.status !== 0) throw new Error(`nginx refused the config ${configFile}: ${(check.stderr || check.stdout).trim()}`);
      const candidate = new ManagedProcess('nginx', nginxBinary, [...nginxArgs, '-g', 'daemon off;'], stringEnv(process.env), options.onLog);
      started.push(candidate);
      url = `http://${LOOPBACK}:${listenPort}`;
      try {
        await candidate.waitUntil(() => httpStatus(`${url}/health`).then((status) => status === 200), 'nginx to answer /health', START_TIMEOUT_MS, () =>
          readIfExists(errorLog),
        );
        nginx = candidate;
      } catch (error) {
        await candidate.stop('SIGTERM');
        const portTaken = /Address already in use/.test(`${candidate.logs()}\n${readIfExists(errorLog)}`);
        if (!(port === 0 && portTaken && attempt < 3)) throw error;
      }
    }

    let stopping: Promise<void> | null = null;
    return {
      url,
      redisUrl,
      prefix,
      jwtSecret,
      internalApiKey,
      runDir,
      gateways,
      jobMatcher,
      nginx,
      stop: () => (stopping ??= cleanUp()),
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, LOOPBACK, () => server.close(() => resolve(true)));
  });
}

function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** tools/with-redis.js: REDIS_URL, else 127.0.0.1:6379 if it answers, else a private redis-server (or exit with one line). */
function ensureRedis(): Promise<{ url: string; stop: () => void }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const withRedis = require('../tools/with-redis.js') as { ensureRedis(): Promise<{ url: string; stop: () => void }> };
  return withRedis.ensureRedis();
}

// ---------------------------------------------------------------------------------------------
// CLI

function parseArgs(argv: string[]): { gateways: number; port: number; prefix?: string; quiet: boolean; build: boolean } {
  const usage = 'usage: npm run fleet -- [--gateways N] [--port P] [--prefix PREFIX] [--quiet] [--no-build]';
  let gateways = process.env.FLEET_GATEWAYS || '2';
  let port = process.env.FLEET_PORT || '8080';
  let prefix: string | undefined;
  let quiet = false;
  let build = true;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--gateways') gateways = value();
    else if (flag === '--port') port = value();
    else if (flag === '--prefix') prefix = value();
    else if (flag === '--quiet') quiet = true;
    else if (flag === '--no-build') build = false;
    else {
      process.stderr.write(`${flag === '--help' || flag === '-h' ? '' : `unknown option ${flag}\n`}${usage}\n`);
      process.exit(flag === '--help' || flag === '-h' ? 0 : 2);
    }
  }
  if (!/^\d+$/.test(gateways) || Number(gateways) < 1 || Number(gateways) > 32) {
    process.stderr.write(`--gateways: must be 1-32 (got ${JSON.stringify(gateways)})\n`);
    process.exit(2);
  }
  if (!/^\d+$/.test(port) || Number(port) > 65535) {
    process.stderr.write(`--port: must be 0-65535 (got ${JSON.stringify(port)})\n`);
    process.exit(2);
  }
  return { gateways: Number(gateways), port: Number(port), prefix, quiet, build };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (findNginx() === null) {
    process.stderr.write('nginx is not installed: apt-get install nginx (Debian/Ubuntu), or put it on the PATH.\n');
    process.exit(1);
  }
  if (args.build) buildIfStale();
  const print = (line: string) => process.stdout.write(`${line}\n`);
  let fleet: Fleet;
  try {
    fleet = await startFleet({ gateways: args.gateways, port: args.port, prefix: args.prefix, onLog: args.quiet ? undefined : print });
  } catch (error) {
    process.stderr.write(`fleet: ${(error as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    print(`fleet: ${signal}, stopping nginx, ${fleet.gateways.length} gateway(s) and the job-matcher...`);
    await fleet.stop();
    print('fleet: stopped');
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
  // A SIGTERM sent to `npm run fleet` stops npm without reaching this process: stop when the parent goes.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop('parent process exited');
  }, 1_000).unref();
  for (const member of [...fleet.gateways, fleet.jobMatcher, fleet.nginx]) {
    member.process.once('exit', (code, signal) => {
      if (!stopping) print(`fleet: ${member.name} exited (${signal ?? `code ${code}`}); the others keep running`);
    });
  }

  const tokenCommand =
    `curl -s -X POST ${fleet.url}/api/dev/token -H 'Content-Type: application/json' -d '{"userId":"u42"}'` +
    ` | node -pe 'JSON.parse(fs.readFileSync(0)).token'`;
  print(
    [
      '',
      `fleet up: ${fleet.url}  (nginx on loopback; Ctrl-C stops everything)`,
      ...fleet.gateways.map((g) => `  ${g.instanceId}: ${g.url}  (INSTANCE_ID=${g.instanceId}, pid ${g.process.pid})`),
      `  job-matcher: pid ${fleet.jobMatcher.process.pid}`,
      `  Redis: ${fleet.redisUrl}, prefix ${fleet.prefix}`,
      `  nginx config and logs: ${fleet.runDir}`,
      '',
      'Secrets for this session (shared by every process):',
      `  export INTERNAL_API_KEY='${fleet.internalApiKey}'`,
      `  export JWT_SECRET='${fleet.jwtSecret}'`,
      'A dev token, then a stream through nginx:',
      `  TOKEN=$(${tokenCommand})`,
      `  curl -N "${fleet.url}/api/events?access_token=$TOKEN"`,
      '',
    ].join('\n'),
  );
}

if (require.main === module) void main();
