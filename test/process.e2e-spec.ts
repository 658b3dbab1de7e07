import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import request from 'supertest';
import { gatewayEnv, runGateway } from './support/gateway-process';
import { randomUserId, uniquePrefix } from './support/prefix';
import { publish } from './support/publish';
import { deletePrefix } from './support/redis';
import { openSse } from './support/sse-client';
import { userToken } from './support/tokens';

/** The real entry point (`node dist/apps/gateway/main.js`): configuration errors, the listening line, SIGTERM. */
describe('the gateway process', () => {
  const prefix = uniquePrefix();
  const env = gatewayEnv(prefix);

  afterAll(async () => {
    await deletePrefix(prefix);
  });

  it.each([
    ['PORT', '-1'],
    ['REDIS_URL', 'localhost:6379'],
    ['SSE_HEARTBEAT_MS', '-5'],
    ['HISTORY_MAX_PER_USER', 'lots'],
  ])('stops with exit code 1 and one line naming %s when it is %p', async (name, value) => {
    const gateway = runGateway({ ...env, [name]: value });
    expect(await gateway.exited).toBe(1);
    const lines = gateway.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^invalid configuration: ${name}: `));
    expect(gateway.stdout).not.toContain('listening on');
  });

  it('refuses to start in production without JWT_SECRET', async () => {
    const { JWT_SECRET: _, ...withoutSecret } = env;
    const gateway = runGateway({ ...withoutSecret, NODE_ENV: 'production' });
    expect(await gateway.exited).toBe(1);
    expect(gateway.stderr.trim()).toMatch(/^invalid configuration: JWT_SECRET: [^\n]+$/);
  });

  it('logs `listening on`, serves, and on SIGTERM ends streams with a `retry:` and exits within 10 s', async () => {
    const gateway = runGateway(env);
    const port = await gateway.waitForListening();
    expect(gateway.stdout).toContain(`listening on http://127.0.0.1:${port}`);
    // The accept queue is as deep as the kernel allows (LISTEN_BACKLOG's default), not Node's 511:
    // `ss` shows a listening socket's queue size as its Send-Q.
    const somaxconn = Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    const [, , sendQ] = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim().split(/\s+/);
    expect(Number(sendQ)).toBe(Math.min(65535, somaxconn));
    const url = `http://127.0.0.1:${port}`;
    const userId = randomUserId();
    const stream = await openSse(url, '/api/events', { Authorization: `Bearer ${userToken(userId)}` });
    const id = await publish(url, userId);
    expect((await stream.waitForEvents(1))[0].id).toBe(id);
    expect((await request(url).get('/health')).status).toBe(200);

    const stoppedAt = Date.now();
    gateway.child.kill('SIGTERM');
    await stream.waitForEnd(10_000);
    expect(await gateway.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(stream.blocks[stream.blocks.length - 1].retry).toMatch(/^\d+$/);
  });
});
