import http from 'node:http';

/**
 * Incremental parser of an SSE stream: enough of the WHATWG rules for what
 * servers send (`event:`, `data:` over one or more lines, `id:`, `retry:`,
 * comments), and cheap. Lines end in LF, CRLF or CR is not expected from any
 * system here; a trailing CR is dropped anyway.
 */
export class SseParser {
  private rest = '';
  private event = '';
  private data: string | null = null;
  private idBuffer: string | null = null;
  /** The last event ID as EventSource keeps it: set by `id:` at the end of a block, with data or without. */
  lastEventId = '';
  /** The last `retry:` the server sent, in ms (null before any). */
  retryMs: number | null = null;

  constructor(private readonly onEvent: (event: string, data: string, lastEventId: string) => void) {}

  feed(chunk: string): void {
    const text = this.rest === '' ? chunk : this.rest + chunk;
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end < 0) break;
      this.line(text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end));
      start = end + 1;
    }
    this.rest = start === text.length ? '' : text.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.idBuffer !== null) this.lastEventId = this.idBuffer;
      this.idBuffer = null;
      if (this.data !== null) this.onEvent(this.event || 'message', this.data, this.lastEventId);
      this.event = '';
      this.data = null;
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    if (field === 'data') this.data = this.data === null ? value : `${this.data}\n${value}`;
    else if (field === 'event') this.event = value;
    else if (field === 'id') this.idBuffer = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }
}

export interface SseStreamHandlers {
  /** Response headers arrived with status 200: the server has accepted the stream. */
  onOpen(): void;
  onEvent(event: string, data: string, lastEventId: string): void;
  /** The stream ended or failed; `error` set when it never opened or broke. */
  onClose(error: Error | null): void;
}

export interface SseStream {
  close(): void;
  /** The last `retry:` the server sent, in ms (null before any). */
  readonly retryMs: number | null;
  /** Where the stream stands, as EventSource would send it back in `Last-Event-ID` ('' before any `id:`). */
  readonly lastEventId: string;
}

/**
 * One SSE stream over raw `http.request`, on a connection of its own (no
 * agent). Thousands of these must fit in one load-client process, so no
 * EventSource machinery and no reconnection: a dropped stream is reported.
 */
export function openSseStream(port: number, path: string, handlers: SseStreamHandlers, headers: Record<string, string> = {}): SseStream {
  let closed = false;
  const finish = (error: Error | null) => {
    if (closed) return;
    closed = true;
    handlers.onClose(error);
  };
  const parser = new SseParser(handlers.onEvent);
  const request = http.request({ host: '127.0.0.1', port, path, agent: false, headers: { Accept: 'text/event-stream', ...headers } });
  request.on('socket', (socket) => socket.setNoDelay(true));
  request.on('response', (response) => {
    if (response.statusCode !== 200) {
      response.resume();
      finish(new Error(`HTTP ${response.statusCode}`));
      request.destroy();
      return;
    }
    // Every payload in this benchmark is ASCII, where latin1 decoding is exact and
    // needs no state across chunks (unlike utf8's StringDecoder).
    response.setEncoding('latin1');
    response.on('data', (chunk: string) => parser.feed(chunk));
    response.on('close', () => finish(new Error('stream ended by the server')));
    handlers.onOpen();
  });
  request.on('error', (error) => finish(error));
  request.end();
  return {
    close() {
      if (closed) return;
      closed = true;
      request.destroy();
    },
    get retryMs() {
      return parser.retryMs;
    },
    get lastEventId() {
      return parser.lastEventId;
    },
  };
}
