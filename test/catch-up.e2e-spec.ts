import http from 'node:http';
import { compareNotificationIds } from '@app/notifications';
import { closeAfterEach } from './support/close-after-each';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { connectSocket, connected } from './support/socket-client';
import { openSse } from './support/sse-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * A reader that fell behind by tens of megabytes comes back and catches up
 * completely, at the speed it reads, without being cut off again: replay is
 * paced by the reader, so the server never buffers more than its bound.
 */

const LARGE = 'x'.repeat(60 * 1024);
const COUNT = 400; // 400 × 60 KiB ≈ 24 MiB, 23 times the per-connection bound

interface SlowRead {
  ids: string[];
  ended: boolean;
}

/**
 * Reads an SSE stream at a throttled pace (a pause after every chunk), as a
 * slow phone would, collecting the ids of the events it receives.
 */
function readSlowly(url: string, headers: Record<string, string>, pauseMs: number): { read: SlowRead; close: () => void } {
  const read: SlowRead = { ids: [], ended: false };
  let pending = '';
  const request = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (response) => {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      pending += chunk;
      let end: number;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        const block = pending.slice(0, end);
        pending = pending.slice(end + 2);
        // Notifications only: the `inbox` state the stream also carries has no id.
        if (block.includes('\ndata: ') && !block.startsWith('event: inbox\n')) read.ids.push(/^id: (.+)$/m.exec(block)?.[1] ?? '?');
      }
      response.pause();
      setTimeout(() => response.resume(), pauseMs);
    });
    const finish = () => (read.ended = true);
    response.on('end', finish);
    response.on('close', finish);
  });
  request.on('error', () => (read.ended = true));
  return { read, close: () => request.destroy() };
}

describe('reader-paced catch-up', () => {
  let gateway: TestGateway;
  const track = closeAfterEach();

  beforeAll(async () => {
    gateway = await startGateway();
  });

  afterAll(async () => {
    await gateway.close();
  });

  const publishLarge = async (userId: string) => {
    const ids: string[] = [];
    // Ten at a time: fast, and still one id order.
    for (let i = 0; i < COUNT; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, (_, j) => publish(gateway.url, userId, 'job-match', { i: i + j, text: LARGE })));
      ids.push(...batch);
    }
    return ids.sort(compareNotificationIds);
  };

  it('an SSE client cut off while not reading resumes with Last-Event-ID and catches up to the newest, slowly, without being cut again', async () => {
    const userId = randomUserId('behind');
    const token = userToken(userId);
    // 1. A client that stops reading is cut at the bound while ~24 MiB are published.
    const stalled = await openSse(gateway.url, '/api/events', { Authorization: `Bearer ${token}` });
    const opening = await waitFor(() => stalled.blocks.find((block) => block.id !== undefined), 'the opening id');
    stalled.pause();
    const ids = await publishLarge(userId);
    stalled.close();
    // 2. It comes back from where it was and reads at a few MiB/s.
    const { read, close } = readSlowly(`${gateway.url}/api/events`, { Authorization: `Bearer ${token}`, 'Last-Event-ID': opening.id as string }, 2);
    try {
      await waitFor(() => read.ids.length === COUNT || read.ended, 'the slow reader to catch up or be cut', 60_000);
      // Not cut: the server never buffered past its bound for it, which is what cuts a stream.
      expect(read.ended).toBe(false);
      expect(read.ids).toEqual(ids);
      // 3. Caught up, it is live.
      const next = await publish(gateway.url, userId);
      await waitFor(() => read.ids.includes(next), 'a live notification after the catch-up');
    } finally {
      close();
    }
  });

  it.each(['websocket', 'polling'])('a socket (%s) resuming from far behind receives every notification in order, without a disconnect', async (transport) => {
    const userId = randomUserId('sock');
    const ids = await publishLarge(userId);
    const client = connectSocket(gateway.url, userId, { auth: { token: userToken(userId), lastEventId: '0' }, transports: [transport] });
    track(client);
    let disconnects = 0;
    client.socket.on('disconnect', () => disconnects++);
    await connected(client);
    await client.waitForEvent('job-match', COUNT, 60_000);
    expect(client.eventsNamed<{ id: string }>('job-match').map((event) => event.id)).toEqual(ids);
    expect(disconnects).toBe(0);
  });
});
