import { Injectable } from '@nestjs/common';
import { CHANNELS, type DeliveryStats, MAX_TOPICS_PER_CONNECTION, NotificationFeed, RealtimeMetrics, RedisKeys } from '@app/notifications';
import { cursorFromField } from '../admission/resume-cursor';
import { TopicAccess } from '../topics/topic-access';
import { type AckOf, type RealtimeSocket, TopicRequest, TopicSubscribeRequest, validatePayload } from './realtime.dto';
import { SocketFeedSink } from './socket-feed.sink';
import type { SocketSession } from './socket-session';

/** `topic:subscribe` and `topic:unsubscribe`: a socket follows topics beside its user's own feed, each a feed of its own. */
@Injectable()
export class SocketTopics {
  private readonly stats: DeliveryStats;

  constructor(
    private readonly feed: NotificationFeed,
    private readonly keys: RedisKeys,
    private readonly access: TopicAccess,
    metrics: RealtimeMetrics,
  ) {
    this.stats = metrics.channel(CHANNELS.socketio);
  }

  /** Replays the topic after the client's cursor, then live; a second subscribe of the same topic starts it again from its own cursor. */
  async subscribe(socket: RealtimeSocket, session: SocketSession, payload: unknown): Promise<AckOf<'topic:subscribe'>> {
    const request = validatePayload(TopicSubscribeRequest, payload);
    if (!request.ok) return request.ack;
    const { topic } = request.value;
    let after: string | null;
    try {
      after = cursorFromField(request.value.lastEventId, 'lastEventId');
    } catch {
      return { ok: false, error: 'bad_cursor', field: 'lastEventId' };
    }
    if (!this.access.mayFollow(session.user, topic)) return { ok: false, error: 'forbidden' };
    if (!session.follows(topic) && session.followedTopics.length >= MAX_TOPICS_PER_CONNECTION) return { ok: false, error: 'too_many_topics' };
    const sink = new SocketFeedSink(socket, this.stats, topic);
    session.followTopic(topic, await this.feed.open(this.keys.topicFeed(topic), { after }, sink));
    // What the feed gave so far waits for the ack, which Nest sends once the handler's promise settles: the
    // client learns where the topic starts before its first event, so a replayed event never precedes it.
    setImmediate(() => sink.connected());
    return { ok: true, lastEventId: sink.startedAfter };
  }

  unsubscribe(session: SocketSession, payload: unknown): AckOf<'topic:unsubscribe'> {
    const request = validatePayload(TopicRequest, payload);
    if (!request.ok) return request.ack;
    session.unfollowTopic(request.value.topic);
    return { ok: true };
  }

  /** After `auth:refresh`: stops the topics the new token no longer grants, and names them. */
  regranted(session: SocketSession): string[] {
    const unsubscribed = session.followedTopics.filter((topic) => !this.access.mayFollow(session.user, topic));
    for (const topic of unsubscribed) session.unfollowTopic(topic);
    return unsubscribed;
  }
}
