import type { TopicEvent } from '@app/notifications/client-events';
import { ResumePosition } from './event-ids';

/*
 * Topics on the client side: names, the shape of an event, and where the client
 * stands in each topic. The server's constants live in libs/notifications next
 * to server code, so the client keeps its own copies of these few, spelled as
 * the contract spells them.
 */

/** A topic's name: `jobs.new`, `scores.match-42`. */
export const TOPIC_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;
/** Topics one connection may carry; the client follows at most this many at once. */
export const MAX_TOPICS = 20;
/** Event types of the system's own topics: listened for on SSE from the start (`job-posted` on `jobs.new`). */
export const KNOWN_TOPIC_TYPES = ['job-posted'] as const;

/**
 * Why a topic is not followed: `forbidden` (neither the token's `topics` claim
 * nor PUBLIC_TOPICS grants it, or a refreshed token no longer does),
 * `too_many_topics` (more than 20 at once), or another refusal of the gateway
 * (`invalid_topic`, `bad_cursor`, `invalid_payload`).
 */
export type TopicError = 'forbidden' | 'too_many_topics' | (string & {});

/** `starting`: checking access and reading where it stands. `live`: carried by the channels. `refused`: see `error`. */
export type TopicState = 'starting' | 'live' | 'refused';

export interface TopicStatus {
  state: TopicState;
  /** The id of the last event delivered (or where the topic started), to resume after. */
  lastEventId: string | null;
  /** Why it is refused, or why starting it failed for now (retried with backoff). */
  error: string | null;
}

export type TopicsStatus = Record<string, TopicStatus>;

/** True for a payload that has the topic event shape. */
export function isTopicEvent(value: unknown): value is TopicEvent {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.id === 'string' &&
    typeof candidate.topic === 'string' &&
    typeof candidate.type === 'string' &&
    typeof candidate.createdAt === 'string' &&
    typeof candidate.data === 'object' &&
    candidate.data !== null
  );
}

/**
 * Where the client stands in each topic it follows: the id of the last event
 * delivered, one {@link ResumePosition} per topic, so that each topic is
 * delivered once and in order whichever channel (or tab) has an event first.
 * Ids of two topics are never compared: each topic has ids of its own.
 */
export class TopicPositions {
  private readonly positions = new Map<string, ResumePosition>();

  get(topic: string): ResumePosition | undefined {
    return this.positions.get(topic);
  }

  /** The topic's position, created (at `initial`, or nowhere yet) if the client had none. */
  of(topic: string, initial: string | null = null): ResumePosition {
    let position = this.positions.get(topic);
    if (!position) this.positions.set(topic, (position = new ResumePosition(initial)));
    return position;
  }

  lastId(topic: string): string | null {
    return this.positions.get(topic)?.lastId ?? null;
  }

  delete(topic: string): void {
    this.positions.delete(topic);
  }

  /** Keeps only these topics (a follower tab mirrors the leader's). */
  retain(topics: Iterable<string>): void {
    const kept = new Set(topics);
    for (const topic of this.positions.keys()) if (!kept.has(topic)) this.positions.delete(topic);
  }
}
