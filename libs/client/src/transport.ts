import type { InboxPayload, Notification, TopicEvent } from '@app/notifications/client-events';
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
  /** Notifications and topic events this channel delivered first (copies on other channels are not counted). */
  delivered: number;
  /** Why it is not open, when it is not. */
  error: string | null;
}

/** A topic a channel carries: its key in an SSE cursor (null without SubtleCrypto) and the id it resumes after. */
export interface TopicCursor {
  readonly topic: string;
  readonly key: string | null;
  readonly lastEventId: string | null;
}

/** What a transport is given: the shared token and positions, and where to report. */
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
  /**
   * The topics to carry now, in the order they were followed. Each was admitted
   * (the user may follow it, and its start position is known) before it is listed.
   */
  topics(): readonly TopicCursor[];
  /** Hands over a topic event; copies (and events of topics no longer followed) are dropped by the client. */
  deliverTopicEvent(event: TopicEvent): void;
  /**
   * The server said `topic` continues after `position` (a topic's `reset`, or a
   * subscribe's ack), for a subscription made from the resume id `from`.
   */
  topicResumesAfter(topic: string, position: string, from: string | null): void;
  /** The server refused the topic (`forbidden`, `too_many_topics`, ...): the client stops asking for it. */
  topicRefused(topic: string, error: string): void;
  /** A stream with topics was refused without saying which (an SSE 403, or a browser's silent give-up): check each again. */
  checkTopics(): void;
  /** The user's read state as the server pushed it (`inbox`) or a poll read it: state, not history, so no position moves. */
  inbox(state: InboxPayload): void;
  connecting(): void;
  open(): void;
  lost(reason: string): void;
}

/** One channel. `start` and `stop` may be called any number of times, in any order. */
export interface Transport {
  start(): void;
  stop(): void;
  /** The list of `topics()` changed: carry the new one (polling reads it on each round, so it has none). */
  topicsChanged?(): void;
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

/** True for a payload that has the `inbox` shape: `{ unread, readUpTo }`. */
export function isInboxPayload(value: unknown): value is InboxPayload {
  if (typeof value !== 'object' || value === null) return false;
  const { unread, readUpTo } = value as Record<string, unknown>;
  return typeof unread === 'number' && Number.isSafeInteger(unread) && unread >= 0 && typeof readUpTo === 'string';
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

/** `getJson` with the current user token, and once more with a fresh one after a 401. */
export async function getJsonAuthorized(context: TransportContext, path: string, signal?: AbortSignal): Promise<{ status: number; body: unknown }> {
  const answer = await getJson(context, path, await context.tokens.get(), signal);
  if (answer.status !== 401 || !context.tokens.refreshable) return answer;
  return getJson(context, path, await context.tokens.refresh(), signal);
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
