import { FakeEventSource, fakeFetch, fakeJwt, notification, recordingContext, settle, topicEvent } from '../test/fakes';
import { SseTransport } from './sse-transport';
import { TokenSource } from './token-source';
import { buildStreamSetCursor, topicKey } from './topic-cursor';

describe('SseTransport', () => {
  beforeEach(() => {
    FakeEventSource.instances = [];
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
  });
  afterEach(() => jest.useRealTimers());

  const browserLike = (context: ReturnType<typeof recordingContext>['context']) =>
    new SseTransport(context, { EventSource: FakeEventSource, headers: false, types: () => ['job-match', 'message-received', 'job-posted'] });

  it('opens /api/events with the token and the resume id in the query (a browser EventSource sends no headers)', async () => {
    const token = fakeJwt('u1');
    const { context } = recordingContext({ tokens: new TokenSource({ token }), lastEventId: '42-0' });
    browserLike(context).start();
    await settle();
    const source = FakeEventSource.last;
    expect(source.url.startsWith('http://gateway.test/api/events?')).toBe(true);
    expect(source.query.get('access_token')).toBe(token);
    expect(source.query.get('lastEventId')).toBe('42-0');
  });

  it('delivers notifications of the types it listens for, and reports open and reset', async () => {
    const recorded = recordingContext({ lastEventId: '0' });
    const transport = browserLike(recorded.context);
    transport.start();
    await settle();
    const source = FakeEventSource.last;
    source.open();
    source.emit('job-match', notification('1-0'), '1-0');
    source.emit('message-received', notification('2-0', 'message-received'), '2-0');
    source.emit('custom.type', notification('3-0', 'custom.type'), '3-0'); // nobody asked for it yet
    transport.watch('custom.type');
    source.emit('custom.type', notification('4-0', 'custom.type'), '4-0');
    source.emit('reset', { reason: 'history-truncated' });
    expect(recorded.delivered.map((item) => item.id)).toEqual(['1-0', '2-0', '4-0']);
    expect(recorded.reports).toEqual(['connecting', 'open']);
    expect(recorded.resets).toBe(1);
  });

  it('hands over the inbox state (no id: the position stays) and drops one that is not a state', async () => {
    const recorded = recordingContext({ lastEventId: '5-0' });
    browserLike(recorded.context).start();
    await settle();
    const source = FakeEventSource.last;
    source.open();
    source.emit('inbox', { unread: 2, readUpTo: '0-0' });
    source.emit('inbox', 'not json {');
    source.emit('inbox', { unread: -1, readUpTo: '0-0' });
    source.emit('inbox', { unread: 0, readUpTo: '5-0' });
    expect(recorded.inbox).toEqual([
      { unread: 2, readUpTo: '0-0' },
      { unread: 0, readUpTo: '5-0' },
    ]);
    expect(recorded.delivered).toEqual([]);
    expect(recorded.position.lastId).toBe('5-0');
  });

  it('ignores the inbox of a stream it has replaced', async () => {
    const recorded = recordingContext({ lastEventId: '0' });
    const transport = browserLike(recorded.context);
    transport.start();
    await settle();
    const first = FakeEventSource.last;
    first.open();
    transport.stop();
    transport.start();
    await settle();
    first.emit('inbox', { unread: 9, readUpTo: '0-0' });
    FakeEventSource.last.emit('inbox', { unread: 1, readUpTo: '0-0' });
    expect(recorded.inbox).toEqual([{ unread: 1, readUpTo: '0-0' }]);
  });

  it('takes the position a reset carries in its id, even behind a cursor that was not the user\'s', async () => {
    const recorded = recordingContext({ lastEventId: '9999999999999-0' });
    browserLike(recorded.context).start();
    await settle();
    const source = FakeEventSource.last;
    source.open();
    source.emit('reset', { reason: 'unknown-cursor' }, '40-0');
    source.emit('job-match', notification('41-0'), '41-0');
    expect(recorded.position.lastId).toBe('41-0');
    expect(recorded.delivered.map((item) => item.id)).toEqual(['41-0']);
  });

  it('lets the EventSource reconnect by itself after a drop (it sends Last-Event-ID and honours retry:)', async () => {
    const recorded = recordingContext({ lastEventId: '0' });
    browserLike(recorded.context).start();
    await settle();
    FakeEventSource.last.open();
    FakeEventSource.last.drop();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(FakeEventSource.last.closed).toBe(false);
    expect(recorded.reports.at(-1)).toMatch(/^lost: /);
  });

  it('opens a new EventSource after an exponential, jittered backoff when the EventSource gives up, resuming from the last id', async () => {
    const recorded = recordingContext({ lastEventId: '0' });
    browserLike(recorded.context).start();
    await settle();
    FakeEventSource.last.open();
    FakeEventSource.last.emit('job-match', notification('7-0'), '7-0');
    FakeEventSource.last.fail(503);
    // random() is 0 here: the first retry waits half of the 1 s cap.
    await jest.advanceTimersByTimeAsync(499);
    expect(FakeEventSource.instances).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.last.query.get('lastEventId')).toBe('7-0');
    FakeEventSource.last.fail(503);
    await jest.advanceTimersByTimeAsync(999);
    expect(FakeEventSource.instances).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.instances).toHaveLength(3);
  });

  it('on token-expired, closes the stream and opens a new one at once with a fresh token', async () => {
    let issued = 0;
    const tokens = new TokenSource({ getToken: () => fakeJwt(`u1`, 3600 + ++issued) });
    const recorded = recordingContext({ tokens, lastEventId: '0' });
    browserLike(recorded.context).start();
    await settle();
    const first = FakeEventSource.last;
    first.open();
    first.emit('job-match', notification('9-0'), '9-0');
    first.emit('token-expired', { reason: 'token-expired' });
    await settle();
    expect(first.closed).toBe(true);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.last.query.get('access_token')).not.toBe(first.query.get('access_token'));
    expect(FakeEventSource.last.query.get('lastEventId')).toBe('9-0');
  });

  it('asks for a fresh token when the server refused the old one (401)', async () => {
    const getToken = jest.fn(() => fakeJwt('u1'));
    const recorded = recordingContext({ tokens: new TokenSource({ getToken }), lastEventId: '0' });
    browserLike(recorded.context).start();
    await settle();
    expect(getToken).toHaveBeenCalledTimes(1);
    FakeEventSource.last.fail(401);
    await settle();
    expect(getToken).toHaveBeenCalledTimes(2);
  });

  it('in Node sends the token as Authorization and the client position as Last-Event-ID when it is ahead', async () => {
    const token = fakeJwt('u1');
    const { fetch, calls } = fakeFetch(() => ({ status: 200 }));
    const recorded = recordingContext({ tokens: new TokenSource({ token }), fetch, lastEventId: '50-0' });
    new SseTransport(recorded.context, { EventSource: FakeEventSource, headers: true, types: () => [] }).start();
    await settle();
    const source = FakeEventSource.last;
    expect(source.query.get('access_token')).toBeNull();
    const hook = source.init?.fetch;
    if (!hook) throw new Error('no fetch hook');
    // The package's own reconnect sends the last id it saw; ours is further (delivered over another channel).
    await hook(source.url, { headers: { Accept: 'text/event-stream', 'Last-Event-ID': '40-0' } });
    await hook(source.url, { headers: { Accept: 'text/event-stream', 'Last-Event-ID': '60-0' } });
    const headers = calls.map((call) => call.init.headers as Record<string, string>);
    expect(headers[0]).toMatchObject({ Authorization: `Bearer ${token}`, 'Last-Event-ID': '50-0' });
    expect(headers[1]).toMatchObject({ Authorization: `Bearer ${token}`, 'Last-Event-ID': '60-0' });
  });

  it('stops: closes the stream and cancels a pending retry', async () => {
    const recorded = recordingContext({ lastEventId: '0' });
    const transport = browserLike(recorded.context);
    transport.start();
    await settle();
    FakeEventSource.last.fail(503);
    transport.stop();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  describe('with topics', () => {
    const cursor = async (user: string, topics: Record<string, string>) =>
      buildStreamSetCursor(user, await Promise.all(Object.entries(topics).map(async ([topic, lastEventId]) => ({ key: await topicKey(topic), lastEventId }))));

    it('carries them in ?topics= and resumes every stream with a cursor built from the client\'s positions', async () => {
      const recorded = recordingContext({ lastEventId: '1732190000000-0' });
      await recorded.follow('jobs.new', '1732190000123-5');
      await recorded.follow('scores.match-42', '1732190000456-0');
      browserLike(recorded.context).start();
      await settle();
      expect(FakeEventSource.last.query.get('topics')).toBe('jobs.new,scores.match-42');
      // What the gateway itself writes for these positions (pinned in topic-cursor.spec.ts).
      expect(FakeEventSource.last.query.get('lastEventId')).toBe('r1.u_m3r97a0w.b7c726b3_m3r97a4b-5.a6ce3b65_m3r97adk');
    });

    it('delivers topic events apart from notifications, told apart by their shape', async () => {
      const recorded = recordingContext({ lastEventId: '0' });
      await recorded.follow('jobs.new', '5-0');
      browserLike(recorded.context).start();
      await settle();
      const source = FakeEventSource.last;
      source.open();
      source.emit('job-posted', topicEvent('jobs.new', '6-0'), await cursor('0-0', { 'jobs.new': '6-0' }));
      source.emit('job-match', notification('1-0'), await cursor('1-0', { 'jobs.new': '6-0' }));
      expect(recorded.topicEvents.map((event) => [event.topic, event.id])).toEqual([['jobs.new', '6-0']]);
      expect(recorded.delivered.map((item) => item.id)).toEqual(['1-0']);
    });

    it('opens a new stream when they change, with the new list and a cursor that resumes every stream it had', async () => {
      const recorded = recordingContext({ lastEventId: '3-0' });
      await recorded.follow('jobs.new', '5-0');
      const transport = browserLike(recorded.context);
      transport.start();
      await settle();
      const first = FakeEventSource.last;
      first.open();
      first.emit('job-posted', topicEvent('jobs.new', '6-0'), await cursor('3-0', { 'jobs.new': '6-0' }));
      transport.topicsChanged(); // the same list: nothing to do
      expect(FakeEventSource.instances).toHaveLength(1);

      await recorded.follow('scores.x', '100-0');
      transport.topicsChanged();
      await settle();
      expect(first.closed).toBe(true);
      expect(FakeEventSource.instances).toHaveLength(2);
      expect(FakeEventSource.last.query.get('topics')).toBe('jobs.new,scores.x');
      expect(FakeEventSource.last.query.get('lastEventId')).toBe(await cursor('3-0', { 'jobs.new': '6-0', 'scores.x': '100-0' }));
      FakeEventSource.last.open();
      // A planned switch is not a reconnect: the channel stays open throughout.
      expect(recorded.reports).toEqual(['connecting', 'open']);

      recorded.unfollow('jobs.new');
      transport.topicsChanged();
      await settle();
      expect(FakeEventSource.last.query.get('topics')).toBe('scores.x');
      expect(FakeEventSource.last.query.get('lastEventId')).toBe(await cursor('3-0', { 'scores.x': '100-0' }));
    });

    it('takes a topic\'s reset position from its segment of the cursor, and the user\'s from `u`', async () => {
      const recorded = recordingContext({ lastEventId: '9-0' });
      await recorded.follow('jobs.new', '9999999999999-0'); // not a position of the topic
      browserLike(recorded.context).start();
      await settle();
      const source = FakeEventSource.last;
      source.open();
      source.emit('reset', { reason: 'unknown-cursor', topic: 'jobs.new' }, await cursor('9-0', { 'jobs.new': '40-0' }));
      expect(recorded.topicPositions.lastId('jobs.new')).toBe('40-0');
      source.emit('job-posted', topicEvent('jobs.new', '41-0'), await cursor('9-0', { 'jobs.new': '41-0' }));
      expect(recorded.topicEvents.map((event) => event.id)).toEqual(['41-0']);
      expect(recorded.resets).toBe(0);

      source.emit('reset', { reason: 'history-truncated' }, await cursor('20-0', { 'jobs.new': '41-0' }));
      expect(recorded.resets).toBe(1);
      expect(recorded.position.lastId).toBe('20-0');
    });

    it('in Node sends the cursor built from the client\'s positions as Last-Event-ID on every connect', async () => {
      const { fetch, calls } = fakeFetch(() => ({ status: 200 }));
      const recorded = recordingContext({ fetch, lastEventId: '3-0' });
      await recorded.follow('jobs.new', '5-0');
      new SseTransport(recorded.context, { EventSource: FakeEventSource, headers: true, types: () => ['job-posted'] }).start();
      await settle();
      const source = FakeEventSource.last;
      expect(source.query.get('lastEventId')).toBeNull();
      await source.init?.fetch?.(source.url, { headers: { Accept: 'text/event-stream' } });
      source.open();
      // Delivered over another channel: the stream's own cursor is behind the client's.
      recorded.context.deliverTopicEvent(topicEvent('jobs.new', '7-0'));
      await source.init?.fetch?.(source.url, { headers: { Accept: 'text/event-stream', 'Last-Event-ID': await cursor('3-0', { 'jobs.new': '5-0' }) } });
      const sent = calls.map((call) => (call.init.headers as Record<string, string>)['Last-Event-ID']);
      expect(sent).toEqual([await cursor('3-0', { 'jobs.new': '5-0' }), await cursor('3-0', { 'jobs.new': '7-0' })]);
    });

    it('asks the client to check its topics when the gateway refuses the stream (one may be forbidden now)', async () => {
      const recorded = recordingContext({ lastEventId: '0' });
      await recorded.follow('scores.x', '1-0');
      browserLike(recorded.context).start();
      await settle();
      FakeEventSource.last.fail(403);
      expect(recorded.checks).toBe(1);
    });
  });
});
