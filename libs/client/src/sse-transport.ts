import { Backoff } from './backoff';
import { compareEventIds } from './event-ids';
import { buildStreamSetCursor, cursorPosition, USER_STREAM_KEY } from './topic-cursor';
import { isTopicEvent } from './topics';
import { isInboxPayload, isNotification, type TopicCursor, type Transport, type TransportContext } from './transport';

/** The part of the WHATWG EventSource this transport uses (the browser's, or the `eventsource` package's). */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((event: Event) => unknown) | null;
  onerror: ((event: Event) => unknown) | null;
  addEventListener(type: string, listener: (event: MessageEvent) => unknown): void;
  close(): void;
}

/** What `fetch` the `eventsource` package calls, with the headers it wants to send. */
type EventSourceFetch = (url: string | URL, init: { headers: Record<string, string> } & Record<string, unknown>) => Promise<unknown>;

export type EventSourceConstructor = new (url: string, init?: { withCredentials?: boolean; fetch?: EventSourceFetch }) => EventSourceLike;

export interface SseOptions {
  /**
   * The EventSource to use. Default: the browser's own where there is one (it can
   * send no headers, so the token goes in the query string), else the
   * `eventsource` package, loaded on first use (token in `Authorization`).
   */
  readonly EventSource?: EventSourceConstructor;
  /** Send the token and resume id as headers (through the package's `fetch` hook) instead of the query. */
  readonly headers?: boolean;
  /** The event names to listen for: notification and topic event types (EventSource only dispatches named events to named listeners). */
  readonly types: () => Iterable<string>;
}

const CLOSED = 2;

/**
 * `GET /api/events`. EventSource itself reconnects after a dropped stream, waits
 * the server's `retry:` and sends `Last-Event-ID`; this class adds what it does
 * not do:
 * - when the EventSource gives up (any HTTP error: 401, 503 while the server
 *   drains), a new one after an exponential backoff with jitter, resuming from
 *   the client's position (`lastEventId` in the query, or the header in Node);
 * - on `token-expired`, a new one at once with a fresh token;
 * - `reset` reported to the client;
 * - the client's topics (`?topics=`): when they change, a new stream with the
 *   new list and a cursor built from the client's positions in every stream
 *   (see topic-cursor.ts), so each resumes where the client stands.
 */
export class SseTransport implements Transport {
  private source: EventSourceLike | null = null;
  private readonly listening = new Set<string>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;
  private readonly backoff: Backoff;
  /** The topics the current stream carries. */
  private carried: readonly TopicCursor[] = [];
  /** Whether the client was last told `open` (a planned reopen for new topics does not flap it). */
  private reportedOpen = false;

  constructor(
    private readonly context: TransportContext,
    private readonly options: SseOptions,
  ) {
    this.backoff = new Backoff({ initialMs: 1_000, maxMs: 30_000, random: context.random });
  }

  start(): void {
    if (this.source !== null || this.retryTimer !== null) return;
    void this.open();
  }

  stop(): void {
    this.generation++;
    this.reportedOpen = false;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.source?.close();
    this.source = null;
  }

  /** Listens for one more event type, on this stream and the next ones. */
  watch(type: string): void {
    if (this.listening.has(type)) return;
    this.listening.add(type);
    this.source?.addEventListener(type, this.onEvent);
  }

  /**
   * A stream carries a fixed list of topics: a new list needs a new stream. An
   * open in progress reads the list when it builds its URL, and one waiting
   * out a backoff when it starts, so only a stream that exists is replaced.
   */
  topicsChanged(): void {
    if (this.source === null) return;
    const names = (topics: readonly TopicCursor[]) => topics.map(({ topic }) => topic).join(',');
    if (names(this.context.topics()) === names(this.carried)) return;
    this.source.close();
    this.source = null;
    void this.open();
  }

