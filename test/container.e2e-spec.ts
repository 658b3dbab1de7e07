import { execFileSync, spawn } from 'node:child_process';
import request from 'supertest';
import { freePort } from '../tools/free-port';
import { gatewayEnv } from './support/gateway-process';
import { randomUserId, uniquePrefix } from './support/prefix';
import { publish } from './support/publish';
import { deletePrefix } from './support/redis';
import { openSse, type RawSseStream } from './support/sse-client';
import { TEST_API_KEY } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * The container image (deploy/container), run with podman as an operator
 * would: `npm run test:container` builds it and runs this file. The gateway
 * and the job-matcher from the one image, on the host's Redis, in production
 * mode, as a user that is not root, stopping within the contract's 10 s.
 */
const image = process.env.RTG_CONTAINER_IMAGE as string;

describe(`the container image ${image}`, () => {
  const prefix = uniquePrefix();
  const names: string[] = [];
  let url = '';
  let stream: RawSseStream | undefined;

  const podman = (...args: string[]) => execFileSync('podman', args, { encoding: 'utf8' }).trim();
  /** Starts a container of the image on the host's network; `command` replaces the gateway's. */
  const run = (label: string, env: Record<string, string>, command: string[] = []) => {
    const name = `rtg-test-${label}-${Math.random().toString(36).slice(2, 8)}`;
    names.push(name);
    const flags = Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
    podman('run', '-d', '--network', 'host', '--name', name, ...flags, image, ...command);
    return name;
  };

  beforeAll(async () => {
    const port = await freePort();
    run('gateway', { ...gatewayEnv(prefix), PORT: String(port), WORKER_EMBEDDED: 'false' });
    run('job-matcher', gatewayEnv(prefix), ['node', 'dist/apps/job-matcher/main.js']);
    url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await request(url).get('/health').catch(() => null))?.status === 200 || null, 'the container to answer /health 200', 30_000);
  }, 45_000);

  afterAll(async () => {
    stream?.close();
    for (const name of names) spawn('podman', ['rm', '-f', '-t', '0', name], { stdio: 'ignore' });
    await deletePrefix(prefix);
  });

  it('runs as a user that is not root, in production mode', () => {
    expect(podman('exec', names[0], 'id', '-u')).toBe('10001');
    expect(podman('exec', names[0], 'printenv', 'NODE_ENV')).toBe('production');
  });

  it('delivers: a publish over REST reaches an SSE stream, and a posting becomes a job-match through the job-matcher', async () => {
    const userId = randomUserId('container');
    stream = await openSse(url, '/api/events', { Authorization: `Bearer ${userToken(userId)}` });
    expect(stream.status).toBe(200);
    const id = await publish(url, userId, 'job-match', { from: 'container' });
    const search = await request(url).post('/api/saved-searches').set('Authorization', `Bearer ${userToken(userId)}`).send({ keywords: ['podman'] });
    expect(search.status).toBe(201);
    const posting = { id: `container-${Math.random().toString(36).slice(2, 8)}`, title: 'Podman engineer', company: 'Acme' };
    expect((await request(url).post('/api/jobs').set('X-Api-Key', TEST_API_KEY).send(posting)).status).toBe(202);
    const events = await stream.waitForEvents(2, 15_000);
    expect(events[0].id).toBe(id);
    expect(JSON.parse(events[1].data ?? '')).toMatchObject({ type: 'job-match', data: { jobId: posting.id, searchIds: [search.body.id] } });
  });

  it('serves the demo page without dev tokens, the OpenAPI and the AsyncAPI documents', async () => {
    expect((await request(url).get('/')).text).toContain('<meta name="rtg-dev-tokens" content="disabled" />');
    expect((await request(url).get('/api/docs-json')).status).toBe(200);
    expect((await request(url).get('/api/docs/asyncapi')).status).toBe(200);
  });

  it('stops on SIGTERM within 10 s, with exit code 0', () => {
    const started = Date.now();
    podman('stop', '-t', '15', names[0]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(podman('inspect', '--format', '{{.State.ExitCode}}', names[0])).toBe('0');
  }, 20_000);
});
