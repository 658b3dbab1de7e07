import { Test, type TestingModule } from '@nestjs/testing';
import Redis from 'ioredis';
import {
  compareNotificationIds,
  type FeedSink,
  FeedSubscription,
  loadNotificationsConfig,
  type NotificationEnvelope,
  NotificationFanout,
  NotificationFeed,
  NotificationsModule,
  NotificationService,
  NotificationStore,
  RedisConnections,
  RedisKeys,
  UNREADABLE_CURSOR,
} from '@app/notifications';
import { randomUserId, uniquePrefix } from './support/prefix';
import { deletePrefix, testRedisClient, testRedisUrl } from './support/redis';
import { waitFor } from './support/wait-for';

/** What a transport would see: the calls a feed makes, in order. */
class RecordingSink implements FeedSink {
  readonly calls: string[] = [];
  readonly ids: string[] = [];
  position: string | null = null;
  failed: Error | null = null;
  start(position: string) {
    this.position = position;
    this.calls.push(`start ${position}`);
  }
  reset(reason: string, position: string) {
    this.calls.push(`reset ${reason} ${position}`);
  }
  /** How many more notifications it takes before it says it is full; Infinity: never full. */
  room = Infinity;
  private resume: (() => void) | null = null;
  notification(envelope: NotificationEnvelope) {
    this.ids.push(envelope.id);
    this.calls.push(envelope.id);
    this.room--;
    return this.room > 0;
  }
  whenWritable(resume: () => void) {
    this.resume = resume;
  }
  /** The client read `count` more: like a transport's drain. */
  drain(count: number) {
    this.room = count;
    const resume = this.resume;
    this.resume = null;
    resume?.();
  }
  fail(error: Error) {
    this.failed = error;
  }
}

/*
 * These reach into the one subscriber connection (and one pipeline) of a one-server or Sentinel
 * deployment; on a cluster the subscriber is one connection per primary inside ioredis, and
 * test/failover.e2e-spec.ts proves the re-sync there by killing a primary.
 */
const onOneSubscriberConnection = process.env.REDIS_TOPOLOGY === 'cluster' ? it.skip : it;

