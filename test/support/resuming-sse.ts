import { openSse, type RawSseStream, type SseEvent } from './sse-client';

export interface ResumingSse {
  /** Every event with data received (but the `inbox` state), over all connections, in arrival order. */
  readonly events: SseEvent[];
  /** Statuses of the attempts that were refused (e.g. 503 while Redis is away). */
  readonly refusals: number[];
  /** How many times it connected (1 + reconnects). */
  readonly connections: number;
  close(): void;
}

/**
 * What a well-behaved app does around EventSource: it reconnects whenever the
 * stream ends or is refused (EventSource itself gives up on a non-200), waiting
 * `retryMs` in between, and resumes with the last id it saw in `Last-Event-ID`,
 * the opening block's included. `from` is the id to resume after on the very
 * first connection (e.g. "0" for everything retained).
 */
export function resumingSse(baseUrl: string, headers: Record<string, string>, options: { retryMs?: number; from?: string } = {}): ResumingSse {
  const retryMs = options.retryMs ?? 200;
  const events: SseEvent[] = [];
  const refusals: number[] = [];
  let connections = 0;
  let closed = false;
  let current: RawSseStream | null = null;
  let lastId: string | undefined = options.from;
  const pause = () => new Promise((resolve) => setTimeout(resolve, retryMs));

  const run = async () => {
    while (!closed) {
      let stream: RawSseStream;
      try {
        stream = await openSse(baseUrl, '/api/events', { ...headers, ...(lastId !== undefined ? { 'Last-Event-ID': lastId } : {}) });
      } catch {
        await pause(); // connection refused or reset: the gateway is restarting
        continue;
      }
      current = stream;
      if (stream.status !== 200) {
        refusals.push(stream.status);
        stream.close();
        await pause();
        continue;
      }
      connections++;
      let seen = 0;
      for (;;) {
        for (; seen < stream.blocks.length; seen++) {
          const block = stream.blocks[seen];
          if (block.id !== undefined) lastId = block.id;
          if (block.data !== undefined && block.event !== 'inbox') events.push(block);
        }
        if (stream.ended || closed) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (!closed) await pause();
    }
  };
  void run();

  return {
    events,
    refusals,
    get connections() {
      return connections;
    },
    close: () => {
      closed = true;
      current?.close();
    },
  };
}
