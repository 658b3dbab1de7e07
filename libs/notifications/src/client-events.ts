/*
 * The wire types a client sees, in one place for the server and for libs/client,
 * and the Socket.IO event names as constants checked against them. Nothing else:
 * this file imports types only, so nothing of the server (ioredis, Nest, Node
 * built-ins) can reach a browser bundle through it. Names and shapes are those of
 * the public contract (shared/contract.md).
 */
import type { InboxPayload } from './inbox/inbox-state';
import type { Notification, NOTIFICATION_TYPES } from './notification';
import type { TopicEvent } from './topics/topic';

export type { InboxPayload, Notification, TopicEvent };

/** A user's standing query for job postings. */
export interface SavedSearch {
  id: string;
  userId: string;
  /** Each keyword is one word or a phrase; every keyword must occur in the posting. */
  keywords: string[];
  location?: string;
  remote?: boolean;
  minSalary?: number;
  createdAt: string;
}

/** A job posting, as internal services enqueue it. */
export interface JobPosting {
  id: string;
  title: string;
  company: string;
  location?: string;
  description?: string;
  tags?: string[];
  salary?: number;
  remote?: boolean;
}

/** The notification types the system itself publishes; internal services may publish others. */
export type KnownNotificationType = (typeof NOTIFICATION_TYPES)[keyof typeof NOTIFICATION_TYPES];

/** `data` of a `job-match`: one per user and posting, `searchIds` sorted. */
export interface JobMatchData {
  jobId: string;
  title: string;
  company: string;
  location: string | null;
  searchIds: string[];
}

/** `data` of a `job-posted` event on the topic `jobs.new`: the live job board. */
export interface JobPostedData {
  jobId: string;
  title: string;
  company: string;
  location: string | null;
  remote: boolean;
  tags: string[];
}

/** `data` of a `message-received`: a direct chat message, stored so SSE and polling see it too. */
export interface MessageReceivedData {
  messageId: string;
  from: string;
  content: string;
  timestamp: string;
}

/** `data` by notification type; any other type has an open JSON object. */
export interface NotificationDataMap {
  'job-match': JobMatchData;
  'message-received': MessageReceivedData;
}

/** The notification of type `T`, with its `data` typed when the type is a known one. */
export type NotificationOf<T extends string> = Notification<T extends keyof NotificationDataMap ? NotificationDataMap[T] : Record<string, unknown>> & {
  type: T;
};

/** SSE events that are not notifications. */
export type SseControlEvent = 'reset' | 'token-expired' | 'inbox';

/** Why a stream does not continue from the resume id: trimmed past, or not a position of the user's history. */
export type ResetReason = 'history-truncated' | 'unknown-cursor';

/**
 * `reset` (SSE `data`, Socket.IO payload): the stream does not continue from the
 * resume id. On Socket.IO `lastEventId` is where it continues after (SSE carries
 * that in the event's `id:`); the client takes it as its position.
 */
export interface ResetPayload {
  reason: ResetReason;
  lastEventId?: string;
  /** The topic whose stream it is; absent for the user's own notifications. */
  topic?: string;
}

/** `token-expired` (SSE and Socket.IO): the connection ends; come back with a fresh token. */
export interface TokenExpiredPayload {
  reason: 'token-expired';
}

/** A message in a room, to the room's other members. */
export interface RoomChatMessage {
  id: string;
  roomId: string;
  from: string;
  content: string;
  timestamp: string;
}

/** A direct message, to the recipient's sockets (it is also stored as `message-received`). */
export interface DirectChatMessage {
  id: string;
  from: string;
  content: string;
  timestamp: string;
}

export interface TypingEvent {
  roomId: string;
  userId: string;
  isTyping: boolean;
}

export interface CursorMoveEvent {
  roomId: string;
  userId: string;
  x: number;
  y: number;
}

export interface PresenceEvent {
  roomId: string;
  userId: string;
  online: boolean;
}

/** Every acknowledgement: `{ ok: true, ... }` or `{ ok: false, error, field? }`. */
export type SocketAck<T extends object = object> = ({ ok: true } & T) | { ok: false; error: string; field?: string };

