/** The client: createRealtimeClient({ baseUrl, token | getToken, transports }) and its status types. */
export { type ClientStatus, createRealtimeClient, RealtimeClient, type RealtimeClientOptions, type SubscribeOptions } from './realtime-client';
/** The inbox: `client.inbox` (unread count, read position, markRead, markAllRead, onChange). */
export { type ClientInbox, InboxError, type InboxState, MAX_READ_IDS } from './inbox';
/** Topics: `client.subscribe(topic, handler, options)`, their status and refusals. */
export type { TopicError, TopicState, TopicStatus, TopicsStatus } from './topics';
export type { ChannelsStatus, DeliveryMeta } from './connection-hub';
export type { ChannelState, ChannelStatus, TransportName } from './transport';
export type { TabRole } from './tab-leader';
export type { SocketEventName } from './socket-transport';
/** The wire types, shared with the server (libs/notifications). */
export type {
  CursorMoveEvent,
  DirectChatMessage,
  InboxPayload,
  JobMatchData,
  JobPostedData,
  JobPosting,
  MessageReceivedData,
  Notification,
  NotificationDataMap,
  NotificationOf,
  NotificationPage,
  PresenceEvent,
  RoomChatMessage,
  SavedSearch,
  SavedSearchRequest,
  SocketAck,
  TopicEvent,
  TypingEvent,
} from '@app/notifications/client-events';
/** Building blocks, exported for tests and custom transports. */
export { Backoff, backoffDelay } from './backoff';
export { compareEventIds, normalizeEventId, ResumePosition } from './event-ids';
export { readJwtClaims } from './token-source';
