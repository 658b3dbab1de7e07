import type { NotificationEnvelope, ResetReason } from '@app/notifications';

/*
 * SSE wire framing. Notification JSON never contains a raw newline, so each
 * event is one `data:` line. Frames are Buffers so that one frame is written,
 * unchanged, to every connection of a user.
 */

export const HEARTBEAT_FRAME = Buffer.from(': heartbeat\n\n');

const RESET_FRAMES: Record<ResetReason, Buffer> = {
  'history-truncated': Buffer.from('event: reset\ndata: {"reason":"history-truncated"}\n\n'),
  'unknown-cursor': Buffer.from('event: reset\ndata: {"reason":"unknown-cursor"}\n\n'),
};

/** `reset`: what follows does not continue from the client's cursor. No `id:`, so the client's cursor stays put. */
export function resetFrame(reason: ResetReason): Buffer {
  return RESET_FRAMES[reason];
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

/** The event frame of a notification; pass to `envelope.encode` so it is built once. */
export function notificationFrame(envelope: NotificationEnvelope): Buffer {
  return Buffer.from(`id: ${envelope.id}\nevent: ${envelope.type}\ndata: ${envelope.json}\n\n`);
}
