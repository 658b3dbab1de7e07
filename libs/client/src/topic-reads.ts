import type { ResetReason, TopicEvent } from '@app/notifications/client-events';
import { isTopicEvent, type TopicError } from './topics';
import { getJsonAuthorized, type TransportContext } from './transport';

/** `GET /api/topics/:topic/events`: a page of a topic's history, oldest first. */
export interface TopicPage {
  readonly items: TopicEvent[];
  readonly lastId: string | null;
  /** Present when `after` did not continue: trimmed past, or not a position of the topic. */
  readonly reset?: { reason: ResetReason };
}

/** The gateway will not serve this topic to this user: asking again does not help. */
export class TopicRefusal extends Error {
  constructor(
    readonly topic: string,
    readonly reason: TopicError,
  ) {
    super(`topic ${topic}: ${reason}`);
  }
}

/** Any other failure (the gateway away, a 5xx, an answer that is not a page): retried with backoff. */
export class TopicReadError extends Error {}

/**
 * A cursor ahead of every id the gateway can hold. The contract answers one
 * with no items and `lastId` = the topic's newest position (a reset
 * `unknown-cursor`): one small request says where "from now on" starts,
 * however long the topic's history.
 */
const AHEAD_OF_EVERY_ID = '18446744073709551615-18446744073709551615';

/** Reads a page of a topic after `after` (null: its oldest retained events). */
export async function readTopicPage(context: TransportContext, topic: string, after: string | null, limit: number, signal?: AbortSignal): Promise<TopicPage> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (after !== null) query.set('after', after);
  const answer = await getJsonAuthorized(context, `/api/topics/${encodeURIComponent(topic)}/events?${query}`, signal);
  if (answer.status === 403) throw new TopicRefusal(topic, 'forbidden');
  // The client checks the name and the cursor before it asks: a 400 is not something a retry fixes.
  if (answer.status === 400) throw new TopicRefusal(topic, (answer.body as { field?: unknown } | null)?.field === 'after' ? 'bad_cursor' : 'invalid_topic');
  const body = answer.body as Partial<TopicPage> | null;
  if (answer.status !== 200 || !body || !Array.isArray(body.items)) throw new TopicReadError(`HTTP ${answer.status}`);
  return { items: body.items.filter(isTopicEvent), lastId: body.lastId ?? null, reset: body.reset };
}

/**
 * Admits a topic before any channel carries it: checks that the user may follow
 * it (one forbidden topic makes the gateway refuse a whole SSE stream, and a
 * browser's EventSource does not say why), and says where the client starts:
 * after `from` when that is a position of the topic, else after its newest
 * event. The client takes the answer as a `reset` from `from` (even backwards,
 * when `from` was not the topic's).
 */
export async function readTopicStart(context: TransportContext, topic: string, from: string | null, signal?: AbortSignal): Promise<string> {
  const page = await readTopicPage(context, topic, from ?? AHEAD_OF_EVERY_ID, 1, signal);
  if (from !== null && page.reset?.reason !== 'unknown-cursor') return from;
  if (page.lastId === null) throw new TopicReadError('the answer has no lastId');
  return page.lastId;
}
