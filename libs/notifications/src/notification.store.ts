import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from './config';
import type { FeedStream } from './feed-stream';
import { type InboxState, inboxStateOf } from './inbox/inbox-state';
import { NotificationEnvelope } from './notification-envelope';
import { APPEND_SCRIPT, HISTORY_TTL_MS, IDEMPOTENCY_TTL_SECONDS, POSITION_SCRIPT, READ_SCRIPT, TOPIC_HISTORY_TTL_MS } from './notification.scripts';
import { bucketArgs, type RateBucket } from './rate-limit/rate-limiter';
import { RedisConnections } from './redis/redis-connections';
import { RedisKeys } from './redis/redis-keys';
import { ReplicaAcks } from './redis/replica-acks';
import { RedisUnavailableError } from './redis/redis-unavailable';
import type { CursorCheck } from './resume-point';

export interface AppendResult {
  id: string;
  /** True when the idempotency key had been seen: nothing new was stored. */
  duplicate: boolean;
}

export interface StreamPosition extends CursorCheck {
  /** The newest id in the history ("0-0" for a user with no history). */
  readonly lastId: string;
  /** The newest id trimmed from the history ("0-0" if none was). */
  readonly maxTrimmedId: string;
  /** Whether the history holds the cursor asked about (false when none was). */
  readonly cursorExists: boolean;
}

/** Where a stream stands as a feed opens on it: for a user, with their read state as of the same read. */
export interface OpeningPosition extends StreamPosition {
  readonly inbox: InboxState | null;
}

/** A page of history with the stream's position as of the same read. */
export interface HistoryPage extends StreamPosition {
  /** Retained notifications after the cursor, oldest first. */
  readonly items: NotificationEnvelope[];
  /** With `withReadState`, whether each item is read (a user's only). */
  readonly read: boolean[] | null;
}

type PositionReply = [string, string, ...(number | string)[]];

/** How long position reads wait for others to share their round trip: what a stream's open waits at most for it. */
const POSITION_BATCH_MS = 1;
type StreamEntry = [string, string[]];

type ScriptedRedis = RedisConnections['command'] & {
  rtgAppend(numKeys: number, ...args: (string | number)[]): Promise<[string, number]>;
  rtgPosition(numKeys: number, ...args: string[]): Promise<PositionReply>;
  rtgRead(numKeys: number, ...args: (string | number)[]): Promise<[string, string, number, StreamEntry[], number[]]>;
};

type PositionPipeline = ReturnType<RedisConnections['command']['pipeline']> & {
  rtgPosition(numKeys: number, ...args: string[]): PositionPipeline;
};

/** One entry to append: its type and stored body, and the idempotency key that makes a retry store nothing. */
export interface StreamEntryInput {
  readonly type: string;
  readonly body: string;
  readonly idempotencyKey?: string;
}

interface PositionRequest {
  readonly stream: FeedStream;
  readonly cursor: string | null;
  readonly resolve: (position: OpeningPosition) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The history of every stream in Redis Streams: each user's notifications,
 * bounded to HISTORY_MAX_PER_USER entries, and each topic's events, bounded to
 * TOPIC_HISTORY_MAX. Ids are Redis stream ids, so they strictly increase per
 * stream.
 */
@Injectable()
export class NotificationStore implements OnModuleInit, OnApplicationShutdown {
  private readonly redis: ScriptedRedis;
  /** Where appends go: the command connection, or with REDIS_REPLICA_ACKS one of their own, since WAIT blocks its connection. */
  private writer: ScriptedRedis;
  private replicaAcks: ReplicaAcks | null = null;
  private pendingPositions: PositionRequest[] = [];

  constructor(
    private readonly connections: RedisConnections,
    private readonly keys: RedisKeys,
    @Inject(NOTIFICATIONS_CONFIG) private readonly config: NotificationsConfig,
  ) {
    this.redis = connections.command as ScriptedRedis;
    this.writer = this.redis;
  }

