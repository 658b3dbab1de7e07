import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomUserId } from './support/prefix';
import { publish } from './support/publish';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';

/*
 * The publishable client (issue 17): libs/client/build.mjs builds it, `npm pack`
 * packs it, a scratch project in the temp dir installs the tarball and uses it
 * from plain Node, CommonJS and ESM, against a running gateway; its types
 * compile with skipLibCheck off; its browser bundle stays small.
 */
const run = promisify(execFile);
const repo = path.resolve(__dirname, '..');
const NAME = '@realtime-gateway/client';
/** The client's own code, minified and gzipped, without socket.io-client (measured ~11.3 KiB). */
const OWN_CODE_GZIP_LIMIT = 25 * 1024;

/** One script for both module systems: opens, waits for one notification and the inbox, closes. */
function clientScript(load: string): string {
  return `${load}
const transports = process.env.TRANSPORTS.split(',');
const client = createRealtimeClient({ baseUrl: process.env.GATEWAY_URL, token: process.env.TOKEN, transports });
const timeout = setTimeout(() => { console.error('timed out: ' + JSON.stringify(client.status)); process.exit(2); }, 20000);
let opened = false;
let received = null;
let done = false;
function report() {
  if (done || !received || !client.inbox.known || client.inbox.unread < 1) return;
  done = true;
  clearTimeout(timeout);
  console.log(JSON.stringify({ ...received, unread: client.inbox.unread }));
  client.close();
}
client.onStatus((status) => {
  if (!opened && transports.every((name) => status.channels[name].state === 'open')) {
    opened = true;
    console.log('open');
  }
});
client.onNotification((notification, meta) => {
  received = { id: notification.id, type: notification.type, channel: meta.channel };
  report();
});
client.inbox.onChange(report);
`;
}

const CJS_SCRIPT = clientScript(`const { createRealtimeClient } = require('${NAME}');`);
const ESM_SCRIPT = clientScript(`import { createRealtimeClient } from '${NAME}';`);

/** Uses the types as an application would; the @ts-expect-error lines prove they are not `any`. */
const TYPES_CHECK = `import { createRealtimeClient, type InboxState, type Notification, type RealtimeClient, type TransportName } from '${NAME}';
const transports: TransportName[] = ['sse', 'socket.io'];
const client: RealtimeClient = createRealtimeClient({ baseUrl: 'http://localhost:3000', getToken: async () => 'token', transports });
client.on('job-match', (notification) => {
  const title: string = notification.data.title;
  void title;
});
client.onNotification((notification: Notification) => void notification.id);
const unread: number = client.inbox.unread;
client.inbox.onChange((state: InboxState) => void state.readUpTo);
// @ts-expect-error not a transport
createRealtimeClient({ transports: ['carrier-pigeon'] });
// @ts-expect-error unread is a number
const wrong: string = client.inbox.unread;
export { unread, wrong };
`;

