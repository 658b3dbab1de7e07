import { EventSource } from 'eventsource';
import http from 'node:http';
import { SETTINGS } from './config';
import { type CursorVia, LogicalClient, MODEL_EVENT_TYPES, NON_NOTIFICATION_EVENTS, pause, readInbox, readNotification, readReset, type Segment } from './client';

/**
 * SSE over node:http, read block by block as a browser's EventSource reads it:
 * it remembers the last `id:` line (the id-only opening block included), honours
 * `retry:`, reconnects with `Last-Event-ID` when the stream ends, and can stop
 * reading (pause) so that the server's bound on unsent bytes is reached. With
 * topics (`?topics=`) that last `id:` is the connection's cursor over all its
 * streams, resumed from as it is.
 */
export class RawSseClient extends LogicalClient {
  readonly cursorVia: CursorVia = 'header';
  private request: http.ClientRequest | null = null;
  private response: http.IncomingMessage | null = null;
  private lastIdLine: string | null = null;
  private retryMs: number = SETTINGS.sseRetryMs;
  private paused = false;
  /** Bumped by every open and close: a reconnect scheduled before one of them is dropped, not run beside the new connection. */
  private run = 0;

  open(cursor: string | null, via: CursorVia | null): void {
    this.run++;
    this.closed = false;
    this.dead = null;
    this.openedWith = { cursor, via };
    // Until the stream gives an `id:`, a reconnect resumes from the cursor it was opened with (as an app would).
    this.lastIdLine = cursor;
    this.connect(cursor, via);
  }

  close(): void {
    this.run++;
    this.closed = true;
    if (this.current) this.finish(this.current, 'client');
    this.request?.destroy();
  }

  resumeId(): string | null {
    return this.lastIdLine;
  }

  /** Connects again after `ms`, unless the client was closed or reopened meanwhile. */
  private later(ms: number, cursor: string | null, via: CursorVia | null): void {
    const run = this.run;
    void pause(ms).then(() => {
      if (run === this.run) this.connect(cursor, via);
    });
  }

  /** Stops reading: the kernel's buffers, then the gateway's, fill up. */
  stall(): void {
    this.paused = true;
    if (this.current) this.current.paused = true;
    this.response?.pause();
  }

  resume(): void {
    this.paused = false;
    this.response?.resume();
  }

  get isStalled(): boolean {
    return this.paused;
  }

  private connect(cursor: string | null, via: CursorVia | null): void {
    if (this.closed) return;
    const route = this.fleet.route(this.preferred);
    if (route === null) {
      this.later(50, cursor, via);
      return;
    }
    this.preferred = route.index;
    const segment = this.begin(route, cursor, via);
    segment.paused = this.paused;
    const query = eventsQuery([...topicsParameter(this.topics), ...(via === 'query' && cursor !== null ? [['lastEventId', cursor]] : [])]);
    const headers: Record<string, string> = { Accept: 'text/event-stream', Authorization: `Bearer ${this.token()}` };
    if (via === 'header' && cursor !== null) headers['Last-Event-ID'] = cursor;
    const request = http.get(`${route.url}/api/events${query}`, { headers, agent: false }, (response) => this.onResponse(segment, response));
    this.request = request;
    request.on('error', (error) => {
      // Closed by the model while connecting: not a refusal.
      if (segment.end === 'client') return;
      if (segment.establishedAt === null && segment.refused === null) segment.refused = (error as NodeJS.ErrnoException).code ?? error.message;
      this.ended(segment, 'error', error.message);
    });
  }

  private onResponse(segment: Segment, response: http.IncomingMessage): void {
    this.response = response;
    if (response.statusCode !== 200) {
      // An error answer is read at once even by a stalled reader (the stall is of the stream): its end is when it was refused.
      segment.refused = String(response.statusCode);
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => this.ended(segment, 'server', body.slice(0, 300)));
      return;
    }
    if (this.paused) response.pause();
    segment.establishedAt = performance.now();
    let pending = '';
    let retryLast = false;
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      pending += chunk;
      let end: number;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        retryLast = this.onBlock(segment, pending.slice(0, end));
        pending = pending.slice(end + 2);
      }
    });
    response.on('end', () => this.ended(segment, retryLast ? 'server-retry' : 'server'));
    response.on('error', (error) => this.ended(segment, 'error', error.message));
    response.on('close', () => this.ended(segment, 'error', 'closed before its end'));
  }

  /** Applies one block; true when it was a bare `retry:` (what a draining server sends last). */
  private onBlock(segment: Segment, text: string): boolean {
    const fields: Record<string, string> = {};
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      fields[name] = name === 'data' && fields.data !== undefined ? `${fields.data}\n${value}` : value;
    }
    if (fields.retry !== undefined && /^\d+$/.test(fields.retry)) this.retryMs = Number(fields.retry);
    if (fields.id !== undefined) {
      this.lastIdLine = fields.id;
      if (fields.data === undefined && segment.position === null && segment.received.length === 0) segment.position = fields.id;
    }
    if (fields.data === undefined) return fields.retry !== undefined && fields.id === undefined;
    const event = fields.event ?? 'message';
    if (event === 'reset') segment.received.push(readReset(safeJson(fields.data), fields.id));
    else if (event === 'inbox') segment.inbox.push(readInbox(safeJson(fields.data), segment.received.length, fields.id));
    else if (!NON_NOTIFICATION_EVENTS.has(event)) segment.received.push(readNotification(fields.data, fields.id, this.topics.length > 0));
    return false;
  }

  private ended(segment: Segment, end: NonNullable<Segment['end']>, detail?: string): void {
    if (segment.end !== null) return;
    this.finish(segment, end, detail);
    if (this.closed || segment !== this.current) return;
    const refused = segment.refused;
    // 400, 401 and 403 are answers, not outages: a browser gives up too (the checker judges them).
    if (refused === '400' || refused === '401' || refused === '403' || refused === '404') {
      this.dead = `refused ${refused}`;
      return;
    }
    if (refused === '500') {
      this.dead = 'refused 500';
      return;
    }
    // Resume as a browser does: after `retry:`, from the last id seen, in the header.
    this.later(refused === null ? this.retryMs : 50, this.lastIdLine, this.lastIdLine === null ? null : 'header');
  }
}

