import { Inject, Injectable } from '@nestjs/common';
import { ForbiddenError, InvalidInputError, MAX_TOPICS_PER_CONNECTION, TOPIC_NAME_PATTERN, topicGranted } from '@app/notifications';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import type { AuthenticatedUser } from '../auth/authenticated-user';

/**
 * Who may follow a topic: a user whose token's `topics` claim names it (or a
 * prefix of it), or any signed-in user when PUBLIC_TOPICS does. Every channel
 * asks here before it sends anything of a topic.
 */
@Injectable()
export class TopicAccess {
  private readonly publicTopics: readonly string[];

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.publicTopics = config.publicTopics;
  }

  mayFollow(user: AuthenticatedUser, topic: string): boolean {
    return topicGranted(this.publicTopics, topic) || topicGranted(user.topics, topic);
  }

  /** Throws ForbiddenError (403, ack `forbidden`) naming the first topic the user may not follow. */
  assertMayFollow(user: AuthenticatedUser, topics: Iterable<string>): void {
    for (const topic of topics) {
      if (!this.mayFollow(user, topic)) throw new ForbiddenError(`not allowed to follow topic ${topic}`);
    }
  }
}

/**
 * `?topics=a,b`: 1 to MAX_TOPICS_PER_CONNECTION topic names, repeats counted
 * once, in the order given; an empty list when absent. A bad name is a 400
 * naming `topics`.
 */
export function parseTopicList(raw: string | undefined): readonly string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const topics = [...new Set(raw.split(',').map((topic) => topic.trim()))];
  if (topics.length > MAX_TOPICS_PER_CONNECTION) {
    throw new InvalidInputError('topics', `topics must name at most ${MAX_TOPICS_PER_CONNECTION} topics`);
  }
  for (const topic of topics) {
    if (!TOPIC_NAME_PATTERN.test(topic)) {
      throw new InvalidInputError('topics', `topics must be a comma-separated list of topic names matching ${TOPIC_NAME_PATTERN.source}`);
    }
  }
  return topics;
}
