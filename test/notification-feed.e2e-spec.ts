import { Test, type TestingModule } from '@nestjs/testing';
import Redis from 'ioredis';
import {
  compareNotificationIds,
  type FeedSink,
  loadConfig,
  type NotificationEnvelope,
  NotificationFanout,
  NotificationFeed,
  NotificationsModule,
  NotificationService,
  NotificationStore,
  RedisConnections,
  RedisKeys,
} from '@app/notifications';
import { randomUserId, uniquePrefix } from './support/prefix';
import { deletePrefix, testRedisUrl } from './support/redis';
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
  reset(reason: string) {
    this.calls.push(`reset ${reason}`);
  }
  notification(envelope: NotificationEnvelope) {
    this.ids.push(envelope.id);
    this.calls.push(envelope.id);
  }
  fail(error: Error) {
    this.failed = error;
  }
}

describe('notifications library on the real Redis', () => {
  const prefix = uniquePrefix();
  let moduleRef: TestingModule;
  let service: NotificationService;
  let feed: NotificationFeed;
  let store: NotificationStore;
  let fanout: NotificationFanout;

  beforeAll(async () => {
    const config = loadConfig({ REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, HISTORY_MAX_PER_USER: '10' });
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
    const stored = (await store.readAfter(userId, null, 100)).map((envelope) => envelope.id);
    expect(stored).toHaveLength(10);
    for (let i = 1; i < stored.length; i++) expect(compareNotificationIds(stored[i - 1], stored[i])).toBe(-1);
    expect(new Set(results.map((result) => result.id)).size).toBe(50);
  });

  it('keeps exactly HISTORY_MAX_PER_USER notifications, the newest', async () => {
    const userId = randomUserId();
    const ids = await publishMany(userId, 25);
    const retained = await store.readAfter(userId, null, 100);
    expect(retained.map((envelope) => envelope.id)).toEqual(ids.slice(15));
    expect(retained[0].toNotification()).toMatchObject({ id: ids[15], userId, type: 'job-match', data: { i: 15 } });
  });

  it('replays exactly what follows an id', async () => {
    const userId = randomUserId();
    const ids = await publishMany(userId, 6);
    expect((await store.readAfter(userId, ids[2], 100)).map((envelope) => envelope.id)).toEqual(ids.slice(3));
    expect(await store.readAfter(userId, ids[5], 100)).toEqual([]);
  });

  it('reads positions asked for in one turn as one pipeline, each user once, and answers every request', async () => {
    const [busy, quiet] = [randomUserId(), randomUserId()];
    const ids = await publishMany(busy, 3);
    const pipeline = jest.spyOn(moduleRef.get(RedisConnections).command, 'pipeline');
    try {
      const positions = await Promise.all([store.position(busy), store.position(quiet), store.position(busy), store.position(busy)]);
      expect(positions.map((position) => position.lastId)).toEqual([ids[2], '0-0', ids[2], ids[2]]);
      expect(pipeline).toHaveBeenCalledTimes(1);
      expect((pipeline.mock.results[0].value as { length: number }).length).toBe(2);
      // One user in a turn: one script call, no pipeline.
      const again = await Promise.all([store.position(busy), store.position(busy)]);
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
      await feed.open(userId, { after: ids[3] }, justTrimmed),
      await feed.open(userId, { after: ids[4] }, atWatermark),
    ];
    await waitFor(() => justTrimmed.ids.length === 10 && atWatermark.ids.length === 10, 'both replays');
    expect(justTrimmed.calls.slice(0, 2)).toEqual([`start ${ids[3]}`, 'reset history-truncated']);
    expect(atWatermark.calls[1]).toBe(ids[5]);
    expect(atWatermark.ids).toEqual(ids.slice(5));
    subscriptions.forEach((subscription) => subscription.close());
  });

  it('uses one Redis subscription per user per process, whatever the number of feeds', async () => {
    const users = [randomUserId(), randomUserId(), randomUserId()];
    const before = fanout.subscribedUserCount();
    const subscriptions = await Promise.all(
      Array.from({ length: 30 }, (_, i) => feed.open(users[i % 3], {}, new RecordingSink())),
    );
    expect(fanout.subscribedUserCount()).toBe(before + 3);
    const redis = new Redis(testRedisUrl());
    try {
      const keys = moduleRef.get(RedisKeys);
      const counts = (await redis.pubsub('NUMSUB', ...users.map((user) => keys.userChannel(user)))) as (string | number)[];
      expect(counts.filter((_, i) => i % 2 === 1).map(Number)).toEqual([1, 1, 1]);
      subscriptions.forEach((subscription) => subscription.close());
      await waitFor(async () => {
        const after = (await redis.pubsub('NUMSUB', ...users.map((user) => keys.userChannel(user)))) as (string | number)[];
        return after.filter((_, i) => i % 2 === 1).every((count) => Number(count) === 0);
      }, 'the channels to be unsubscribed');
    } finally {
      redis.disconnect();
    }
    expect(fanout.subscribedUserCount()).toBe(before);
  });

  it('re-reads the store after the subscriber connection drops, so live feeds miss nothing', async () => {
    const userId = randomUserId();
    const sink = new RecordingSink();
    const subscription = await feed.open(userId, {}, sink);
    const before = await publishMany(userId, 2);
    await waitFor(() => sink.ids.length === 2, 'the first two live');
    const connections = moduleRef.get(RedisConnections);
    // Drop the subscriber's socket; ioredis reconnects and resubscribes by itself.
    connections.subscriber.stream.destroy();
    const during = await publishMany(userId, 3);
    await waitFor(() => connections.subscriber.status === 'ready', 'the subscriber to reconnect');
    const after = await publishMany(userId, 2);
    await waitFor(() => sink.ids.length === 7, 'every notification, missed ones included', 10_000);
    expect(sink.ids).toEqual([...before, ...during, ...after]);
    expect(sink.failed).toBeNull();
    subscription.close();
  });
});
