/*
 * The root types tools/asyncapi.ts generates docs/asyncapi.yaml's payloads from.
 * Each is a type of client-events.ts or one derived from it, none written out
 * here, so the document follows that file. (Aliases, not re-exports: the schema
 * generator finds a root only where it is declared.)
 */
import type * as Wire from '../libs/notifications/src/client-events';

export type ClientToServerEventMap = Wire.ClientToServerEventMap;
export type ServerToClientEvents = Wire.ServerToClientEvents;
export type SseControlEvent = Wire.SseControlEvent;
export type Notification = Wire.Notification;
export type TopicEvent = Wire.TopicEvent;

/** Each known notification type's notification, by type. */
export type KnownNotifications = { [T in Wire.KnownNotificationType]: Wire.NotificationOf<T> };

/** `job-posted` on the topic `jobs.new`: the live job board. */
export type JobPostedEvent = Wire.TopicEvent<Wire.JobPostedData> & { type: 'job-posted'; topic: 'jobs.new' };
