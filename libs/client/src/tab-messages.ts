import type { ClientToServerEventMap, InboxPayload, Notification, TopicEvent } from '@app/notifications/client-events';
import type { ChannelsStatus, DeliveryMeta } from './connection-hub';
import type { SocketEventName } from './socket-transport';
import type { TopicError, TopicsStatus } from './topics';
import type { TransportName } from './transport';

/**
 * What the tabs of one user say to each other over their BroadcastChannel. The
 * leader sends what its connections receive (the user's read state, `inbox`,
 * too: on each change, and to a follower that says `hello`) and its status; followers announce
 * themselves (`hello`, with the rooms, types and topics they want; `bye`) and
 * ask the leader to act for them (`request`), which it answers (`answer`).
 */
export type TabMessage =
  | { kind: 'notification'; notification: Notification; meta: DeliveryMeta }
  | { kind: 'topic-event'; event: TopicEvent; meta: DeliveryMeta }
  | { kind: 'topic-refused'; topic: string; error: TopicError }
  | { kind: 'socket-event'; name: SocketEventName; payload: unknown }
  | { kind: 'reset'; channel: TransportName }
  | { kind: 'inbox'; state: InboxPayload }
  | { kind: 'status'; channels: ChannelsStatus; topics: TopicsStatus; transports: TransportName[]; lastEventId: string | null }
  | { kind: 'answer'; to: string; requestId: number; answer: unknown }
  | { kind: 'leader' }
  | { kind: 'hello'; tabId: string; rooms: string[]; types: string[]; topics: string[] }
  | { kind: 'bye'; tabId: string }
  | { kind: 'request'; tabId: string; requestId: number; request: TabRequest };

export type TabRequest =
  | { op: 'emit'; event: keyof ClientToServerEventMap; payload: unknown }
  | { op: 'volatile'; event: keyof ClientToServerEventMap; payload: unknown }
  | { op: 'join' | 'leave'; roomId: string }
  | { op: 'follow'; topic: string; lastEventId: string | null }
  | { op: 'unfollow'; topic: string }
  | { op: 'transports'; transports: TransportName[] };
