import http, { type IncomingMessage, type ServerResponse } from 'node:http';

/** The notification as the gateway sends it, so that every system puts the same bytes on the wire. */
export interface Notification {
  readonly id: string;
  readonly type: string;
  readonly userId: string;
  readonly data: Record<string, unknown>;
  readonly createdAt: string;
}

const TYPE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_BODY_BYTES = 1024 * 1024;

let lastMs = 0;
let sequence = 0;

/** Ids shaped like the gateway's (Redis stream ids: `<ms>-<n>`), increasing. */
function nextId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else sequence++;
  return `${lastMs}-${sequence}`;
}

/** The publish body checked for shape, as any honest server would; null if it is not a notification. */
function toNotification(body: string): Notification | null {
  let parsed: { userId?: unknown; type?: unknown; data?: unknown };
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const { userId, type, data } = parsed ?? {};
  if (typeof userId !== 'string' || userId === '' || typeof type !== 'string' || !TYPE_PATTERN.test(type)) return null;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  return { id: nextId(), type, userId, data: data as Record<string, unknown>, createdAt: new Date().toISOString() };
}

function answer(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

export interface ReferenceRoutes {
  /** `GET /api/events`: open a stream (query and token are ignored: the references have no users). */
  stream(request: IncomingMessage, response: ServerResponse): void;
  /** `POST /api/notifications` with a valid body: send it to every open stream. */
  broadcast(notification: Notification): void;
}

/**
 * The HTTP surface the load client expects from every system, on the
 * gateway's paths: publish with the same JSON body (answered 202 `{ id }`, as
 * the gateway does), and subscribe.
 */
export function createReferenceServer(routes: ReferenceRoutes): http.Server {
  return http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (request.method === 'GET' && path === '/api/events') return routes.stream(request, response);
    if (request.method !== 'POST' || path !== '/api/notifications') return answer(response, 404, { error: 'not found' });
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > MAX_BODY_BYTES) return answer(response, 413, { error: 'body too large' });
      const notification = toNotification(Buffer.concat(chunks).toString('utf8'));
      if (!notification) return answer(response, 400, { error: 'not a notification' });
      // Accepted, then fanned out: the gateway too answers 202 once the notification is
      // stored, before it reaches the streams, so a publisher waits on neither for the fan-out.
      answer(response, 202, { id: notification.id });
      routes.broadcast(notification);
    });
  });
}

/**
 * Listens on a free loopback port and prints the gateway's start-up line, which
 * the bench waits for. SIGTERM ends the process normally (exit handlers run,
 * and `--cpu-prof` writes its profile), as it does for the gateway.
 */
export function listen(server: http.Server): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
  });
}
