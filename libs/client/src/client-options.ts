import type { ChannelsStatus, HubOptions } from './connection-hub';
import type { SocketTransportOptions } from './socket-transport';
import type { EventSourceConstructor } from './sse-transport';
import type { TabRole, TabSharing } from './tab-leader';
import type { TopicError, TopicsStatus } from './topics';
import type { TransportName } from './transport';

export interface RealtimeClientOptions {
  /** The gateway, e.g. `http://localhost:3000`. Default in browsers: the page's origin. */
  readonly baseUrl?: string;
  /** A fixed user token... */
  readonly token?: string;
  /** ...or a function that returns a fresh one (called again when the current one expires or is refused). */
  readonly getToken?: () => string | Promise<string>;
  /**
   * The channels to use. Every push channel listed (`sse`, `socket.io`) is kept open,
   * and a notification arriving on several is delivered once, by the first; `polling`
   * runs only while none of them is open. Chat, rooms, typing and cursors need
   * `socket.io`. Default: all three.
   */
  readonly transports?: readonly TransportName[];
  /**
   * Resume after this notification id (e.g. one kept in sessionStorage); `"0"`
   * replays everything retained. Default: from now on.
   */
  readonly lastEventId?: string;
  /** Polling interval once the history is read (default 5000 ms). */
  readonly pollIntervalMs?: number;
  /** How long no push channel may be open before polling starts (default 3000 ms). */
  readonly fallbackAfterMs?: number;
  /** How long a Socket.IO emit waits for its acknowledgement (default 5000 ms). */
  readonly ackTimeoutMs?: number;
  /** Share one set of connections among the tabs of this origin and user (default true where the browser can). */
  readonly shareAcrossTabs?: boolean;
  /** Test seams: fetch, EventSource, socket.io's `io`, the tab-sharing APIs, randomness. */
  readonly fetch?: typeof fetch;
  readonly EventSource?: EventSourceConstructor;
  readonly io?: SocketTransportOptions['io'];
  readonly tabSharing?: TabSharing;
  readonly random?: () => number;
}

export interface ClientStatus {
  /** `starting` until the first token is in and the tab election is decided. */
  role: TabRole | 'starting';
  userId: string | null;
  lastEventId: string | null;
  transports: TransportName[];
  channels: ChannelsStatus;
  /** The topics the client (any of its tabs) follows: `starting`, `live`, or `refused` with the reason. */
  topics: TopicsStatus;
}

export interface SubscribeOptions {
  /**
   * Resume after this event id of the topic (e.g. one kept in sessionStorage);
   * `"0"` replays what the topic retains. Applies when the client does not
   * follow the topic yet. Default: from now on.
   */
  readonly lastEventId?: string;
  /**
   * Event types the topic carries besides the system's own (`job-posted`):
   * SSE dispatches named events only to listeners of that name, so over SSE a
   * topic delivers the types listed here (Socket.IO and polling deliver every type).
   */
  readonly types?: readonly string[];
  /**
   * Called once if the gateway refuses the topic: `forbidden` (the user may not
   * follow it), `too_many_topics` (over 20 at once), `invalid_topic`. The client
   * then stops asking for it (the handler stays registered but gets nothing)
   * until a new `subscribe()` asks again. The refusal also shows in
   * `status.topics[topic]`.
   */
  readonly onError?: (error: TopicError) => void;
}

/** The hub's options: the client's, with their defaults, and the state the tab keeps across leaders. */
export function hubOptions(options: RealtimeClientOptions, state: Pick<HubOptions, 'baseUrl' | 'tokens' | 'position' | 'topicPositions'>): HubOptions {
  return {
    ...state,
    startFromNow: options.lastEventId === undefined,
    fetch: clientFetch(options),
    random: options.random ?? Math.random,
    pollIntervalMs: options.pollIntervalMs ?? 5_000,
    fallbackAfterMs: options.fallbackAfterMs ?? 3_000,
    ackTimeoutMs: options.ackTimeoutMs ?? 5_000,
    EventSource: options.EventSource,
    io: options.io,
  };
}

/** The fetch the client calls: the option's, else the global one (looked up at each call, so a page may wrap it later). */
export function clientFetch(options: RealtimeClientOptions): typeof fetch {
  return options.fetch ?? ((...args) => globalThis.fetch(...args));
}
