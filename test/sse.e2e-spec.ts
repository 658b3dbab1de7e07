import request from 'supertest';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { openSse, type RawSseStream } from './support/sse-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';
import { SseConnections } from '../apps/gateway/src/events/sse-connections';
import { NotificationFanout } from '@app/notifications';

describe('SSE: GET /api/events', () => {
  let gateway: TestGateway;
  const streams: RawSseStream[] = [];

  const subscribe = async (userId: string, query = '', headers: Record<string, string> = {}) => {
    const stream = await openSse(gateway.url, `/api/events${query}`, { Authorization: `Bearer ${userToken(userId)}`, ...headers });
    streams.push(stream);
    return stream;
  };

  beforeAll(async () => {
    gateway = await startGateway({ env: { SSE_HEARTBEAT_MS: '100', SSE_RETRY_MS: '1234' } });
  });

  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
  });

  afterAll(async () => {
    await gateway.close();
  });

  it('answers 200 with the contract headers, then `retry:` first, unbuffered', async () => {
    const stream = await subscribe(randomUserId());
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
    expect(stream.headers['cache-control']).toBe('no-cache');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    expect(stream.headers['content-encoding']).toBeUndefined();
    await waitFor(() => stream.blocks.length > 0, 'the opening block');
    expect(stream.raw.startsWith('retry: 1234\n')).toBe(true);
  });

  it('sends `: heartbeat` comments every SSE_HEARTBEAT_MS', async () => {
    const stream = await subscribe(randomUserId());
    await waitFor(() => stream.blocks.filter((block) => block.comments.includes('heartbeat')).length >= 2, 'two heartbeats', 3_000);
    expect(stream.raw).toContain('\n: heartbeat\n\n');
  });

  it('frames each notification as id, event and data lines with the notification JSON', async () => {
    const userId = randomUserId();
    const stream = await subscribe(userId);
    const id = await publish(gateway.url, userId, 'job-match', { jobId: 'j1', title: 'Engineer' });
    const [event] = await stream.waitForEvents(1);
    expect(event.id).toBe(id);
    expect(event.event).toBe('job-match');
    const notification = JSON.parse(event.data as string);
    expect(notification).toEqual({
      id,
      type: 'job-match',
      userId,
      data: { jobId: 'j1', title: 'Engineer' },
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(stream.raw).toContain(`id: ${id}\nevent: job-match\ndata: ${event.data}\n\n`);
  });
});
