import { fakeIo, fakeJwt, notification, recordingContext, settle, topicEvent } from '../test/fakes';
import { SocketTransport } from './socket-transport';
import { TokenSource } from './token-source';

describe('SocketTransport', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] }));
  afterEach(() => jest.useRealTimers());

  function setup(tokens?: TokenSource, lastEventId = '0') {
    const fake = fakeIo();
    const recorded = recordingContext({ tokens, lastEventId });
    const events: Array<[string, unknown]> = [];
    const transport = new SocketTransport(recorded.context, { io: fake.io, onEvent: (name, payload) => events.push([name, payload]) });
    transport.start();
    return { fake, recorded, events, transport };
  }

  it('connects to the default namespace on its own connection, WebSocket first', () => {
    const { fake } = setup();
    expect(fake.last.url).toBe('http://gateway.test');
    expect(fake.last.options).toMatchObject({ path: '/socket.io', forceNew: true, transports: ['websocket', 'polling'] });
    expect(fake.last.connectCalls).toBe(1);
  });

  it('sends the current token and the last delivered id with every handshake, reconnects included', async () => {
    const token = fakeJwt('u1');
    const { fake, recorded } = setup(new TokenSource({ token }), '0');
    expect(await fake.last.handshake()).toEqual({ token, lastEventId: '0-0' });
    fake.last.accept();
    fake.last.fire('job-match', notification('12-0'));
    expect(recorded.delivered.map((item) => item.id)).toEqual(['12-0']);
    // socket.io calls auth() again before each reconnect attempt.
    expect(await fake.last.handshake()).toEqual({ token, lastEventId: '12-0' });
  });

  it('tells notifications (named by type, notification-shaped) from chat, typing, cursors and presence', () => {
    const { fake, recorded, events } = setup();
    fake.last.accept();
    fake.last.fire('chat', { id: 'c1', roomId: 'r', from: 'u2', content: 'hi', timestamp: 't' });
    fake.last.fire('typing', { roomId: 'r', userId: 'u2', isTyping: true });
    fake.last.fire('custom.type', notification('3-0', 'custom.type'));
    fake.last.fire('reset', { reason: 'history-truncated' });
    expect(events.map(([name]) => name)).toEqual(['chat', 'typing']);
    expect(recorded.delivered.map((item) => item.type)).toEqual(['custom.type']);
    expect(recorded.resets).toBe(1);
  });

  it('hands over the inbox state, neither as a notification nor as a socket event', () => {
    const { fake, recorded, events } = setup();
    fake.last.accept();
    fake.last.fire('inbox', { unread: 4, readUpTo: '0-0' });
    fake.last.fire('inbox', { unread: '4' });
    fake.last.fire('inbox', { unread: 3, readUpTo: '7-0' });
    expect(recorded.inbox).toEqual([
      { unread: 4, readUpTo: '0-0' },
      { unread: 3, readUpTo: '7-0' },
    ]);
    expect(events).toEqual([]);
    expect(recorded.delivered).toEqual([]);
  });

  it('takes the position a reset carries, even behind a cursor that was not the user\'s', async () => {
    const { fake, recorded } = setup(undefined, '9999999999999-0');
    expect(await fake.last.handshake()).toMatchObject({ lastEventId: '9999999999999-0' });
    fake.last.accept();
    fake.last.fire('reset', { reason: 'unknown-cursor', lastEventId: '40-0' });
    fake.last.fire('job-match', notification('41-0'));
    expect(recorded.delivered.map((item) => item.id)).toEqual(['41-0']);
  });

  it('joins its rooms again on every connect (the server does not restore them)', async () => {
    const { fake, transport } = setup();
    fake.last.accept();
    await transport.join('lobby');
    await transport.join('team-7');
    await transport.leave('team-7');
    fake.last.emitted.length = 0;
    fake.last.fire('disconnect', 'transport close');
    fake.last.accept();
    await settle();
    expect(fake.last.emitted).toEqual([['room:join', { roomId: 'lobby' }]]);
  });

  it('after a refused handshake (not retried by socket.io) gets a fresh token and connects again after a backoff', async () => {
    const getToken = jest.fn(() => fakeJwt('u1'));
    const { fake } = setup(new TokenSource({ getToken }));
    await fake.last.handshake();
    const socket = fake.last;
    socket.active = false; // what socket.io-client does when the server middleware refuses
    socket.fire('connect_error', new Error('unauthorized'));
    await jest.advanceTimersByTimeAsync(499);
    expect(socket.connectCalls).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    await settle();
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(socket.connectCalls).toBe(2);
  });

  it('leaves network errors to socket.io, which retries by itself with backoff and jitter', async () => {
    const { fake } = setup();
    fake.last.active = true;
    fake.last.fire('connect_error', new Error('xhr poll error'));
    await jest.advanceTimersByTimeAsync(60_000);
    expect(fake.last.connectCalls).toBe(1);
  });

  it('connects again with a fresh token after the server disconnected it (token-expired)', async () => {
    const getToken = jest.fn(() => fakeJwt('u1'));
    const { fake } = setup(new TokenSource({ getToken }));
    await fake.last.handshake();
    fake.last.accept();
    fake.last.fire('token-expired', { reason: 'token-expired' });
    fake.last.fire('disconnect', 'io server disconnect');
    await jest.advanceTimersByTimeAsync(500);
    await settle();
    expect(fake.last.connectCalls).toBe(2);
    expect(getToken.mock.calls.length).toBeGreaterThanOrEqual(2);
  });

  it('sends auth:refresh with a fresh token shortly before the token expires', async () => {
    let issued = 0;
    const getToken = jest.fn(() => fakeJwt('u1', 100 + ++issued));
    const { fake } = setup(new TokenSource({ getToken }));
    await fake.last.handshake();
    fake.last.accept();
    fake.last.ack = (event) => (event === 'auth:refresh' ? { ok: true, expiresAt: null } : { ok: true });
    // 101 s left: refreshed 20 s (a fifth) before exp.
    await jest.advanceTimersByTimeAsync(79_000);
    expect(fake.last.emitted.filter(([event]) => event === 'auth:refresh')).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(3_000);
    await settle();
    const refreshes = fake.last.emitted.filter(([event]) => event === 'auth:refresh');
    expect(refreshes).toHaveLength(1);
    expect((refreshes[0][1] as { token: string }).token).toBe(getToken.mock.results[1].value);
  });

  it('answers emits with the acknowledgement, and with { ok: false } when there is none', async () => {
    const { fake, transport } = setup();
    fake.last.accept();
    fake.last.ack = () => ({ ok: true, id: 'm1' });
    expect(await transport.emit('chat', { roomId: 'r', content: 'hi' })).toEqual({ ok: true, id: 'm1' });
    fake.last.ack = () => {
      throw new Error('operation has timed out');
    };
    expect(await transport.emit('chat', { roomId: 'r', content: 'hi' })).toEqual({ ok: false, error: 'timeout' });
    transport.stop();
    expect(await transport.emit('chat', { roomId: 'r', content: 'hi' })).toEqual({ ok: false, error: 'socket.io is off' });
  });

  describe('topics', () => {
    const subscribes = (emitted: Array<[string, unknown]>) => emitted.filter(([event]) => event.startsWith('topic:'));

    it('subscribes each topic on connect from the client\'s last id, and again after a reconnect from the last one delivered', async () => {
      const { fake, recorded } = setup();
      await recorded.follow('jobs.new', '5-0');
      fake.last.ack = (event, payload) => (event === 'topic:subscribe' ? { ok: true, lastEventId: (payload as { lastEventId: string }).lastEventId } : { ok: true });
      fake.last.accept();
      await settle();
      expect(subscribes(fake.last.emitted)).toEqual([['topic:subscribe', { topic: 'jobs.new', lastEventId: '5-0' }]]);
      fake.last.fire('job-posted', topicEvent('jobs.new', '6-0'));
      fake.last.fire('job-posted', topicEvent('jobs.new', '7-0'));
      expect(recorded.topicEvents.map((event) => event.id)).toEqual(['6-0', '7-0']);

      // Subscriptions belong to a socket: the server forgets them with it.
      fake.last.emitted.length = 0;
      fake.last.fire('disconnect', 'transport close');
      fake.last.accept();
      await settle();
      expect(subscribes(fake.last.emitted)).toEqual([['topic:subscribe', { topic: 'jobs.new', lastEventId: '7-0' }]]);
      // The replay after 7-0 may overlap what the client has: copies are dropped.
      fake.last.fire('job-posted', topicEvent('jobs.new', '7-0'));
      fake.last.fire('job-posted', topicEvent('jobs.new', '8-0'));
      expect(recorded.topicEvents.map((event) => event.id)).toEqual(['6-0', '7-0', '8-0']);
    });

    it('subscribes and unsubscribes as the list of topics changes while connected', async () => {
      const { fake, recorded, transport } = setup();
      fake.last.accept();
      await recorded.follow('scores.x', '10-0');
      transport.topicsChanged();
      recorded.unfollow('scores.x');
      transport.topicsChanged();
      await settle();
      expect(subscribes(fake.last.emitted)).toEqual([
        ['topic:subscribe', { topic: 'scores.x', lastEventId: '10-0' }],
        ['topic:unsubscribe', { topic: 'scores.x' }],
      ]);
    });

    it('reports a refused topic and does not ask for it again; one that failed for now is asked for again', async () => {
      const { fake, recorded } = setup();
      await recorded.follow('scores.x', '10-0');
      await recorded.follow('jobs.new', '5-0');
      let unavailable = true;
      fake.last.ack = (event, payload) => {
        const { topic } = payload as { topic: string };
        if (topic === 'scores.x') return { ok: false, error: 'forbidden' };
        if (unavailable) return { ok: false, error: 'unavailable' };
        return { ok: true, lastEventId: '5-0' };
      };
      fake.last.accept();
      await settle();
      expect(recorded.refused).toEqual([['scores.x', 'forbidden']]);
      unavailable = false;
      fake.last.emitted.length = 0;
      await jest.advanceTimersByTimeAsync(2_000);
      expect(subscribes(fake.last.emitted)).toEqual([['topic:subscribe', { topic: 'jobs.new', lastEventId: '5-0' }]]);
      expect(recorded.refused).toHaveLength(1);
    });

    it('tells topic events from notifications by their shape, and takes a topic\'s reset for that topic', async () => {
      const { fake, recorded } = setup(undefined, '3-0');
      await recorded.follow('jobs.new', '9999999999999-0');
      // The gateway acks where the topic goes on (its newest), then sends the reset, then the events.
      fake.last.ack = () => ({ ok: true, lastEventId: '40-0' });
      fake.last.accept();
      await settle();
      fake.last.fire('reset', { reason: 'unknown-cursor', lastEventId: '40-0', topic: 'jobs.new' });
      fake.last.fire('job-posted', topicEvent('jobs.new', '41-0'));
      fake.last.fire('job-match', notification('4-0'));
      expect(recorded.topicEvents.map((event) => event.id)).toEqual(['41-0']);
      expect(recorded.delivered.map((item) => item.id)).toEqual(['4-0']);
      expect(recorded.resets).toBe(0);
      expect(recorded.position.lastId).toBe('4-0');
    });

    it('stops a topic the refreshed token no longer grants (auth:refresh acks it as unsubscribed)', async () => {
      let issued = 0;
      const { fake, recorded } = setup(new TokenSource({ getToken: () => fakeJwt('u1', 100 + ++issued) }));
      await recorded.follow('scores.x', '10-0');
      await fake.last.handshake();
      fake.last.ack = (event) => (event === 'auth:refresh' ? { ok: true, expiresAt: null, unsubscribed: ['scores.x'] } : { ok: true, lastEventId: '10-0' });
      fake.last.accept();
      await jest.advanceTimersByTimeAsync(82_000);
      await settle();
      expect(recorded.refused).toEqual([['scores.x', 'forbidden']]);
    });
  });
});