/**
 * The `eventsource` package (the WHATWG EventSource), reconnecting by itself.
 * Its fetch is wrapped as a load balancer would route: to the client's
 * instance while it serves, else to the other; each fetch is one segment.
 */
export class EventSourceClient extends LogicalClient {
  readonly cursorVia: CursorVia = 'query';
  private source: EventSource | null = null;
  private lastSeen: string | null = null;

  open(cursor: string | null, via: CursorVia | null): void {
    this.closed = false;
    this.dead = null;
    this.openedWith = { cursor, via };
    this.lastSeen = cursor;
    this.create(cursor);
  }

  close(): void {
    this.closed = true;
    if (this.current) this.finish(this.current, 'client');
    this.source?.close();
  }

  resumeId(): string | null {
    return this.lastSeen;
  }

  private create(cursor: string | null): void {
    const route = this.fleet.route(this.preferred) ?? { url: 'http://127.0.0.1:9' };
    const query = eventsQuery([['access_token', this.token()], ...topicsParameter(this.topics), ...(cursor !== null ? [['lastEventId', cursor]] : [])]);
    const source = new EventSource(`${route.url}/api/events${query}`, {
      fetch: async (input, init) => {
        const headerCursor = (init?.headers as Record<string, string> | undefined)?.['Last-Event-ID'];
        const segmentCursor = headerCursor ?? cursor;
        const via: CursorVia | null = headerCursor !== undefined ? 'header' : cursor !== null ? 'query' : null;
        const target = this.fleet.route(this.preferred);
        if (target === null || this.closed) throw new TypeError('no gateway is taking connections');
        this.preferred = target.index;
        const segment = this.begin(target, segmentCursor, via);
        const url = new URL(String(input));
        const routed = `${target.url}${url.pathname}${url.search}`;
        try {
          const response = await fetch(routed, init as RequestInit);
          if (response.status === 200) segment.establishedAt = performance.now();
          else segment.refused = String(response.status);
          return response;
        } catch (error) {
          if (segment.end !== 'client') segment.refused ??= (error as Error).message;
          this.finish(segment, 'error', (error as Error).message);
          throw error;
        }
      },
    });
    this.source = source;
    const combined = this.topics.length > 0;
    const onItem = (event: MessageEvent) => {
      const item = readNotification(event.data as string, event.lastEventId || undefined, combined);
      // With topics the position is the connection's cursor, as the package itself resumes from it.
      if (item.kind === 'item') this.lastSeen = combined ? event.lastEventId || this.lastSeen : item.id;
      this.current?.received.push(item);
    };
    for (const type of MODEL_EVENT_TYPES) source.addEventListener(type, onItem);
    source.addEventListener('reset', (event) => {
      const reset = readReset(safeJson((event as MessageEvent).data as string), (event as MessageEvent).lastEventId);
      // The reset's id is where the stream continues: the client's position from now on.
      if (reset.position !== undefined) this.lastSeen = reset.position;
      this.current?.received.push(reset);
    });
    // The package keeps the last `id:` for every event, so an `id:` line on `inbox` does not show here (the raw client checks it).
    source.addEventListener('inbox', (event) => {
      const segment = this.current;
      segment?.inbox.push(readInbox(safeJson((event as MessageEvent).data as string), segment.received.length));
    });
    source.addEventListener('error', () => {
      const segment = this.current;
      if (segment) this.finish(segment, segment.establishedAt === null ? 'error' : 'server');
      if (this.closed || source.readyState !== source.CLOSED) return;
      // Failed for good (a non-200): a refusal the contract allows ends here; otherwise the app starts a new one.
      const refused = segment?.refused;
      if (refused === '400' || refused === '401' || refused === '403' || refused === '500') {
        this.dead = `refused ${refused}`;
        return;
      }
      void pause(50).then(() => {
        if (!this.closed && this.source === source) this.create(this.lastSeen);
      });
    });
  }
}

function topicsParameter(topics: readonly string[]): string[][] {
  return topics.length > 0 ? [['topics', topics.join(',')]] : [];
}

/** `?a=1&b=2` (empty without parameters). */
function eventsQuery(parameters: string[][]): string {
  return parameters.length === 0 ? '' : `?${parameters.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&')}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
