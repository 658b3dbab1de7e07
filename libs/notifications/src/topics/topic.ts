import { InvalidInputError } from '../errors';
import { assertEntryFields, assertJsonObjectBody } from '../notification';

/** A topic's name: `jobs.new`, `scores.match-42`. No brace, so it can be its own cluster hash tag. */
export const TOPIC_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;
/** One entry of a `topics` claim or of PUBLIC_TOPICS: a topic name, or a prefix of one ending in `*` (`*` alone: every topic). */
export const TOPIC_GRANT_PATTERN = /^(?:[a-z0-9][a-z0-9._-]{0,127}|(?:[a-z0-9][a-z0-9._-]{0,126})?\*)$/;
/** Topics one connection (an SSE stream, a socket) may follow at once. */
export const MAX_TOPICS_PER_CONNECTION = 20;

/** An event of a topic: the notification's shape with `topic` in place of `userId`. */
export interface TopicEvent<TData extends object = Record<string, unknown>> {
  id: string;
  topic: string;
  type: string;
  data: TData;
  createdAt: string;
}

/** What a publisher hands to {@link TopicService.publish}, besides the topic. */
export interface TopicEventInput {
  type: string;
  data: Record<string, unknown>;
  idempotencyKey?: string;
}

export function isTopicName(value: unknown): value is string {
  return typeof value === 'string' && TOPIC_NAME_PATTERN.test(value);
}

/** Whether a grant list (a `topics` claim, PUBLIC_TOPICS) names the topic or a prefix of it. */
export function topicGranted(grants: readonly string[], topic: string): boolean {
  return grants.some((grant) => (grant.endsWith('*') ? topic.startsWith(grant.slice(0, -1)) : grant === topic));
}

/** Checks a topic and an event for it; returns the input narrowed, or throws {@link InvalidInputError} naming the field. */
export function assertTopicEventInput(topic: unknown, input: unknown): TopicEventInput {
  if (!isTopicName(topic)) throw new InvalidInputError('topic', `topic must match ${TOPIC_NAME_PATTERN.source}`);
  return assertEntryFields(assertJsonObjectBody(input));
}