describe('notifications library on the real Redis', () => {
  const prefix = uniquePrefix();
  let moduleRef: TestingModule;
  let service: NotificationService;
  let feed: NotificationFeed;
  let store: NotificationStore;
  let fanout: NotificationFanout;
  const feedOf = (userId: string) => new RedisKeys(prefix).userFeed(userId);

  beforeAll(async () => {
    const config = loadNotificationsConfig({ REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, HISTORY_MAX_PER_USER: '10' });
    moduleRef = await Test.createTestingModule({ imports: [NotificationsModule.forRoot(config)] }).compile();
    await moduleRef.init();
    service = moduleRef.get(NotificationService);
    feed = moduleRef.get(NotificationFeed);
    store = moduleRef.get(NotificationStore);
    fanout = moduleRef.get(NotificationFanout);
  });

  afterAll(async () => {
    await moduleRef.close();
    await deletePrefix(prefix);
  });

  const publishMany = async (userId: string, count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await service.publish({ userId, type: 'job-match', data: { i } })).id);
    return ids;
  };

  it('gives strictly increasing ids per user, also under concurrent publishers', async () => {
    const userId = randomUserId();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => service.publish({ userId, type: 'job-match', data: { i } })));
    const stored = (await store.read(feedOf(userId), null, 100)).items.map((envelope) => envelope.id);
    expect(stored).toHaveLength(10);
    for (let i = 1; i < stored.length; i++) expect(compareNotificationIds(stored[i - 1], stored[i])).toBe(-1);
    expect(new Set(results.map((result) => result.id)).size).toBe(50);
  });

  it('keeps exactly HISTORY_MAX_PER_USER notifications, the newest', async () => {
    const userId = randomUserId();
    const ids = await publishMany(userId, 25);
    const { items: retained } = await store.read(feedOf(userId), null, 100);
    expect(retained.map((envelope) => envelope.id)).toEqual(ids.slice(15));
    expect(retained[0].toNotification()).toMatchObject({ id: ids[15], userId, type: 'job-match', data: { i: 15 } });
  });

  it('replays exactly what follows an id', async () => {
    const userId = randomUserId();
    const ids = await publishMany(userId, 6);
    expect((await store.read(feedOf(userId), ids[2], 100)).items.map((envelope) => envelope.id)).toEqual(ids.slice(3));
    expect((await store.read(feedOf(userId), ids[5], 100)).items).toEqual([]);
  });

  onOneSubscriberConnection('reads positions asked for in one turn as one pipeline, each user once, and answers every request', async () => {
    const [busy, quiet] = [randomUserId(), randomUserId()];
    const ids = await publishMany(busy, 3);
    const pipeline = jest.spyOn(moduleRef.get(RedisConnections).command, 'pipeline');
    try {
      const positions = await Promise.all([store.position(feedOf(busy)), store.position(feedOf(quiet)), store.position(feedOf(busy)), store.position(feedOf(busy))]);
      expect(positions.map((position) => position.lastId)).toEqual([ids[2], '0-0', ids[2], ids[2]]);
      expect(pipeline).toHaveBeenCalledTimes(1);
      expect((pipeline.mock.results[0].value as { length: number }).length).toBe(2);
      // One user in a turn: one script call, no pipeline.
      const again = await Promise.all([store.position(feedOf(busy)), store.position(feedOf(busy))]);
      expect(again.map((position) => position.lastId)).toEqual([ids[2], ids[2]]);
      expect(pipeline).toHaveBeenCalledTimes(1);
    } finally {
      pipeline.mockRestore();
    }
  });

  it('resets only when what follows the resume id was trimmed', async () => {
    const userId = randomUserId();
    const ids = await publishMany(userId, 15); // ids[0..4] trimmed, ids[5..14] retained
    const justTrimmed = new RecordingSink();
    const atWatermark = new RecordingSink();
    const subscriptions = [
      await feed.open(feedOf(userId), { after: ids[3] }, justTrimmed),
      await feed.open(feedOf(userId), { after: ids[4] }, atWatermark),
    ];
    await waitFor(() => justTrimmed.ids.length === 10 && atWatermark.ids.length === 10, 'both replays');
    // It continues after the watermark, the user's own position, never echoing a cursor it cannot vouch for.
    expect(justTrimmed.calls.slice(0, 2)).toEqual([`start ${ids[4]}`, `reset history-truncated ${ids[4]}`]);
    expect(atWatermark.calls[1]).toBe(ids[5]);
    expect(atWatermark.ids).toEqual(ids.slice(5));
    subscriptions.forEach((subscription) => subscription.close());
  });

  onOneSubscriberConnection('uses one Redis subscription per user per process, whatever the number of feeds', async () => {
    const users = [randomUserId(), randomUserId(), randomUserId()];
    const before = fanout.subscribedStreamCount();
    const subscriptions = await Promise.all(
      Array.from({ length: 30 }, (_, i) => feed.open(feedOf(users[i % 3]), {}, new RecordingSink())),
    );
    expect(fanout.subscribedStreamCount()).toBe(before + 3);
    const redis = testRedisClient();
    try {
      const keys = moduleRef.get(RedisKeys);
      const counts = (await redis.pubsub('SHARDNUMSUB', ...users.map((user) => keys.userChannel(user)))) as (string | number)[];
      expect(counts.filter((_, i) => i % 2 === 1).map(Number)).toEqual([1, 1, 1]);
      subscriptions.forEach((subscription) => subscription.close());
      await waitFor(async () => {
        const after = (await redis.pubsub('SHARDNUMSUB', ...users.map((user) => keys.userChannel(user)))) as (string | number)[];
        return after.filter((_, i) => i % 2 === 1).every((count) => Number(count) === 0);
      }, 'the channels to be unsubscribed');
    } finally {
      redis.disconnect();
    }
    expect(fanout.subscribedStreamCount()).toBe(before);
  });

  onOneSubscriberConnection('re-reads the store after the subscriber connection drops, so live feeds miss nothing', async () => {
    const userId = randomUserId();
    const sink = new RecordingSink();
    const subscription = await feed.open(feedOf(userId), {}, sink);
    const before = await publishMany(userId, 2);
    await waitFor(() => sink.ids.length === 2, 'the first two live');
    const connections = moduleRef.get(RedisConnections);
    // Drop the subscriber's socket; ioredis reconnects and resubscribes by itself.
    (connections.subscriber as Redis).stream.destroy();
    const during = await publishMany(userId, 3);
    await waitFor(() => connections.subscriber.status === 'ready', 'the subscriber to reconnect');
    const after = await publishMany(userId, 2);
    await waitFor(() => sink.ids.length === 7, 'every notification, missed ones included', 10_000);
    expect(sink.ids).toEqual([...before, ...during, ...after]);
    expect(sink.failed).toBeNull();
    subscription.close();
  });

  onOneSubscriberConnection('opens without duplicates when the subscriber drops between subscribing and reading the position (model regression seed 5 path 158)', async () => {
    const userId = randomUserId();
    const before = await publishMany(userId, 3);
    const connections = moduleRef.get(RedisConnections);
    const position = jest.spyOn(store, 'position');
    const resubscribed = jest.spyOn(FeedSubscription.prototype, 'onResubscribed');
    // The first read of this feed's position waits for a subscriber drop and reconnect.
    position.mockImplementationOnce(async (stream, cursor) => {
      (connections.subscriber as Redis).stream.destroy();
      await waitFor(() => connections.subscriber.status !== 'ready', 'the subscriber to drop');
      await waitFor(() => connections.subscriber.status === 'ready', 'the subscriber to reconnect');
      await waitFor(() => resubscribed.mock.calls.length > 0, "the fan-out's re-sync");
      position.mockRestore();
      resubscribed.mockRestore();
      return store.position(stream, cursor);
    });
    for (const after of [before[0], null]) {
      const sink = new RecordingSink();
      const subscription = await feed.open(feedOf(userId), { after }, sink);
      const [next] = await publishMany(userId, 1);
      await waitFor(() => sink.ids.includes(next), 'the next notification');
      const expected = after === null ? [next] : [...before.slice(1), next];
      expect(sink.ids.filter((id) => expected.includes(id) || before.includes(id))).toEqual(expected);
      expect(new Set(sink.ids).size).toBe(sink.ids.length);
      subscription.close();
      before.push(next);
    }
  });

  describe('cursors the stream cannot resume from', () => {
    it('resets a cursor ahead of the stream and goes on from the newest position, delivering what comes next', async () => {
      const userId = randomUserId();
      await publishMany(userId, 2);
      for (const ahead of ['9999999999999-0', '18446744073709551615-18446744073709551615']) {
        const { lastId: newest } = await store.position(feedOf(userId));
        const sink = new RecordingSink();
        const subscription = await feed.open(feedOf(userId), { after: ahead }, sink);
        const [next] = await publishMany(userId, 1);
        await waitFor(() => sink.ids.includes(next), 'the next notification');
        expect(sink.calls).toEqual([`start ${newest}`, `reset unknown-cursor ${newest}`, next]);
        subscription.close();
      }
    });

    it("resets another user's id (inside this stream's range) and never echoes it", async () => {
      const [userId, other] = [randomUserId(), randomUserId()];
      // A millisecond apart, so the ids differ in time (equal ids of two streams are a position of both).
      const nextMillisecond = (id: string) => waitFor(() => Date.now() > Number(id.split('-')[0]) + 1, 'the clock to tick');
      const [first] = await publishMany(userId, 1);
      await nextMillisecond(first);
      const [foreign] = await publishMany(other, 1);
      await nextMillisecond(foreign);
      const [last] = await publishMany(userId, 1);
      expect(compareNotificationIds(first, foreign)).toBe(-1);
      expect(compareNotificationIds(foreign, last)).toBe(-1);
      const sink = new RecordingSink();
      const subscription = await feed.open(feedOf(userId), { after: foreign }, sink);
      expect(sink.calls).toEqual([`start ${last}`, `reset unknown-cursor ${last}`]);
      subscription.close();
    });

    it('resets an unreadable cursor the same way', async () => {
      const userId = randomUserId();
      const [only] = await publishMany(userId, 1);
      const sink = new RecordingSink();
      const subscription = await feed.open(feedOf(userId), { after: UNREADABLE_CURSOR }, sink);
      expect(sink.calls).toEqual([`start ${only}`, `reset unknown-cursor ${only}`]);
      subscription.close();
    });
  });

  describe('a reader far behind', () => {
    let pacedModule: TestingModule;
    const pacedPrefix = uniquePrefix();

    beforeAll(async () => {
      const config = loadNotificationsConfig({ REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: pacedPrefix, HISTORY_MAX_PER_USER: '3000' });
      pacedModule = await Test.createTestingModule({ imports: [NotificationsModule.forRoot(config)] }).compile();
      await pacedModule.init();
    });

    afterAll(async () => {
      await pacedModule.close();
      await deletePrefix(pacedPrefix);
    });

    it('reads history only as fast as the sink drains, then goes live with nothing lost or repeated', async () => {
      const pacedService = pacedModule.get(NotificationService);
      const userId = randomUserId();
      const ids: string[] = [];
      for (let i = 0; i < 1000; i++) ids.push((await pacedService.publish({ userId, type: 'job-match', data: { i } })).id);
      const sink = new RecordingSink();
      sink.room = 5;
      const subscription = await pacedModule.get(NotificationFeed).open(pacedModule.get(RedisKeys).userFeed(userId), { after: '0-0' }, sink);
      await waitFor(() => sink.ids.length === 5, 'the first five');
      // Full: nothing more arrives until the reader drains, whatever is published meanwhile.
      const live: string[] = [];
      for (let i = 0; i < 1200; i++) live.push((await pacedService.publish({ userId, type: 'job-match', data: { live: i } })).id);
      expect(sink.ids).toHaveLength(5);
      while (sink.ids.length < ids.length + live.length) {
        const before = sink.ids.length;
        sink.drain(50);
        await waitFor(() => sink.ids.length >= Math.min(before + 50, ids.length + live.length), 'the next 50');
        expect(sink.ids.length).toBe(Math.min(before + 50, ids.length + live.length));
      }
      expect(sink.ids).toEqual([...ids, ...live]);
      // Caught up: live again, straight through.
      sink.drain(Infinity);
      const [after] = [(await pacedService.publish({ userId, type: 'job-match', data: {} })).id];
      await waitFor(() => sink.ids.includes(after), 'a live one');
      expect(sink.failed).toBeNull();
      subscription.close();
    });
  });
});
