import { FakeEventSource, fakeBrowser, fakeFetch, fakeIo, fakeJwt, notification, settle } from '../test/fakes';
import type { DeliveryMeta } from './connection-hub';
import { createRealtimeClient, type RealtimeClient, type RealtimeClientOptions } from './realtime-client';

describe('RealtimeClient', () => {
  const clients: RealtimeClient[] = [];
  let sockets: ReturnType<typeof fakeIo>;

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    FakeEventSource.instances = [];
    sockets = fakeIo();
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
      fetch: fakeFetch(() => ({ status: 200, body: { items: [], lastId: null } })).fetch,
      shareAcrossTabs: false,
      random: () => 0,
      ...options,
    });
    clients.push(created);
    return created;
  }

  /** Lets the client start (token, election) and the tabs' messages arrive. */
  const tick = () => jest.advanceTimersByTimeAsync(5);

  /** The Last-Event-ID an SSE (re)connection sends: in Node the token and the id go as headers, through the fetch hook. */
  async function sseResumeId(source: FakeEventSource, calls: ReturnType<typeof fakeFetch>['calls']): Promise<string | undefined> {
    await source.init?.fetch?.(source.url, { headers: { Accept: 'text/event-stream' } });
    return (calls.at(-1)?.init.headers as Record<string, string> | undefined)?.['Last-Event-ID'];
  }

  it('delivers each notification once, on whichever channel has it first, typed by its type', async () => {
    const realtime = client();
    const seen: Array<[string, string, DeliveryMeta['channel']]> = [];
    realtime.on('job-match', (item, meta) => seen.push([item.id, item.data.title, meta.channel]));
    await tick();
    FakeEventSource.last.open();
    sockets.last.accept();
    sockets.last.fire('job-match', notification('1-0', 'job-match', { title: 'A' }));
    FakeEventSource.last.emit('job-match', notification('1-0', 'job-match', { title: 'A' }), '1-0');
    FakeEventSource.last.emit('job-match', notification('2-0', 'job-match', { title: 'B' }), '2-0');
    sockets.last.fire('job-match', notification('2-0', 'job-match', { title: 'B' }));
    await settle();
    expect(seen).toEqual([
      ['1-0', 'A', 'socket.io'],
      ['2-0', 'B', 'sse'],
    ]);
    expect(realtime.lastEventId).toBe('2-0');
    expect(realtime.status.channels.sse.delivered).toBe(1);
    expect(realtime.status.channels['socket.io'].delivered).toBe(1);
  });

  it('polls only while no push channel is open, after fallbackAfterMs, and stands by again once one is back', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: { items: [notification('3-0')], lastId: '3-0' } }));
    const realtime = client({ fetch, fallbackAfterMs: 3_000, pollIntervalMs: 1_000 });
    const channels: string[] = [];
    realtime.onNotification((_item, meta) => channels.push(meta.channel));
    await tick();
    sockets.last.active = true;
    sockets.last.fire('connect_error', new Error('websocket error')); // socket.io keeps retrying by itself
    FakeEventSource.last.fail(503); // and SSE backs off
    await jest.advanceTimersByTimeAsync(2_900);
    expect(calls).toHaveLength(0);
    expect(realtime.status.channels.polling.state).toBe('standby');
    await jest.advanceTimersByTimeAsync(200);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0].url.pathname).toBe('/api/notifications');
    expect(calls[0].url.searchParams.get('after')).toBe('0-0');
    expect(realtime.status.channels.polling.state).toBe('open');
    expect(channels).toEqual(['polling']);

    sockets.last.accept();
    await settle();
    expect(realtime.status.channels.polling.state).toBe('standby');
    const polled = calls.length;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(polled);
  });

  it('polls at once when it is the only channel', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: { items: [], lastId: null } }));
    client({ fetch, transports: ['polling'] });
    await tick();
    expect(calls.map((call) => call.url.pathname)).toEqual(['/api/notifications', '/api/notifications/unread']);
    expect(FakeEventSource.instances).toHaveLength(0);
    expect(sockets.sockets).toHaveLength(0);
  });

  it('without lastEventId starts from now: it reads the newest id first, so even its first reconnect resumes', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: { items: [notification('77-0')], lastId: '77-0' } }));
    const realtime = client({ fetch, lastEventId: undefined, transports: ['sse', 'socket.io'] });
    await tick();
    expect(calls).toHaveLength(1);
    expect(realtime.lastEventId).toBe('77-0');
    expect(await sseResumeId(FakeEventSource.last, calls)).toBe('77-0');
    expect(await sockets.last.handshake()).toMatchObject({ lastEventId: '77-0' });
  });

  it('switches channels on and off', async () => {
    const realtime = client();
    await tick();
    const source = FakeEventSource.last;
    realtime.setTransports(['socket.io']);
    await settle();
    expect(source.closed).toBe(true);
    expect(realtime.status.channels.sse).toMatchObject({ enabled: false, state: 'off' });
    expect(realtime.status.transports).toEqual(['socket.io']);
  });

  describe('inbox', () => {
    const states = (realtime: RealtimeClient) => {
      const seen: Array<[number, string]> = [];
      realtime.inbox.onChange((state) => seen.push([state.unread, state.readUpTo]));
      return seen;
    };

    it('keeps the state from whichever push channel tells it, and marks read over the open socket', async () => {
      const realtime = client();
      const seen = states(realtime);
      await tick();
      expect(realtime.inbox.known).toBe(false);
      FakeEventSource.last.open();
      sockets.last.accept();
      FakeEventSource.last.emit('inbox', { unread: 2, readUpTo: '0-0' });
      sockets.last.fire('inbox', { unread: 2, readUpTo: '0-0' });
      await settle();
      expect([realtime.inbox.known, realtime.inbox.unread, realtime.inbox.readUpTo]).toEqual([true, 2, '0-0']);
      sockets.last.ack = (event) => (event === 'inbox:read' ? { ok: true, unread: 1, readUpTo: '1-0' } : { ok: true });
      expect(await realtime.inbox.markRead(['1-0'])).toEqual({ unread: 1, readUpTo: '1-0' });
      expect(sockets.last.emitted).toContainEqual(['inbox:read', { ids: ['1-0'] }]);
      sockets.last.fire('inbox', { unread: 1, readUpTo: '1-0' });
      await settle();
      expect(seen).toEqual([
        [2, '0-0'],
        [1, '1-0'],
      ]);
      // A notification is not a read state, nor the other way round.
      expect(realtime.lastEventId).toBe('0-0');
    });

    it('with polling alone, reads the state each round and marks all read up to the newest notification over REST', async () => {
      const state = { unread: 2, readUpTo: '0-0' };
      const { fetch, calls } = fakeFetch((url, init) => {
        if (url.pathname === '/api/notifications/unread') return { status: 200, body: state };
        if (url.pathname === '/api/notifications/read') return { status: 200, body: Object.assign(state, { unread: 0, readUpTo: (JSON.parse(String(init.body)) as { upTo: string }).upTo }) };
        return { status: 200, body: { items: [notification('3-0'), notification('4-0')], lastId: '4-0' } };
      });
      const realtime = client({ fetch, transports: ['polling'], pollIntervalMs: 1_000 });
      const seen = states(realtime);
      await tick();
      expect(realtime.inbox.unread).toBe(2);
      expect(await realtime.inbox.markAllRead()).toEqual({ unread: 0, readUpTo: '4-0' });
      const read = calls.find((call) => call.url.pathname === '/api/notifications/read');
      expect(read?.init).toMatchObject({ method: 'POST', body: JSON.stringify({ upTo: '4-0' }) });
      await jest.advanceTimersByTimeAsync(1_000);
      expect(seen).toEqual([
        [2, '0-0'],
        [0, '4-0'],
      ]);
    });
  });

  describe('across tabs', () => {
    it('gives a follower tab the leader\'s inbox state when it joins and on every change; its reads go over REST with its own token', async () => {
      const browser = fakeBrowser();
      const leader = client({ tabSharing: browser, shareAcrossTabs: true });
      await tick();
      FakeEventSource.last.open();
      sockets.last.accept();
      sockets.last.fire('inbox', { unread: 3, readUpTo: '0-0' });
      const followerGateway = fakeFetch((url) =>
        url.pathname === '/api/notifications/read' ? { status: 200, body: { unread: 2, readUpTo: '0-0' } } : { status: 200, body: { items: [], lastId: null } },
      );
      const followerToken = fakeJwt('u1', 7200);
      const follower = client({ tabSharing: browser, shareAcrossTabs: true, fetch: followerGateway.fetch, token: followerToken });
      const seen: number[] = [];
      follower.inbox.onChange((state) => seen.push(state.unread));
      await tick();
      expect(follower.status.role).toBe('follower');
      expect(follower.inbox.state).toEqual({ unread: 3, readUpTo: '0-0' });

      FakeEventSource.last.emit('inbox', { unread: 4, readUpTo: '0-0' });
      await tick();
      expect(follower.inbox.unread).toBe(4);

      expect(await follower.inbox.markRead(['2-0'])).toEqual({ unread: 2, readUpTo: '0-0' });
      expect(followerGateway.calls.map((call) => call.url.pathname)).toContain('/api/notifications/read');
      expect(followerGateway.calls.at(-1)?.init.headers).toMatchObject({ Authorization: `Bearer ${followerToken}` });
      expect(sockets.last.emitted.map(([event]) => event)).not.toContain('inbox:read');
      expect(follower.inbox.unread).toBe(2);
      // The leader's channels hear the read and tell every tab.
      sockets.last.fire('inbox', { unread: 2, readUpTo: '0-0' });
      await tick();
      expect([leader.inbox.unread, follower.inbox.unread]).toEqual([2, 2]);
      expect(seen).toEqual([3, 4, 2]);
    });

    it('tells the follower tabs the answer to a read the leader tab made', async () => {
      const browser = fakeBrowser();
      const { fetch, calls } = fakeFetch(() => ({ status: 200, body: { unread: 0, readUpTo: '5-0' } }));
      // SSE alone: no socket, so the leader reads over REST.
      const leader = client({ tabSharing: browser, shareAcrossTabs: true, transports: ['sse'], fetch });
      await tick();
      const follower = client({ tabSharing: browser, shareAcrossTabs: true });
      await tick();
      FakeEventSource.last.open();
      FakeEventSource.last.emit('inbox', { unread: 1, readUpTo: '0-0' });
      FakeEventSource.last.emit('job-match', notification('5-0'), '5-0');
      await tick();
      expect(follower.inbox.unread).toBe(1);
      expect(await leader.inbox.markAllRead()).toEqual({ unread: 0, readUpTo: '5-0' });
      expect(calls.map((call) => [call.url.pathname, call.init.body])).toEqual([['/api/notifications/read', JSON.stringify({ upTo: '5-0' })]]);
      // The follower hears the answer from the leader before any channel pushes it.
      await tick();
      expect(follower.inbox.state).toEqual({ unread: 0, readUpTo: '5-0' });
    });

    it('shares one stream and one socket among the tabs of a user, and relays notifications, emits and acks', async () => {
      const browser = fakeBrowser();
      const leader = client({ tabSharing: browser, shareAcrossTabs: true });
      await tick();
      const follower = client({ tabSharing: browser, shareAcrossTabs: true });
      await tick();
      expect(leader.status.role).toBe('leader');
      expect(follower.status.role).toBe('follower');
      expect(FakeEventSource.instances).toHaveLength(1);
      expect(sockets.sockets).toHaveLength(1);

      const seen: Array<[string, string]> = [];
      follower.on('message-received', (item, meta) => seen.push([item.data.content, meta.channel]));
      FakeEventSource.last.open();
      sockets.last.accept();
      FakeEventSource.last.emit('message-received', notification('5-0', 'message-received', { content: 'hi' }), '5-0');
      await tick();
      expect(seen).toEqual([['hi', 'sse']]);
      expect(follower.status.channels.sse.state).toBe('open');

      sockets.last.ack = (event) => (event === 'chat' ? { ok: true, id: 'm1' } : { ok: true, members: ['u1'] });
      const sent = follower.emit('chat', { recipientId: 'u2', content: 'psst' });
      await tick();
      expect(await sent).toEqual({ ok: true, id: 'm1' });
      expect(sockets.last.emitted).toContainEqual(['chat', { recipientId: 'u2', content: 'psst' }]);
    });

    it('shows room events only in the tabs that joined the room', async () => {
      const browser = fakeBrowser();
      const leader = client({ tabSharing: browser, shareAcrossTabs: true });
      await tick();
      const follower = client({ tabSharing: browser, shareAcrossTabs: true });
      await tick();
      sockets.last.accept();
      sockets.last.ack = () => ({ ok: true, members: ['u1'] });
      const joined = follower.joinRoom('team-7');
      await tick();
      expect(await joined).toEqual({ ok: true, members: ['u1'] });
      expect(sockets.last.emitted).toContainEqual(['room:join', { roomId: 'team-7' }]);

      const inLeader: unknown[] = [];
      const inFollower: unknown[] = [];
      leader.onSocket('chat', (message) => inLeader.push(message));
      follower.onSocket('chat', (message) => inFollower.push(message));
      sockets.last.fire('chat', { id: 'c1', roomId: 'team-7', from: 'u2', content: 'yo', timestamp: 't' });
      sockets.last.fire('chat', { id: 'c2', from: 'u2', content: 'direct', timestamp: 't' });
      await tick();
      expect(inFollower).toHaveLength(2);
      expect(inLeader).toEqual([{ id: 'c2', from: 'u2', content: 'direct', timestamp: 't' }]);
    });

    it('lets the next tab take over when the leader closes, resuming after the last id it saw', async () => {
      const browser = fakeBrowser();
      const { fetch, calls } = fakeFetch(() => ({ status: 200 }));
      const leader = client({ tabSharing: browser, shareAcrossTabs: true, fetch });
      await tick();
      const follower = client({ tabSharing: browser, shareAcrossTabs: true, fetch });
      await tick();
      FakeEventSource.last.open();
      FakeEventSource.last.emit('job-match', notification('8-0'), '8-0');
      await tick();
      expect(follower.lastEventId).toBe('8-0');

      leader.close();
      await tick();
      expect(follower.status.role).toBe('leader');
      expect(FakeEventSource.instances).toHaveLength(2);
      expect(FakeEventSource.instances[0].closed).toBe(true);
      expect(await sseResumeId(FakeEventSource.last, calls)).toBe('8-0');
    });

    it('gives each user of the same browser connections of their own', async () => {
      const browser = fakeBrowser();
      const alice = client({ tabSharing: browser, shareAcrossTabs: true, token: fakeJwt('alice') });
      const bob = client({ tabSharing: browser, shareAcrossTabs: true, token: fakeJwt('bob') });
      await tick();
      expect([alice.status.role, bob.status.role]).toEqual(['leader', 'leader']);
      expect(FakeEventSource.instances).toHaveLength(2);
    });
  });
});
