/*
 * Reference: the better-sse library, as its README shows it (a session per
 * request, one channel, `channel.broadcast`). This is what a Node user might
 * pick instead of the gateway; it serializes per session, as the library does.
 * Keep-alive every 15 s and retry 3 s, as the gateway's defaults.
 */
import { createChannel, createSession } from 'better-sse';
import { createReferenceServer, listen } from './reference-http';

const channel = createChannel();

const server = createReferenceServer({
  stream(request, response) {
    request.socket.setTimeout(0);
    createSession(request, response, { keepAlive: 15_000, retry: 3_000 }).then(
      (session) => channel.register(session),
      () => response.destroy(),
    );
  },
  broadcast(notification) {
    channel.broadcast(notification, notification.type, { eventId: notification.id });
  },
});

listen(server);