  private async open(): Promise<void> {
    const generation = ++this.generation;
    if (!this.reportedOpen) this.context.connecting();
    let token: string;
    let Source: EventSourceConstructor;
    try {
      [token, Source] = await Promise.all([this.context.tokens.get(), this.constructorToUse()]);
    } catch (error) {
      if (generation === this.generation) this.retryLater(error instanceof Error ? error.message : String(error));
      return;
    }
    if (generation !== this.generation) return;

    const url = new URL('/api/events', this.context.baseUrl);
    const headers = this.options.headers ?? !this.hasNativeEventSource();
    const topics = this.context.topics();
    this.carried = topics;
    if (topics.length > 0) url.searchParams.set('topics', topics.map(({ topic }) => topic).join(','));
    const resumeId = this.resumeCursor();
    if (!headers) {
      url.searchParams.set('access_token', token);
      // A new EventSource sends no Last-Event-ID; its own reconnects do, and the server prefers the header.
      if (resumeId !== null) url.searchParams.set('lastEventId', resumeId);
    }
    const source = headers ? new Source(url.href, { fetch: this.fetchWithHeaders }) : new Source(url.href);
    this.source = source;
    let openedFrom = this.context.lastEventId();
    let topicsOpenedFrom = new Map(topics.map(({ topic, lastEventId }) => [topic, lastEventId]));

    source.onopen = () => {
      if (source !== this.source) return;
      // Each (re)connection resumes from the client's position: a reset right after it refers to that.
      openedFrom = this.context.lastEventId();
      topicsOpenedFrom = new Map(this.ownTopics().map(({ topic, lastEventId }) => [topic, lastEventId]));
      this.backoff.reset();
      if (this.reportedOpen) return;
      this.reportedOpen = true;
      this.context.open();
    };
    source.onerror = (event) => {
      if (source !== this.source) return;
      if (source.readyState !== CLOSED) {
        // Dropped: the EventSource retries by itself after the server's `retry:`, with Last-Event-ID.
        this.lost('stream dropped; reconnecting');
        return;
      }
      source.close();
      this.source = null;
      const status = (event as Event & { code?: number }).code;
      // A browser does not say why it gave up; a refused or expiring token is one reason worth a new token.
      if (status === 401 || (status === undefined && (this.context.tokens.expiresWithin(5_000) || this.backoff.failures >= 2))) {
        void this.context.tokens.refresh().catch(() => undefined);
      }
      // One topic the user may no longer follow (a refreshed token's claim) fails the whole stream.
      if (this.carried.length > 0 && (status === 403 || (status === undefined && this.backoff.failures >= 2))) this.context.checkTopics();
      this.retryLater(status === undefined ? 'stream failed' : `HTTP ${status}`);
    };
    source.addEventListener('token-expired', () => {
      if (source !== this.source) return;
      source.close();
      this.source = null;
      this.lost('token expired');
      void this.context.tokens.refresh().then(
        () => generation === this.generation && void this.open(),
        (error: unknown) => generation === this.generation && this.retryLater(`getToken failed: ${String(error)}`),
      );
    });
    source.addEventListener('reset', (event) => {
      if (source !== this.source) return;
      // The `id:` of a reset is where its stream continues after: the cursor's segment of that stream.
      const { data, lastEventId: cursor } = event as MessageEvent;
      const topic = resetTopic(data);
      if (topic === null) {
        this.context.reset(cursor ? cursorPosition(cursor, USER_STREAM_KEY) : null, openedFrom);
        return;
      }
      const key = topics.find((carried) => carried.topic === topic)?.key;
      const position = cursor && key ? cursorPosition(cursor, key) : null;
      if (position !== null) this.context.topicResumesAfter(topic, position, topicsOpenedFrom.get(topic) ?? null);
    });
    // The read state: first on every stream, then on every change; it has no `id:`, so it moves no cursor.
    source.addEventListener('inbox', (event) => {
      if (source !== this.source) return;
      const state = parseJson(event.data);
      if (isInboxPayload(state)) this.context.inbox(state);
    });
    for (const type of this.options.types()) this.listening.add(type);
    for (const type of this.listening) source.addEventListener(type, this.onEvent);
  }

  /** A notification or a topic event: both come named by their type, told apart by their shape. */
  private readonly onEvent = (event: MessageEvent): void => {
    const payload = parseJson(event.data);
    if (isTopicEvent(payload)) this.context.deliverTopicEvent(payload);
    else if (isNotification(payload)) this.context.deliver(payload);
  };

  /** The client's topics this stream carries, at the client's current positions. */
  private ownTopics(): TopicCursor[] {
    const carried = new Set(this.carried.map(({ topic }) => topic));
    return this.context.topics().filter(({ topic }) => carried.has(topic));
  }

  /**
   * Where a new stream resumes: the user's last id, or with topics a cursor over
   * every stream built from the client's positions (each stream's events may
   * have come over another channel or tab, so the client's own are the truth).
   */
  private resumeCursor(): string | null {
    if (this.carried.length === 0) return this.context.lastEventId();
    return buildStreamSetCursor(this.context.lastEventId(), this.ownTopics());
  }

  /** Node: the token in `Authorization`, and the client's position as `Last-Event-ID` when it is ahead of the stream's own. */
  private readonly fetchWithHeaders: EventSourceFetch = async (url, init) => {
    const headers: Record<string, string> = { ...init.headers, Authorization: `Bearer ${await this.context.tokens.get()}` };
    const ours = this.resumeCursor();
    const theirs = headers['Last-Event-ID'];
    // With topics, ours wins: the stream's own cursor is ahead only by events of types nobody listens for.
    if (ours !== null && (theirs === undefined || this.carried.length > 0 || compareEventIds(ours, theirs) > 0)) headers['Last-Event-ID'] = ours;
    return this.context.fetch(url, { ...init, headers } as RequestInit);
  };

  private lost(reason: string): void {
    this.reportedOpen = false;
    this.context.lost(reason);
  }

  private retryLater(reason: string): void {
    this.lost(reason);
    const generation = this.generation;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (generation === this.generation) void this.open();
    }, this.backoff.next());
  }

  private hasNativeEventSource(): boolean {
    return this.options.EventSource === undefined && typeof (globalThis as { EventSource?: unknown }).EventSource === 'function' && typeof document !== 'undefined';
  }

  private async constructorToUse(): Promise<EventSourceConstructor> {
    if (this.options.EventSource) return this.options.EventSource;
    if (this.hasNativeEventSource()) return (globalThis as unknown as { EventSource: EventSourceConstructor }).EventSource;
    // Only Node gets here; bundlers split this into a chunk that browsers never load.
    const { EventSource } = await import('eventsource');
    return EventSource as unknown as EventSourceConstructor;
  }
}

/** An event's `data` as JSON; null when it is not JSON. */
function parseJson(data: unknown): unknown {
  try {
    return JSON.parse(String(data));
  } catch {
    return null;
  }
}

/** The topic a `reset` names (`data: {"reason":..., "topic": ...}`); null for the user's own stream. */
function resetTopic(data: unknown): string | null {
  try {
    const topic = (JSON.parse(String(data)) as { topic?: unknown } | null)?.topic;
    return typeof topic === 'string' ? topic : null;
  } catch {
    return null;
  }
}