/** Server → client events on the default namespace, besides one event per notification type. */
export interface ServerToClientEvents {
  chat: (message: RoomChatMessage | DirectChatMessage) => void;
  typing: (event: TypingEvent) => void;
  'cursor-move': (event: CursorMoveEvent) => void;
  presence: (event: PresenceEvent) => void;
  reset: (payload: ResetPayload) => void;
  'token-expired': (payload: TokenExpiredPayload) => void;
  /** The user's read state: first on connect, then on every change (coalesced). */
  inbox: (state: InboxPayload) => void;
}

/** Client → server events: the payload, and the acknowledgement each one is answered with. */
export interface ClientToServerEventMap {
  'room:join': { payload: { roomId: string }; ack: SocketAck<{ members: string[] }> };
  'room:leave': { payload: { roomId: string }; ack: SocketAck };
  chat: { payload: { roomId: string; content: string } | { recipientId: string; content: string }; ack: SocketAck<{ id: string }> };
  typing: { payload: { roomId: string; isTyping: boolean }; ack: SocketAck };
  'cursor-move': { payload: { roomId: string; x: number; y: number }; ack: SocketAck };
  /**
   * `left`: rooms the new token's `rooms` claim no longer grants (ROOM_ACCESS=claim), which the socket has left;
   * `unsubscribed`: topics it may no longer follow, no longer sent; each absent when none.
   */
  'auth:refresh': { payload: { token: string }; ack: SocketAck<{ expiresAt: string | null; left?: string[]; unsubscribed?: string[] }> };
  /** Replays the topic after `lastEventId` (none: live from the newest), then live; `lastEventId` in the ack is where it continues after. */
  'topic:subscribe': { payload: { topic: string; lastEventId?: string }; ack: SocketAck<{ lastEventId: string }> };
  'topic:unsubscribe': { payload: { topic: string }; ack: SocketAck };
  /** Marks the user's notifications read: these ids (1 to 200), or every one up to `upTo`; ids not the user's are ignored. */
  'inbox:read': { payload: { ids: string[] } | { upTo: string }; ack: SocketAck<InboxPayload> };
}

/**
 * The client → server event names, spelled once: the server subscribes with
 * these (`satisfies` holds each to a key of the map, and the map to them).
 */
export const CLIENT_EVENTS = {
  roomJoin: 'room:join',
  roomLeave: 'room:leave',
  chat: 'chat',
  typing: 'typing',
  cursorMove: 'cursor-move',
  authRefresh: 'auth:refresh',
  topicSubscribe: 'topic:subscribe',
  topicUnsubscribe: 'topic:unsubscribe',
  inboxRead: 'inbox:read',
} as const satisfies Record<string, keyof ClientToServerEventMap>;

/** Compiles only while `T` is empty: here, while every event of a map has its constant. */
type NoneMissing<T extends never> = T;
/** A client event without a constant in CLIENT_EVENTS fails to compile here. */
export type EveryClientEventNamed = NoneMissing<Exclude<keyof ClientToServerEventMap, (typeof CLIENT_EVENTS)[keyof typeof CLIENT_EVENTS]>>;

/** The server → client event names besides the notification types, spelled once (checked as above). */
export const SERVER_EVENTS = {
  chat: 'chat',
  typing: 'typing',
  cursorMove: 'cursor-move',
  presence: 'presence',
  reset: 'reset',
  tokenExpired: 'token-expired',
  inbox: 'inbox',
} as const satisfies Record<string, keyof ServerToClientEvents>;
/** A server event without a constant in SERVER_EVENTS fails to compile here. */
export type EveryServerEventNamed = NoneMissing<Exclude<keyof ServerToClientEvents, (typeof SERVER_EVENTS)[keyof typeof SERVER_EVENTS]>>;

/** The same map in socket.io's typed-events form (payload, then the ack callback). */
export type ClientToServerEvents = {
  [E in keyof ClientToServerEventMap]: (payload: ClientToServerEventMap[E]['payload'], ack: (answer: ClientToServerEventMap[E]['ack']) => void) => void;
};

/** `GET /api/notifications`: a page of the user's history, oldest first. */
export interface NotificationPage {
  /** Each with whether the user has read it. */
  items: Array<Notification & { read: boolean }>;
  lastId: string | null;
  /** Present when `after` did not continue: trimmed past, or not a position of the user's history. */
  reset?: { reason: ResetReason };
}

/** `POST /api/saved-searches` body. */
export interface SavedSearchRequest {
  keywords: string[];
  location?: string;
  remote?: boolean;
  minSalary?: number;
}
