/** Configuration: the library's variables, their DI token and one-line error, and the reader an app's own variables use. */
export { boolean, ConfigError, type Env, integer, loadNotificationsConfig, loadOrExit, NOTIFICATIONS_CONFIG, type NotificationsConfig, readVariable, type Variable } from './config';
/** The wire payloads, shared with libs/client, so the server builds exactly what clients are typed to receive. */
export type { JobMatchData, JobPosting, JobPostedData, MessageReceivedData, SavedSearch } from './client-events';
export { CLIENT_EVENTS, type ClientToServerEventMap, type ClientToServerEvents, SERVER_EVENTS, type ServerToClientEvents, type SocketAck } from './client-events';
/** Domain errors, mapped to wire errors by each transport. */
export { ForbiddenError, InvalidInputError, NotFoundError, UnauthorizedError } from './errors';
/** Delivery counters and the Prometheus registry with the contract's metric names. */
export { CHANNELS, type ChannelName, RealtimeMetrics } from './metrics/realtime.metrics';
export { DeliveryStats } from './metrics/delivery-stats';
/** The notification shape, its invariants and id helpers. */
export {
  assertEntryFields,
  assertJsonObjectBody,
  assertNotificationInput,
  compareNotificationIds,
  IDEMPOTENCY_KEY_PATTERN,
  isUserId,
  MAX_DATA_BYTES,
  type Notification,
  NOTIFICATION_TYPE_PATTERN,
  NOTIFICATION_TYPES,
  type NotificationInput,
  parseNotificationId,
  USER_ID_PATTERN,
  USER_ID_RULE,
} from './notification';
/** The checks every edge applies to JSON input before walking it: nesting depth, prototype-poisoning keys. */
export { jsonDepth, jsonShapeProblem, MAX_JSON_DEPTH, unsafeJsonField } from './json-shape';
/** A stored notification with its JSON made once, framed once per transport. */
export { NotificationEnvelope } from './notification-envelope';
/** Per-process fan-out registry (listener counts are exposed for leak checks). */
export { NotificationFanout } from './notification.fanout';
/** Live subscription with gapless replay: the read verb of every push transport. */
export { type FeedOptions, type FeedSink, FeedSubscription, NotificationFeed } from './notification.feed';
/** Where a client's cursor lets it resume: its own positions only, a reset otherwise. */
export { type ResetReason, resumePoint, type ResumePoint, UNREADABLE_CURSOR } from './resume-point';
/** The one write path of notifications, one at a time or in batches. */
export { MAX_BATCH_ITEMS, NotificationService } from './notification.service';
/** The inbox: each user's read state and exact unread count, pushed to every connection of the user. */
export { EMPTY_INBOX, INBOX_COALESCE_MS, type InboxPayload, inboxPayload, type InboxState, type MarkReadRequest } from './inbox/inbox-state';
export { InboxStore } from './inbox/inbox.store';
/** One stream a feed follows: a user's notifications or a topic's events. */
export type { FeedStream } from './feed-stream';
/** Topics: broadcast streams that many users follow, their names, grants and write path. */
export {
  assertTopicEventInput,
  isTopicName,
  MAX_TOPICS_PER_CONNECTION,
  TOPIC_GRANT_PATTERN,
  TOPIC_NAME_PATTERN,
  topicGranted,
  type TopicEvent,
  type TopicEventInput,
} from './topics/topic';
export { TopicService } from './topics/topic.service';
/** History reads (polling) and appends; a history expires HISTORY_TTL_MS after its newest notification. */
export { type AppendResult, type HistoryPage, NotificationStore, type StreamEntryInput, type StreamPosition } from './notification.store';
export { HISTORY_TTL_MS, TOPIC_HISTORY_TTL_MS } from './notification.scripts';
/** Limits kept in Redis, shared by every instance: one script per check. */
export { type RateBucket, RateLimiter } from './rate-limit/rate-limiter';
/** The Nest module that provides all of the above. */
export { NotificationsModule } from './notifications.module';
/** Redis connections and key building. */
export { COMMAND_TIMEOUT_MS, RedisConnections } from './redis/redis-connections';
export { DeliveryProbe, type DeliveryState } from './redis/delivery-probe';
export { createRedisClient, DEFAULT_REDIS_URL, parseRedisUrl, type RedisClient, type RedisDeployment, sentinelOptions } from './redis/redis-deployment';
export { RedisKeys } from './redis/redis-keys';
export { isRedisUnavailable, RedisUnavailableError } from './redis/redis-unavailable';