  onModuleInit(): void {
    this.redis.defineCommand('rtgAppend', { lua: APPEND_SCRIPT });
    this.redis.defineCommand('rtgPosition', { lua: POSITION_SCRIPT });
    this.redis.defineCommand('rtgRead', { lua: READ_SCRIPT });
    if (this.config.redisReplicaAcks > 0) {
      this.writer = this.connections.create('writer', {}) as ScriptedRedis;
      this.writer.defineCommand('rtgAppend', { lua: APPEND_SCRIPT });
      this.replicaAcks = new ReplicaAcks(this.writer, this.config.redisReplicaAcks);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.writer === this.redis) return;
    if (this.writer.status === 'ready') await this.writer.quit().catch(() => undefined);
    this.writer.disconnect();
  }

  /**
   * Stores and fans out one validated entry of a stream (with
   * REDIS_REPLICA_ACKS, answering only once that many replicas hold it), if
   * every bucket (keys in the stream's hash slot) has room for it, taking from
   * each; null, with nothing stored or sent, when one has not (never without
   * buckets). `body` is the entry's JSON without its opening "{" and its id
   * (see NotificationEnvelope.fromStored).
   */
  async append(stream: FeedStream, entry: StreamEntryInput, buckets: readonly RateBucket[] = []): Promise<AppendResult | null> {
    const keys = [stream.history, stream.trimmed];
    if (entry.idempotencyKey) keys.push(this.keys.streamIdempotency(stream, entry.idempotencyKey));
    const idempotent = keys.length - 2;
    if (stream.inbox) keys.push(stream.inbox.unread, stream.inbox.state);
    for (const bucket of buckets) keys.push(bucket.key);
    const user = stream.kind === 'user';
    // The writer of REDIS_REPLICA_ACKS is not the connection RedisConnections checks: fail as fast.
    if (this.writer.status !== 'ready') throw new RedisUnavailableError(`redis is not connected (writer ${this.writer.status})`);
    const [id, outcome] = await this.writer.rtgAppend(
      keys.length,
      ...keys,
      user ? this.config.historyMaxPerUser : this.config.topicHistoryMax,
      entry.type,
      entry.body,
      stream.channel,
      IDEMPOTENCY_TTL_SECONDS,
      user ? HISTORY_TTL_MS : TOPIC_HISTORY_TTL_MS,
      idempotent,
      stream.inbox ? 1 : 0,
      ...bucketArgs(buckets),
    );
    if (outcome === 2) return null;
    // A duplicate waits too: its first answer may have been a 503 from this very wait.
    if (this.replicaAcks !== null) await this.replicaAcks.held(keys[0]);
    return { id, duplicate: outcome === 1 };
  }

  /**
   * Up to `count` retained entries after `afterId` (exclusive; null = the
   * oldest retained), oldest first, with the stream's position as of the same
   * read; `checkCursor` also asks whether `afterId` is an entry, and
   * `withReadState` whether each of a user's notifications is read.
   */
  async read(stream: FeedStream, afterId: string | null, count: number, checkCursor = false, withReadState = false): Promise<HistoryPage> {
    const keys = [stream.history, stream.trimmed];
    if (withReadState && stream.inbox) keys.push(stream.inbox.unread);
    const [lastId, maxTrimmedId, exists, entries, read] = await this.redis.rtgRead(
      keys.length,
      ...keys,
      afterId ?? '-',
      count,
      checkCursor && afterId !== null ? '1' : '0',
    );
    const items = new Array<NotificationEnvelope>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const [id, fields] = entries[i];
      items[i] = NotificationEnvelope.fromStored(id, field(fields, 't'), stream.name, field(fields, 'n'));
    }
    return { lastId, maxTrimmedId, cursorExists: exists === 1, items, read: keys.length === 3 ? read.map((flag) => flag === 1) : null };
  }

