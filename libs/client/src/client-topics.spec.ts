import { FakeEventSource, fakeBrowser, fakeFetch, fakeIo, fakeJwt, settle, topicEvent } from '../test/fakes';
import type { DeliveryMeta } from './connection-hub';
import { createRealtimeClient, type RealtimeClient, type RealtimeClientOptions } from './realtime-client';
import { buildStreamSetCursor, topicKey } from './topic-cursor';

/** Where each topic stands on the "gateway": the newest id an admission read answers. */
const HEADS: Record<string, string> = { 'jobs.new': '100-0', 'jobs.other': '500-0', 'scores.x': '7-0' };
const FORBIDDEN = new Set(['scores.x']);

describe('RealtimeClient topics', () => {
  const clients: RealtimeClient[] = [];
  let sockets: ReturnType<typeof fakeIo>;
  let gateway: ReturnType<typeof fakeFetch>;

  beforeAll(async () => {
    // The keys are computed once per topic; warm them so that fake timers need not wait for SubtleCrypto.
    await Promise.all(Object.keys(HEADS).map(topicKey));
  });

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    FakeEventSource.instances = [];
    sockets = fakeIo();
    gateway = fakeFetch((url) => {
      if (url.pathname === '/api/events') return { status: 200 };
      if (url.pathname === '/api/notifications') return { status: 200, body: { items: [], lastId: '0-0' } };
      if (url.pathname === '/api/notifications/unread') return { status: 200, body: { unread: 0, readUpTo: '0-0' } };
      const topic = decodeURIComponent(url.pathname.split('/')[3]);
      if (FORBIDDEN.has(topic)) return { status: 403, body: { statusCode: 403, message: `not allowed to follow topic ${topic}` } };
      // A cursor ahead of the topic (the admission read): nothing listed, lastId its newest. Else nothing new.
      const after = url.searchParams.get('after') ?? '0-0';
      if (BigInt(after.split('-')[0]) > BigInt(HEADS[topic].split('-')[0]) + 1_000n) return { status: 200, body: { items: [], lastId: HEADS[topic], reset: { reason: 'unknown-cursor' } } };
      return { status: 200, body: { items: [], lastId: after } };
    });
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    jest.useRealTimers();
  });

  function client(options: Partial<RealtimeClientOptions> = {}): RealtimeClient {
    const created = createRealtimeClient({
      baseUrl: 'http://gateway.test',
      token: fakeJwt('u1'),
      lastEventId: '0',
      EventSource: FakeEventSource,
      io: sockets.io,
      fetch: gateway.fetch,
      shareAcrossTabs: false,
      random: () => 0,
      ...options,
    });
    clients.push(created);
    return created;
  }

  const tick = () => jest.advanceTimersByTimeAsync(5);
  const cursor = async (user: string, topics: Record<string, string>) =>
    buildStreamSetCursor(user, await Promise.all(Object.entries(topics).map(async ([topic, lastEventId]) => ({ key: await topicKey(topic), lastEventId }))));

  /** The Last-Event-ID a stream (re)connects with: in Node it goes as a header, through the fetch hook. */
  async function sseResumeId(source: FakeEventSource): Promise<string | undefined> {
    await source.init?.fetch?.(source.url, { headers: { Accept: 'text/event-stream' } });
    return (gateway.calls.at(-1)?.init.headers as Record<string, string> | undefined)?.['Last-Event-ID'];
  }

  function collect(realtime: RealtimeClient, topic: string) {
    const seen: Array<[string, DeliveryMeta['channel']]> = [];
    const unsubscribe = realtime.subscribe(topic, (event, meta) => seen.push([event.id, meta.channel]));
    return { seen, ids: () => seen.map(([id]) => id), unsubscribe };
  }

  it('over SSE: the first stream carries the topic from its newest event on, and topic events are not notifications', async () => {
    const realtime = client({ transports: ['sse'] });
    const notifications: string[] = [];
    realtime.onNotification((notification) => notifications.push(notification.id));
    const jobs = collect(realtime, 'jobs.new');
    await tick();
    expect(FakeEventSource.instances).toHaveLength(1);
    const source = FakeEventSource.last;
    expect(source.query.get('topics')).toBe('jobs.new');
    expect(await sseResumeId(source)).toBe(await cursor('0-0', { 'jobs.new': '100-0' }));
    source.open();
    source.emit('job-posted', topicEvent('jobs.new', '101-0', 'job-posted', { title: 'A' }), await cursor('0-0', { 'jobs.new': '101-0' }));
    await settle();
    expect(jobs.seen).toEqual([['101-0', 'sse']]);
    expect(notifications).toEqual([]);
    expect(realtime.status.topics['jobs.new']).toEqual({ state: 'live', lastEventId: '101-0', error: null });
  });

  it('over SSE: a topic added later opens a new stream whose cursor resumes every stream where the client stands', async () => {
    const realtime = client({ transports: ['sse'] });
    const jobs = collect(realtime, 'jobs.new');
    await tick();
    FakeEventSource.last.open();
    FakeEventSource.last.emit('job-posted', topicEvent('jobs.new', '101-0'), await cursor('0-0', { 'jobs.new': '101-0' }));
    const other = collect(realtime, 'jobs.other');
    await tick();
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.instances[0].closed).toBe(true);
    const source = FakeEventSource.last;
    expect(source.query.get('topics')).toBe('jobs.new,jobs.other');
    expect(await sseResumeId(source)).toBe(await cursor('0-0', { 'jobs.new': '101-0', 'jobs.other': '500-0' }));
    source.open();
    source.emit('job-posted', topicEvent('jobs.new', '101-0'), await cursor('0-0', { 'jobs.new': '101-0', 'jobs.other': '500-0' }));
    source.emit('job-posted', topicEvent('jobs.other', '501-0'), await cursor('0-0', { 'jobs.new': '101-0', 'jobs.other': '501-0' }));
    await settle();
    expect(jobs.ids()).toEqual(['101-0']);
    expect(other.ids()).toEqual(['501-0']);
    expect(realtime.status.channels.sse.reconnects).toBe(0);
  });

  it('over Socket.IO: subscribes from where the topic starts, and after a reconnect again from the last id delivered', async () => {
    const realtime = client({ transports: ['socket.io'] });
    const jobs = collect(realtime, 'jobs.new');
    await tick();
    const socket = sockets.last;
    socket.ack = (event, payload) => (event === 'topic:subscribe' ? { ok: true, lastEventId: (payload as { lastEventId: string }).lastEventId } : { ok: true });
    socket.accept();
    await settle();
    expect(socket.emitted).toEqual([['topic:subscribe', { topic: 'jobs.new', lastEventId: '100-0' }]]);
    socket.fire('job-posted', topicEvent('jobs.new', '101-0'));
    socket.fire('job-posted', topicEvent('jobs.new', '102-0'));
    socket.emitted.length = 0;
    socket.fire('disconnect', 'transport close');
    socket.accept();
    await settle();
    expect(socket.emitted).toEqual([['topic:subscribe', { topic: 'jobs.new', lastEventId: '102-0' }]]);
    socket.fire('job-posted', topicEvent('jobs.new', '103-0'));
    await settle();
    expect(jobs.seen).toEqual([
      ['101-0', 'socket.io'],
      ['102-0', 'socket.io'],
      ['103-0', 'socket.io'],
    ]);
  });

  it('over polling: reads the topic after its last id', async () => {
    const realtime = client({ transports: ['polling'], pollIntervalMs: 1_000 });
    const jobs = collect(realtime, 'jobs.new');
    await tick();
    await jest.advanceTimersByTimeAsync(1_000);
    const polls = gateway.calls.filter((call) => call.url.pathname === '/api/topics/jobs.new/events' && call.url.searchParams.get('limit') !== '1');
    expect(polls.map((call) => call.url.searchParams.get('after'))).toEqual(['100-0', '100-0']);
    expect(jobs.ids()).toEqual([]);
    expect(realtime.status.topics['jobs.new'].state).toBe('live');
  });

  it('delivers each topic event once, in order, when the channels switch from SSE to Socket.IO and back', async () => {
    const realtime = client({ transports: ['sse', 'socket.io'] });
    const jobs = collect(realtime, 'jobs.new');
    await tick();
    const source = FakeEventSource.last;
    const socket = sockets.last;
    socket.ack = () => ({ ok: true, lastEventId: '100-0' });
    source.open();
    socket.accept();
    source.emit('job-posted', topicEvent('jobs.new', '101-0'), await cursor('0-0', { 'jobs.new': '101-0' }));
    socket.fire('job-posted', topicEvent('jobs.new', '101-0'));
    source.emit('job-posted', topicEvent('jobs.new', '102-0'), await cursor('0-0', { 'jobs.new': '102-0' }));
    source.fail(503); // SSE away: the socket goes on, and has them all
    socket.fire('job-posted', topicEvent('jobs.new', '102-0'));
    socket.fire('job-posted', topicEvent('jobs.new', '103-0'));
    socket.fire('disconnect', 'transport close');
    await jest.advanceTimersByTimeAsync(500);
    // The new stream resumes the topic after 103-0, which only the socket delivered.
    const again = FakeEventSource.last;
    expect(again).not.toBe(source);
    expect(await sseResumeId(again)).toBe(await cursor('0-0', { 'jobs.new': '103-0' }));
    again.open();
    again.emit('job-posted', topicEvent('jobs.new', '104-0'), await cursor('0-0', { 'jobs.new': '104-0' }));
    await settle();
    expect(jobs.seen).toEqual([
      ['101-0', 'sse'],
      ['102-0', 'sse'],
      ['103-0', 'socket.io'],
      ['104-0', 'sse'],
    ]);
  });

  it('reports a topic the user may not follow to onError and in the status, keeps it out of the stream, and does not ask again', async () => {
    const realtime = client({ transports: ['sse', 'socket.io'] });
    const errors: string[] = [];
    const scores = realtime.subscribe('scores.x', () => undefined, { onError: (error) => errors.push(error) });
    collect(realtime, 'jobs.new');
    await tick();
    expect(errors).toEqual(['forbidden']);
    expect(realtime.status.topics['scores.x']).toMatchObject({ state: 'refused', error: 'forbidden' });
    expect(FakeEventSource.last.query.get('topics')).toBe('jobs.new');
    sockets.last.accept();
    await jest.advanceTimersByTimeAsync(120_000);
    expect(gateway.calls.filter((call) => call.url.pathname.includes('scores.x'))).toHaveLength(1);
    expect(sockets.last.emitted.map(([, payload]) => (payload as { topic: string }).topic)).toEqual(['jobs.new']);
    expect(errors).toEqual(['forbidden']);
    // Unsubscribing forgets it; a new subscribe would ask again.
    scores();
    await tick();
    expect(realtime.status.topics['scores.x']).toBeUndefined();
  });

  it('refuses a name that is not a topic name, and a lastEventId that is not an id, at once', () => {
    const realtime = client();
    expect(() => realtime.subscribe('Jobs New', () => undefined)).toThrow(TypeError);
    expect(() => realtime.subscribe('jobs.new', () => undefined, { lastEventId: 'yesterday' })).toThrow(TypeError);
  });

  describe('across tabs', () => {
    async function twoTabs() {
      const browser = fakeBrowser();
      const leader = client({ tabSharing: browser, shareAcrossTabs: true, transports: ['sse'] });
      await tick();
      const follower = client({ tabSharing: browser, shareAcrossTabs: true, transports: ['sse'] });
      await tick();
      return { browser, leader, follower };
    }

    it('follows a follower\'s topic once, through the leader, and forwards its events to the tabs that subscribed', async () => {
      const { leader, follower } = await twoTabs();
      const inFollower = collect(follower, 'jobs.new');
      await tick();
      await tick();
      expect(FakeEventSource.instances.every((source) => source === FakeEventSource.last || source.closed)).toBe(true);
      expect(FakeEventSource.last.query.get('topics')).toBe('jobs.new');
      const inLeader = collect(leader, 'jobs.new');
      await tick();
      // The leader's own subscribe to a topic already followed opens nothing new.
      const streams = FakeEventSource.instances.length;
      FakeEventSource.last.open();
      FakeEventSource.last.emit('job-posted', topicEvent('jobs.new', '101-0'), await cursor('0-0', { 'jobs.new': '101-0' }));
      await tick();
      expect(inFollower.seen).toEqual([['101-0', 'sse']]);
      expect(inLeader.seen).toEqual([['101-0', 'sse']]);
      expect(FakeEventSource.instances).toHaveLength(streams);
      expect(follower.status.topics['jobs.new']).toMatchObject({ state: 'live', lastEventId: '101-0' });

      // The follower's unsubscribe does not take the topic from the leader's tab.
      inFollower.unsubscribe();
      await tick();
      expect(FakeEventSource.instances).toHaveLength(streams);
      FakeEventSource.last.emit('job-posted', topicEvent('jobs.new', '102-0'), await cursor('0-0', { 'jobs.new': '102-0' }));
      await tick();
      expect(inLeader.ids()).toEqual(['101-0', '102-0']);
      expect(inFollower.ids()).toEqual(['101-0']);

      // The last one out: the stream goes on without the topic.
      inLeader.unsubscribe();
      await tick();
      expect(FakeEventSource.instances).toHaveLength(streams + 1);
      expect(FakeEventSource.last.query.get('topics')).toBeNull();
    });

    it('tells a follower that its topic was refused', async () => {
      const { follower } = await twoTabs();
      const errors: string[] = [];
      follower.subscribe('scores.x', () => undefined, { onError: (error) => errors.push(error) });
      await tick();
      await tick();
      expect(errors).toEqual(['forbidden']);
      expect(follower.status.topics['scores.x']).toMatchObject({ state: 'refused', error: 'forbidden' });
    });

    it('goes on with the topic after the last id the tab saw when the leader closes', async () => {
      const { leader, follower } = await twoTabs();
      const jobs = collect(follower, 'jobs.new');
      await tick();
      await tick();
      FakeEventSource.last.open();
      FakeEventSource.last.emit('job-posted', topicEvent('jobs.new', '101-0'), await cursor('0-0', { 'jobs.new': '101-0' }));
      await tick();
      leader.close();
      await tick();
      await tick();
      expect(follower.status.role).toBe('leader');
      const source = FakeEventSource.last;
      expect(source.query.get('topics')).toBe('jobs.new');
      expect(await sseResumeId(source)).toBe(await cursor('0-0', { 'jobs.new': '101-0' }));
      source.open();
      source.emit('job-posted', topicEvent('jobs.new', '102-0'), await cursor('0-0', { 'jobs.new': '102-0' }));
      await settle();
      expect(jobs.ids()).toEqual(['101-0', '102-0']);
    });
  });
});
