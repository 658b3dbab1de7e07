import http, { type IncomingHttpHeaders } from 'node:http';
import { waitFor } from './wait-for';

export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comments: string[];
}

export interface RawSseStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** Every byte received, as text. */
  readonly raw: string;
  /** Blocks (events, comment-only blocks, retry/id blocks) in arrival order. */
  readonly blocks: SseEvent[];
  /**
   * Blocks that carry data (what EventSource would dispatch) except `inbox`:
   * every stream carries the user's read state, which tests of delivery do not
   * look at; {@link inboxEvents} has it.
   */
  readonly events: SseEvent[];
  /** The `inbox` blocks, in arrival order. */
  readonly inboxEvents: SseEvent[];
  readonly ended: boolean;
  waitForEvents(count: number, timeoutMs?: number): Promise<SseEvent[]>;
  waitForEnd(timeoutMs?: number): Promise<void>;
  /** Stops reading (the socket stays open and its buffers fill). */
  pause(): void;
  close(): void;
}

/** Opens `GET path` with node:http and parses the stream block by block, keeping the raw bytes. */
export function openSse(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<RawSseStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${baseUrl}${path}`, { headers: { Accept: 'text/event-stream', ...headers } }, (response) => {
      let raw = '';
      let pending = '';
      let ended = false;
      const blocks: SseEvent[] = [];
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        raw += chunk;
        pending += chunk;
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          blocks.push(parseBlock(pending.slice(0, end)));
          pending = pending.slice(end + 2);
        }
      });
      const finish = () => {
        ended = true;
      };
      response.on('end', finish);
      response.on('close', finish);
      response.on('error', finish);
      const stream: RawSseStream = {
        status: response.statusCode ?? 0,
        headers: response.headers,
        get raw() {
          return raw;
        },
        blocks,
        get events() {
          return blocks.filter((block) => block.data !== undefined && block.event !== 'inbox');
        },
        get inboxEvents() {
          return blocks.filter((block) => block.event === 'inbox');
        },
        get ended() {
          return ended;
        },
        waitForEvents: (count, timeoutMs = 5_000) =>
          waitFor(() => (stream.events.length >= count ? stream.events : null), `${count} SSE event(s)`, timeoutMs),
        waitForEnd: async (timeoutMs = 5_000) => {
          await waitFor(() => ended, 'the SSE stream to end', timeoutMs);
        },
        pause: () => {
          response.pause();
        },
        close: () => {
          request.destroy();
        },
      };
      resolve(stream);
    });
    request.on('error', reject);
  });
}

function parseBlock(text: string): SseEvent {
  const block: SseEvent = { comments: [] };
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) {
      block.comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') block.data = block.data === undefined ? value : `${block.data}\n${value}`;
    else if (field === 'id' || field === 'event' || field === 'retry') block[field] = value;
  }
  return block;
}