  /**
   * Every stream and socket reads its position as it opens. The reads asked
   * for within POSITION_BATCH_MS go to Redis as one pipeline: on loopback a
   * write to Redis costs its sender the whole TCP round of the kernel, and a
   * reconnect storm asks for thousands at once. One turn of the event loop
   * held one or two opens of a storm (a read was ~180 µs of the ~840 µs of
   * CPU an open cost, profiled); a millisecond holds several, and one user's
   * opens went up by about a sixth (issue 18). A user asked for several times in one batch
   * (tabs and devices coming back together) is read once: every request was
   * made after its feed subscribed, so a read made after all of them is a
   * valid starting point for each. `cursor` asks whether the history holds it.
   * A user's read state comes with it, as of the same read.
   */
  position(stream: FeedStream, cursor: string | null = null): Promise<OpeningPosition> {
    return new Promise((resolve, reject) => {
      if (this.pendingPositions.push({ stream, cursor, resolve, reject }) === 1) setTimeout(this.readPendingPositions, POSITION_BATCH_MS);
    });
  }

  private readonly readPendingPositions = (): void => {
    // By history key: the same stream asked for by several requests is one read.
    const requestsOfStream = new Map<string, PositionRequest[]>();
    for (const request of this.pendingPositions) {
      const requests = requestsOfStream.get(request.stream.history);
      if (requests === undefined) requestsOfStream.set(request.stream.history, [request]);
      else requests.push(request);
    }
    this.pendingPositions = [];
    // An ioredis pipeline costs more to build than one script call (profiled); on a cluster
    // a pipeline must keep to one slot, so each stream is one call there.
    if (requestsOfStream.size === 1 || this.config.redis.kind === 'cluster') {
      for (const requests of requestsOfStream.values()) {
        const { stream } = requests[0];
        const cursors = cursorsOf(requests);
        this.redis.rtgPosition(...positionArgs(stream, cursors)).then(
          (reply) => answer(requests, cursors, null, reply),
          (error: unknown) => answer(requests, cursors, error, null),
        );
      }
      return;
    }
    const pipeline = this.redis.pipeline() as PositionPipeline;
    const cursorsOfStream: string[][] = [];
    for (const requests of requestsOfStream.values()) {
      const { stream } = requests[0];
      const cursors = cursorsOf(requests);
      cursorsOfStream.push(cursors);
      pipeline.rtgPosition(...positionArgs(stream, cursors));
    }
    pipeline.exec().then(
      (results) => {
        let i = 0;
        for (const requests of requestsOfStream.values()) {
          const [error, reply] = results?.[i] ?? [new Error('no reply from Redis'), null];
          answer(requests, cursorsOfStream[i++], error, reply as PositionReply | null);
        }
      },
      (error: unknown) => {
        let i = 0;
        for (const requests of requestsOfStream.values()) answer(requests, cursorsOfStream[i++], error, null);
      },
    );
  };
}

function positionArgs(stream: FeedStream, cursors: string[]): [number, ...string[]] {
  if (!stream.inbox) return [2, stream.history, stream.trimmed, ...cursors];
  return [4, stream.history, stream.trimmed, stream.inbox.unread, stream.inbox.state, ...cursors];
}

/** The distinct cursors a batch of one stream's requests asks about. */
function cursorsOf(requests: PositionRequest[]): string[] {
  if (requests.length === 1) return requests[0].cursor === null ? [] : [requests[0].cursor];
  const cursors = new Set<string>();
  for (const request of requests) if (request.cursor !== null) cursors.add(request.cursor);
  return [...cursors];
}

function answer(requests: PositionRequest[], cursors: string[], error: unknown, reply: PositionReply | null): void {
  for (const request of requests) {
    if (error || reply === null) {
      request.reject(error ?? new Error('no reply from Redis'));
      continue;
    }
    const cursorExists = request.cursor !== null && reply[2 + cursors.indexOf(request.cursor)] === 1;
    const inbox = request.stream.inbox ? inboxStateOf(reply[2 + cursors.length], reply[3 + cursors.length] as string, reply[4 + cursors.length]) : null;
    request.resolve({ lastId: reply[0], maxTrimmedId: reply[1], cursorExists, inbox });
  }
}

function field(fields: string[], name: string): string {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  throw new Error(`stream entry without field ${name}`);
}
