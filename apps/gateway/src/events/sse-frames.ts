import type { InboxState, NotificationEnvelope, ResetReason } from '@app/notifications';

/*
 * SSE wire framing. Notification JSON never contains a raw newline, so each
 * event is one `data:` line. Frames are Buffers so that one frame is written,
 * unchanged, to every connection of a user.
 */

export const HEARTBEAT_FRAME = Buffer.from(': heartbeat\n\n');

/**
 * `reset`: what follows does not continue from the client's cursor. Its `id:`
 * is where the stream continues after, so that a client (and a browser's
 * `lastEventId`) takes it as its cursor, even when it is behind the one it
 * sent: that one was not the user's, and every later id is smaller than it.
 */
export function resetFrame(reason: ResetReason, position: string, topic: string | null = null): Buffer {
  const topicJson = topic === null ? '' : `,"topic":"${topic}"`;
  return Buffer.from(`event: reset\nid: ${position}\ndata: {"reason":"${reason}"${topicJson}}\n\n`);
}

export const TOKEN_EXPIRED_FRAME = Buffer.from('event: token-expired\ndata: {"reason":"token-expired"}\n\n');

/**
 * Opens the stream: the reconnection delay, and the position the stream starts
 * after, as an `id:` with no data. Browsers record that id without dispatching
 * an event, so even a client that receives nothing before dropping resumes from
 * where it was.
 */
export function openingFrame(retryMs: number, position: string): Buffer {
  return Buffer.from(`retry: ${retryMs}\nid: ${position}\n\n`);
}

/** A last `retry:` before the server ends the stream, telling the client when to come back. */
export function retryFrame(retryMs: number): Buffer {
  return Buffer.from(`retry: ${retryMs}\n\n`);
}

/**
 * The event of a notification or topic event without its `id:` line, for a
 * connection that carries topics: there the `id:` is the connection's own
 * cursor (see StreamSetCursor), written before these shared bytes.
 */
export function eventFrame(envelope: NotificationEnvelope): Buffer {
  return Buffer.from(`event: ${envelope.type}\ndata: ${envelope.json}\n\n`);
}

/** The `id:` line of a connection's cursor, written before an {@link eventFrame}. */
export function idLine(cursor: string): Buffer {
  return Buffer.from(`id: ${cursor}\n`);
}

/** The event frame of a notification; pass to `envelope.encode` so it is built once. */
export function notificationFrame(envelope: NotificationEnvelope): Buffer {
  return Buffer.from(`id: ${envelope.id}\nevent: ${envelope.type}\ndata: ${envelope.json}\n\n`);
}

/** `inbox`: the user's read state. No `id:` line: it is state, not history, and must not move the client's cursor. */
export function inboxFrame(state: InboxState): Buffer {
  return Buffer.from(`event: inbox\ndata: {"unread":${state.unread},"readUpTo":"${state.readUpTo}"}\n\n`);
}
