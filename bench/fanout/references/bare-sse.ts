/*
 * Reference: a bare `node:http` SSE broadcaster, written the way a competent
 * engineer would without a framework. One frame is formatted once per message
 * and the same Buffer is written to every stream; one heartbeat timer for all
 * streams; a stream that stops reading is cut off past 1 MiB of backlog (the
 * gateway's bound), so that neither side may grow without limit.
 */
import type { ServerResponse } from 'node:http';
import { createReferenceServer, listen } from './reference-http';

const HEARTBEAT_MS = 15_000;
const MAX_BUFFERED_BYTES = 1024 * 1024;
const HEARTBEAT = Buffer.from(': heartbeat\n\n');

const streams = new Set<ServerResponse>();

function write(response: ServerResponse, frame: Buffer): void {
  if (response.writableLength > MAX_BUFFERED_BYTES) response.destroy();
  else response.write(frame);
}

const server = createReferenceServer({
  stream(request, response) {
    request.socket.setNoDelay(true);
    request.socket.setTimeout(0);
    response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    response.write('retry: 3000\n\n');
    streams.add(response);
    response.once('close', () => streams.delete(response));
  },
  broadcast(notification) {
    const frame = Buffer.from(`id: ${notification.id}\nevent: ${notification.type}\ndata: ${JSON.stringify(notification)}\n\n`);
    for (const response of streams) write(response, frame);
  },
});

setInterval(() => {
  for (const response of streams) write(response, HEARTBEAT);
}, HEARTBEAT_MS).unref();

listen(server);
