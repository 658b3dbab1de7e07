import type { Notification } from '@app/notifications/client-events';
import type { TokenSource } from './token-source';

/** The channels a client can receive notifications on. */
export type TransportName = 'sse' | 'socket.io' | 'polling';

export const TRANSPORT_NAMES = ['sse', 'socket.io', 'polling'] as const satisfies readonly TransportName[];

/**
 * `off`: not enabled. `connecting`: first attempt. `open`: delivering.
 * `reconnecting`: lost, retrying (by itself or after a backoff). `standby`:
 * polling while a push channel is open, so it does not poll.
 */
export type ChannelState = 'off' | 'connecting' | 'open' | 'reconnecting' | 'standby';

export interface ChannelStatus {
  enabled: boolean;
  state: ChannelState;
  /** Times it opened again after having been open. */
  reconnects: number;
  /** Notifications this channel delivered first (copies on other channels are not counted). */
  delivered: number;
  /** Why it is not open, when it is not. */
  error: string | null;
}

/** What a transport is given: the shared token and position, and where to report. */
export interface TransportContext {
  readonly baseUrl: string;
  readonly tokens: TokenSource;
  readonly fetch: typeof fetch;
  readonly random: () => number;
  /** The id to resume after: the last notification the client delivered, on any channel. */
  lastEventId(): string | null;
  /** Hands over a notification; copies are dropped by the client. */
  deliver(notification: Notification): void;
  /**
   * The server said the stream does not continue from the resume id (trimmed,
   * or not the user's), and continues after `position` (when it said where),
   * for a connection made from the resume id `from`.
   */
  reset(position: string | null, from: string | null): void;
  connecting(): void;
  open(): void;
  lost(reason: string): void;
}

/** One channel. `start` and `stop` may be called any number of times, in any order. */
export interface Transport {
  start(): void;
  stop(): void;
}

/** True for a payload that has the notification shape (as opposed to chat, typing, ...). */
export function isNotification(value: unknown): value is Notification {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.id === 'string' &&
    typeof candidate.type === 'string' &&
    typeof candidate.userId === 'string' &&
    typeof candidate.createdAt === 'string' &&
    typeof candidate.data === 'object' &&
    candidate.data !== null
  );
}

/** A timer that can be waited on and cut short by `cancel()` (which resolves it with false). */
export function sleep(ms: number): { done: Promise<boolean>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finish: (completed: boolean) => void = () => undefined;
  const done = new Promise<boolean>((resolve) => {
    finish = resolve;
    timer = setTimeout(() => resolve(true), ms);
  });
  return {
    done,
    cancel: () => {
      clearTimeout(timer);
      finish(false);
    },
  };
}

/** `GET` with the user token; the parsed JSON body (null when it is not JSON) and the status. */
export async function getJson(context: TransportContext, path: string, token: string, signal?: AbortSignal): Promise<{ status: number; body: unknown }> {
  const response = await context.fetch(new URL(path, context.baseUrl).href, {
    headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
    cache: 'no-store',
    signal,
  });
  const body: unknown = await response.json().catch(() => null);
  return { status: response.status, body };
}
