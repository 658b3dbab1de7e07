import { EventSource } from 'eventsource';
import { SseConnections } from '../apps/gateway/src/events/sse-connections';
import { closeAfterEach } from './support/close-after-each';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/** What a browser does: the `eventsource` package implements the WHATWG EventSource, reconnection included. */
describe('SSE with a real EventSource client', () => {
  let gateway: TestGateway;
  const track = closeAfterEach();

  beforeAll(async () => {
    gateway = await startGateway({ env: { SSE_RETRY_MS: '100' } });
  });

  afterAll(async () => {
    await gateway.close();
  });

  const open = (userId: string, types: string[]) => {
    const received: Array<{ type: string; id: string; data: { id: string; type: string; data: Record<string, unknown> } }> = [];
    const source = new EventSource(`${gateway.url}/api/events?access_token=${userToken(userId)}`);
    for (const type of types) {
      source.addEventListener(type, (event) => received.push({ type: event.type, id: event.lastEventId, data: JSON.parse(event.data) }));
    }
    track(source);
    return { source, received };
  };

  it('receives notifications as named events whose lastEventId is the notification id', async () => {
    const userId = randomUserId();
    const { source, received } = open(userId, ['job-match', 'message-received']);
    await waitFor(() => source.readyState === EventSource.OPEN, 'the stream to open');
    const first = await publish(gateway.url, userId, 'job-match', { jobId: 'j1' });
    const second = await publish(gateway.url, userId, 'message-received', { content: 'hi' });
    await waitFor(() => received.length === 2, 'two events');
    expect(received.map((event) => [event.type, event.id, event.data.id])).toEqual([
      ['job-match', first, first],
      ['message-received', second, second],
    ]);
  });

  it('reconnects by itself after the server drops it and replays what it missed, in order', async () => {
    const userId = randomUserId();
    const { source, received } = open(userId, ['job-match']);
    let errors = 0;
    source.addEventListener('error', () => errors++);
    await waitFor(() => source.readyState === EventSource.OPEN, 'the stream to open');
    const before = await publish(gateway.url, userId, 'job-match', { n: 0 });
    await waitFor(() => received.length === 1, 'the first event');

    // Drop every connection server-side, then publish while the client is away.
    gateway.app.getHttpServer().closeAllConnections();
    await waitFor(() => errors > 0, 'the client to notice the drop');
    const missed: string[] = [];
    for (let n = 1; n <= 5; n++) missed.push(await publish(gateway.url, userId, 'job-match', { n }));

    await waitFor(() => received.length === 6, 'the missed events after the reconnect');
    const after = await publish(gateway.url, userId, 'job-match', { n: 6 });
    await waitFor(() => received.length === 7, 'live events again');
    expect(received.map((event) => event.id)).toEqual([before, ...missed, after]);
    expect(gateway.app.get(SseConnections).size).toBe(1);
  });
});
