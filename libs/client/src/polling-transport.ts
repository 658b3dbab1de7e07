import type { NotificationPage } from '@app/notifications/client-events';
import { Backoff } from './backoff';
import { readTopicPage, TopicRefusal, type TopicPage } from './topic-reads';
import { getJsonAuthorized, isInboxPayload, isNotification, sleep, type TopicCursor, type Transport, type TransportContext } from './transport';

/** The largest page the contract allows. */
export const POLL_PAGE_SIZE = 200;

export interface PollingOptions {
  /** Pause between polls that found nothing more to read. */
  readonly intervalMs: number;
}

/** Thrown for an answer that is not a page: it counts as a failure and is retried with backoff. */
class PollError extends Error {}

/**
 * The fallback channel: `GET /api/notifications?after=<last id>` and `GET
 * /api/topics/:topic/events?after=<last id>` for each topic the client follows,
 * page after page while pages come back full, then `GET
 * /api/notifications/unread` (the read state), then again every `intervalMs`. Failures back off
 * exponentially with jitter (fetch has no retry of its own); a 401 fetches a
 * fresh token first.
 */
export class PollingTransport implements Transport {
  private generation = 0;
  private pause: { cancel(): void } | null = null;
  private abort: AbortController | null = null;
  private readonly backoff: Backoff;

  constructor(
    private readonly context: TransportContext,
    private readonly options: PollingOptions,
  ) {
    this.backoff = new Backoff({ initialMs: 1_000, maxMs: 30_000, random: context.random });
  }

  get running(): boolean {
    return this.abort !== null;
  }

  start(): void {
    if (this.running) return;
    this.abort = new AbortController();
    void this.loop(++this.generation, this.abort.signal);
  }

  stop(): void {
    this.generation++;
    this.abort?.abort();
    this.abort = null;
    this.pause?.cancel();
    this.pause = null;
  }

  private async loop(generation: number, signal: AbortSignal): Promise<void> {
    const current = () => generation === this.generation;
    this.context.connecting();
    let healthy = false;
    while (current()) {
      let wait: number;
      try {
        const page = await this.poll(signal);
        if (!current()) return;
        if (!healthy) {
          healthy = true;
          this.backoff.reset();
          this.context.open();
        }
        // An unknown cursor lists nothing and says where to poll on from; a trimmed one lists what is left.
        if (page.reset) this.context.reset(page.reset.reason === 'unknown-cursor' ? page.lastId : null, page.after);
        for (const item of page.items) this.context.deliver(item);
        let more = page.items.length === POLL_PAGE_SIZE;
        for (const topic of this.context.topics()) {
          if (await this.pollTopic(topic, signal)) more = true;
          if (!current()) return;
        }
        if (more) continue; // more is waiting: read on at once
        // Caught up: the read state, which no page carries (a gateway without it answers 404: no state, no failure).
        const inbox = await getJsonAuthorized(this.context, '/api/notifications/unread', signal);
        if (!current()) return;
        if (inbox.status === 200 && isInboxPayload(inbox.body)) this.context.inbox(inbox.body);
        wait = this.options.intervalMs;
      } catch (error) {
        if (!current()) return;
        healthy = false;
        this.context.lost(error instanceof Error ? error.message : String(error));
        wait = this.backoff.next();
      }
      const pause = sleep(wait);
      this.pause = pause;
      await pause.done;
    }
  }

  private async poll(signal: AbortSignal): Promise<NotificationPage & { after: string | null }> {
    const query = new URLSearchParams({ limit: String(POLL_PAGE_SIZE) });
    const after = this.context.lastEventId();
    if (after !== null) query.set('after', after);
    const answer = await getJsonAuthorized(this.context, `/api/notifications?${query}`, signal);
    const body = answer.body as Partial<NotificationPage> | null;
    if (answer.status !== 200 || !body || !Array.isArray(body.items)) throw new PollError(`HTTP ${answer.status}`);
    return { items: body.items.filter(isNotification), lastId: body.lastId ?? null, reset: body.reset, after };
  }

  /** `GET /api/topics/:topic/events` after the client's position in it; true when the page was full. */
  private async pollTopic({ topic, lastEventId: after }: TopicCursor, signal: AbortSignal): Promise<boolean> {
    let page: TopicPage;
    try {
      page = await readTopicPage(this.context, topic, after, POLL_PAGE_SIZE, signal);
    } catch (error) {
      // A refused topic is reported and dropped; any other failure backs the whole loop off.
      if (!(error instanceof TopicRefusal)) throw error;
      this.context.topicRefused(topic, error.reason);
      return false;
    }
    if (page.reset?.reason === 'unknown-cursor' && page.lastId !== null) this.context.topicResumesAfter(topic, page.lastId, after);
    for (const event of page.items) this.context.deliverTopicEvent(event);
    return page.items.length === POLL_PAGE_SIZE;
  }
}

/**
 * The id of the newest retained notification ("0" for an empty history): the start
 * position of a client that wants what happens from now on. Reading it once up
 * front, instead of letting push channels start "live", means even the first
 * reconnect resumes without a gap. It pages through the retained history
 * (HISTORY_MAX_PER_USER, 1000 by default), at most that many small requests.
 */
export async function readHistoryHead(context: TransportContext, signal?: AbortSignal): Promise<string> {
  let after: string | null = null;
  for (;;) {
    const query = new URLSearchParams({ limit: String(POLL_PAGE_SIZE) });
    if (after !== null) query.set('after', after);
    const answer = await getJsonAuthorized(context, `/api/notifications?${query}`, signal);
    const body = answer.body as Partial<NotificationPage> | null;
    if (answer.status !== 200 || !body || !Array.isArray(body.items)) throw new PollError(`HTTP ${answer.status}`);
    if (typeof body.lastId === 'string') after = body.lastId;
    if (body.items.length < POLL_PAGE_SIZE) return after ?? '0';
  }
}
