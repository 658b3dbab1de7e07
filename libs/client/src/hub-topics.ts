import { Backoff } from './backoff';
import { topicKey } from './topic-cursor';
import { readTopicStart, TopicRefusal } from './topic-reads';
import { MAX_TOPICS, type TopicError, type TopicPositions, type TopicState, type TopicsStatus } from './topics';
import { sleep, type TopicCursor, type TransportContext } from './transport';

export interface HubTopicsOptions {
  /** For the admission reads: the base URL, tokens and fetch of the hub. */
  readonly context: TransportContext;
  readonly positions: TopicPositions;
  readonly random: () => number;
  /** The list of live topics changed: the channels carry the new one. */
  readonly changed: () => void;
  /** Some topic's status changed. */
  readonly statusChanged: () => void;
  /** A topic was refused: it is no longer carried, and not asked for again until followed anew. */
  readonly refused: (topic: string, error: TopicError) => void;
}

interface FollowedTopic {
  readonly topic: string;
  key: string | null;
  state: TopicState;
  error: string | null;
  /** Aborts the admission in progress (unfollowed, refused, the hub stopped). */
  readonly abort: AbortController;
  /** Settles once the admission's first read has answered, whatever it said. */
  readonly firstAttempt: Promise<void>;
}

/**
 * The topics a hub follows. A topic is admitted before any channel carries it:
 * one read of `GET /api/topics/:topic/events` checks that the user may follow it
 * (one forbidden topic would make the gateway refuse a whole SSE stream) and
 * says where it starts; then it is live and every enabled channel carries it.
 * A refusal (here, or from a channel: a socket's ack, a poll's 403) is final
 * for that follow: the topic is no longer carried and is reported, and it is
 * not asked for again by itself.
 */
export class HubTopics {
  private readonly followed = new Map<string, FollowedTopic>();

  constructor(private readonly options: HubTopicsOptions) {}

  /**
   * Follows a topic, from the client's position in it or else `from` (null:
   * from now on). A refused topic stays refused (and in the status) until it is
   * unfollowed, or followed with `retryRefused` (a new subscription asks again).
   */
  follow(topic: string, from: string | null, retryRefused = false): void {
    const existing = this.followed.get(topic);
    if (existing && (existing.state !== 'refused' || !retryRefused)) return;
    let settle: () => void = () => undefined;
    const entry: FollowedTopic = {
      topic,
      key: null,
      state: 'starting',
      error: null,
      abort: new AbortController(),
      firstAttempt: new Promise((resolve) => (settle = resolve)),
    };
    this.followed.set(topic, entry);
    if (this.count() > MAX_TOPICS) {
      settle();
      this.refuse(topic, 'too_many_topics');
      return;
    }
    this.options.statusChanged();
    void this.admit(entry, this.options.positions.lastId(topic) ?? from, settle);
  }

  unfollow(topic: string): void {
    const entry = this.followed.get(topic);
    if (!entry) return;
    entry.abort.abort();
    this.followed.delete(topic);
    this.options.positions.delete(topic);
    if (entry.state === 'live') this.options.changed();
    this.options.statusChanged();
  }

  refuse(topic: string, error: TopicError): void {
    const entry = this.followed.get(topic);
    if (!entry || entry.state === 'refused') return;
    const wasLive = entry.state === 'live';
    entry.abort.abort();
    Object.assign(entry, { state: 'refused', error });
    this.options.positions.delete(topic);
    if (wasLive) this.options.changed();
    this.options.statusChanged();
    this.options.refused(topic, error);
  }

  /** Checks every live topic again; those the user may no longer follow are refused. */
  recheck(): void {
    for (const entry of this.followed.values()) {
      if (entry.state !== 'live') continue;
      readTopicStart(this.options.context, entry.topic, this.options.positions.lastId(entry.topic), entry.abort.signal).catch((error: unknown) => {
        if (error instanceof TopicRefusal && this.followed.get(entry.topic) === entry) this.refuse(entry.topic, error.reason);
      });
    }
  }

  isLive(topic: string): boolean {
    return this.followed.get(topic)?.state === 'live';
  }

  /** What the channels carry: the live topics, in the order they were followed. */
  live(): TopicCursor[] {
    const live: TopicCursor[] = [];
    for (const { topic, key, state } of this.followed.values()) {
      if (state === 'live') live.push({ topic, key, lastEventId: this.options.positions.lastId(topic) });
    }
    return live;
  }

  /** Settles once every topic followed so far has had its first admission read answered. */
  firstAttempts(): Promise<void> {
    return Promise.all([...this.followed.values()].map((entry) => entry.firstAttempt)).then(() => undefined);
  }

  get status(): TopicsStatus {
    const status: TopicsStatus = {};
    for (const { topic, state, error } of this.followed.values()) status[topic] = { state, error, lastEventId: this.options.positions.lastId(topic) };
    return status;
  }

  stop(): void {
    for (const entry of this.followed.values()) entry.abort.abort();
  }

  /** Topics that count against the cap: all but the refused. */
  private count(): number {
    let count = 0;
    for (const entry of this.followed.values()) if (entry.state !== 'refused') count++;
    return count;
  }

  private async admit(entry: FollowedTopic, from: string | null, settle: () => void): Promise<void> {
    const { signal } = entry.abort;
    const backoff = new Backoff({ initialMs: 1_000, maxMs: 30_000, random: this.options.random });
    const key = topicKey(entry.topic);
    while (!signal.aborted) {
      try {
        const start = await readTopicStart(this.options.context, entry.topic, from, signal);
        entry.key = await key;
        if (signal.aborted) return;
        // Nothing of the topic was delivered yet: this is where the client stands.
        this.options.positions.of(entry.topic).restart(start, from);
        Object.assign(entry, { state: 'live', error: null });
        this.options.changed();
        this.options.statusChanged();
        return;
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof TopicRefusal) {
          this.refuse(entry.topic, error.reason);
          return;
        }
        entry.error = `starting the topic: ${error instanceof Error ? error.message : String(error)}`;
        this.options.statusChanged();
      } finally {
        settle();
      }
      const pause = sleep(backoff.next());
      signal.addEventListener('abort', pause.cancel, { once: true });
      await pause.done;
    }
  }
}