describe('the publishable client package', () => {
  let gateway: TestGateway;
  let work: string;
  let scratch: string;
  let packed: { filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> };

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rtg-client-package-'));
    scratch = path.join(work, 'app');
    const [started] = await Promise.all([
      startGateway({ env: { SSE_RETRY_MS: '200' } }),
      (async () => {
        await run(process.execPath, [path.join(repo, 'libs/client/build.mjs'), '--out', path.join(work, 'package')], { cwd: repo });
        const { stdout } = await run('npm', ['pack', path.join(work, 'package'), '--pack-destination', work, '--json'], { cwd: work });
        packed = JSON.parse(stdout)[0];
        fs.mkdirSync(scratch);
        await run('npm', ['init', '-y'], { cwd: scratch });
        const install = ['install', path.join(work, packed.filename), 'eventsource@^4.1.1', '--no-audit', '--no-fund', '--loglevel=error'];
        // From the npm cache when it has everything, else from the registry.
        await run('npm', [...install, '--offline'], { cwd: scratch }).catch(() => run('npm', [...install, '--prefer-offline'], { cwd: scratch }));
      })(),
    ]);
    gateway = started;
  }, 240_000);

  afterAll(async () => {
    await gateway?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('packs the builds, the types and the README, and nothing else', () => {
    const files = packed.files.map((file) => file.path).sort();
    for (const expected of ['package.json', 'README.md', 'dist/esm/index.js', 'dist/esm/package.json', 'dist/cjs/index.js', 'dist/types/cjs/index.d.ts', 'dist/types/esm/index.d.ts', 'dist/types/cjs/wire/client-events.d.ts']) {
      expect(files).toContain(expected);
    }
    expect(files.filter((file) => !/^(package\.json|README\.md|dist\/(esm|cjs|types\/(esm|cjs))\/.+\.(js|d\.ts|json))$/.test(file))).toEqual([]);
    const manifest = JSON.parse(fs.readFileSync(path.join(scratch, 'node_modules', NAME, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: NAME, sideEffects: false, files: ['dist', 'README.md'] });
    expect(manifest.scripts).toBeUndefined();
    console.log(`${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${files.length} files`);
  });

  async function runScript(file: string, source: string, transports: string[]) {
    fs.writeFileSync(path.join(scratch, file), source);
    const userId = randomUserId('pkg');
    const child = spawn(process.execPath, [file], {
      cwd: scratch,
      env: { ...process.env, GATEWAY_URL: gateway.url, TOKEN: userToken(userId), TRANSPORTS: transports.join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let published: Promise<string> | null = null;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (!published && stdout.split('\n').includes('open')) published = publish(gateway.url, userId, 'job-match', { jobId: 'j1', title: 'Packaged', company: 'Acme', location: null, searchIds: [] });
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    const [code] = (await new Promise((resolve) => child.on('exit', (...args) => resolve(args)))) as [number | null, string | null];
    clearTimeout(killer);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(published).not.toBeNull();
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    return { result, id: await published! };
  }

  it('works from CommonJS (require) over SSE, and the process exits after close()', async () => {
    const { result, id } = await runScript('client.cjs', CJS_SCRIPT, ['sse']);
    expect(result).toEqual({ id, type: 'job-match', channel: 'sse', unread: 1 });
  }, 40_000);

  it('works from ESM (import) over SSE and Socket.IO at once, and the process exits after close()', async () => {
    const { result, id } = await runScript('client.mjs', ESM_SCRIPT, ['sse', 'socket.io']);
    expect(result).toMatchObject({ id, type: 'job-match', unread: 1 });
    expect(['sse', 'socket.io']).toContain(result.channel);
  }, 40_000);

  it('has self-contained types: tsc --noEmit with skipLibCheck off, from CommonJS and ESM files', async () => {
    fs.writeFileSync(path.join(scratch, 'check-cjs.ts'), TYPES_CHECK);
    fs.writeFileSync(path.join(scratch, 'check-esm.mts'), TYPES_CHECK);
    const tsconfig = {
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2023', 'dom'], types: [], strict: true, noEmit: true, skipLibCheck: false },
      files: ['check-cjs.ts', 'check-esm.mts'],
    };
    fs.writeFileSync(path.join(scratch, 'tsconfig.json'), JSON.stringify(tsconfig));
    const result = await run(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', scratch]).catch((error: { stdout: string; code: number }) => error);
    expect('code' in result ? result.stdout : '').toBe('');
  }, 60_000);

  it(`keeps the browser bundle small: the client's own code under ${OWN_CODE_GZIP_LIMIT / 1024} KiB gzipped`, async () => {
    const installed = path.join(scratch, 'node_modules', NAME);
    const { stdout } = await run(process.execPath, [path.join(repo, 'libs/client/bundle-size.mjs'), '--package', installed], { cwd: repo });
    const sizes = JSON.parse(stdout) as Record<'withSocketIo' | 'withoutSocketIo', { minified: number; gzip: number }>;
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
    console.log(
      `browser bundle (minified / gzip): client alone ${kib(sizes.withoutSocketIo.minified)} / ${kib(sizes.withoutSocketIo.gzip)}; ` +
        `with socket.io-client ${kib(sizes.withSocketIo.minified)} / ${kib(sizes.withSocketIo.gzip)}`,
    );
    expect(sizes.withoutSocketIo.gzip).toBeLessThan(OWN_CODE_GZIP_LIMIT);
    expect(sizes.withSocketIo.gzip).toBeGreaterThan(sizes.withoutSocketIo.gzip);
  }, 60_000);
});
