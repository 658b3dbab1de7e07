import { fakeFetch, fakeJwt, notification, recordingContext, settle, topicEvent } from '../test/fakes';
import { POLL_PAGE_SIZE, PollingTransport, readHistoryHead } from './polling-transport';
import { TokenSource } from './token-source';

const page = (from: number, count: number) => Array.from({ length: count }, (_, i) => notification(`${from + i}-0`));
/** The history reads among a fake fetch's calls (each round ends with a read of the inbox state besides). */
const pageReads = (calls: ReturnType<typeof fakeFetch>['calls']) => calls.filter((call) => call.url.pathname === '/api/notifications');

describe('PollingTransport', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] }));
  afterEach(() => jest.useRealTimers());

  it('polls after the last id, reads on at once while pages are full, then waits the interval', async () => {
    const history = page(1, POLL_PAGE_SIZE + 3);
    const { fetch, calls } = fakeFetch((url) => {
      const after = url.searchParams.get('after');
      const start = after === null ? 0 : history.findIndex((item) => item.id === after) + 1;
      const items = history.slice(start, start + Number(url.searchParams.get('limit')));
      return { status: 200, body: { items, lastId: items.at(-1)?.id ?? after } };
    });
    const recorded = recordingContext({ fetch, lastEventId: '0' });
    new PollingTransport(recorded.context, { intervalMs: 2_000 }).start();
    await jest.advanceTimersByTimeAsync(10);
    expect(recorded.delivered).toHaveLength(POLL_PAGE_SIZE + 3);
    expect(pageReads(calls).map((call) => call.url.searchParams.get('after'))).toEqual(['0-0', `${POLL_PAGE_SIZE}-0`]);
    expect(calls[0].init.headers).toMatchObject({ Authorization: expect.stringMatching(/^Bearer /) });
    expect(recorded.reports).toEqual(['connecting', 'open']);
    await jest.advanceTimersByTimeAsync(1_980);
    expect(pageReads(calls)).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(20);
    expect(pageReads(calls)).toHaveLength(3);
  });

  it('backs off exponentially with jitter while the gateway is away, and reports open again once it answers', async () => {
    let up = false;
    const { fetch, calls } = fakeFetch(() => (up ? { status: 200, body: { items: [], lastId: '0-0' } } : { status: 503, body: {} }));
    const recorded = recordingContext({ fetch, lastEventId: '0' });
    new PollingTransport(recorded.context, { intervalMs: 2_000 }).start();
    await jest.advanceTimersByTimeAsync(10);
    expect(calls).toHaveLength(1);
    // random() is 0: 500, 1000, 2000 ms.
    await jest.advanceTimersByTimeAsync(500);
    expect(calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(3);
    up = true;
    await jest.advanceTimersByTimeAsync(2_000);
    expect(pageReads(calls)).toHaveLength(4);
    expect(recorded.reports).toEqual(['connecting', 'lost: HTTP 503', 'lost: HTTP 503', 'lost: HTTP 503', 'open']);
  });

  it('asks for a fresh token after a 401 and polls again with it', async () => {
    const tokens = [fakeJwt('u1', 10), fakeJwt('u1', 20)];
    const getToken = jest.fn(() => tokens.shift() as string);
    // The first token is refused, the fresh one accepted.
    const { fetch, calls } = fakeFetch(() =>
      calls.length === 1 ? { status: 401, body: { message: 'invalid or expired user token' } } : { status: 200, body: { items: [notification('5-0')], lastId: '5-0' } },
    );
    const recorded = recordingContext({ tokens: new TokenSource({ getToken }), fetch, lastEventId: '0' });
    new PollingTransport(recorded.context, { intervalMs: 2_000 }).start();
    await jest.advanceTimersByTimeAsync(10);
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(pageReads(calls)).toHaveLength(2);
    expect((calls[1].init.headers as Record<string, string>).Authorization).not.toBe((calls[0].init.headers as Record<string, string>).Authorization);
    expect(recorded.delivered.map((item) => item.id)).toEqual(['5-0']);
  });

  it('stops polling when stopped, even in the middle of a pause', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: { items: [], lastId: null } }));
    const recorded = recordingContext({ fetch, lastEventId: '0' });
    const transport = new PollingTransport(recorded.context, { intervalMs: 2_000 });
    transport.start();
    await jest.advanceTimersByTimeAsync(10);
    transport.stop();
    expect(transport.running).toBe(false);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(pageReads(calls)).toHaveLength(1);
    expect(calls).toHaveLength(2);
  });

  it('reads the inbox state once it has caught up, every round, and hands over only a state', async () => {
    let unread = 3;
    const { fetch, calls } = fakeFetch((url) =>
      url.pathname === '/api/notifications/unread' ? { status: 200, body: { unread, readUpTo: '2-0' } } : { status: 200, body: { items: page(1, 2), lastId: '2-0' } },
    );
    const recorded = recordingContext({ fetch, lastEventId: '0' });
    new PollingTransport(recorded.context, { intervalMs: 1_000 }).start();
    await jest.advanceTimersByTimeAsync(10);
    expect(calls.map((call) => call.url.pathname)).toEqual(['/api/notifications', '/api/notifications/unread']);
    expect(calls[1].init.headers).toMatchObject({ Authorization: expect.stringMatching(/^Bearer /) });
    expect(recorded.inbox).toEqual([{ unread: 3, readUpTo: '2-0' }]);
    unread = 1;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(recorded.inbox).toEqual([
      { unread: 3, readUpTo: '2-0' },
      { unread: 1, readUpTo: '2-0' },
    ]);
  });

  it('polls on when the gateway has no inbox state to give (an older one answers 404)', async () => {
    const { fetch, calls } = fakeFetch((url) =>
      url.pathname === '/api/notifications/unread' ? { status: 404, body: { statusCode: 404 } } : { status: 200, body: { items: [], lastId: '0-0' } },
    );
    const recorded = recordingContext({ fetch, lastEventId: '0' });
    new PollingTransport(recorded.context, { intervalMs: 1_000 }).start();
    await jest.advanceTimersByTimeAsync(1_010);
    expect(pageReads(calls)).toHaveLength(2);
    expect(recorded.inbox).toEqual([]);
    expect(recorded.reports).toEqual(['connecting', 'open']);
  });
});

describe('PollingTransport with topics', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] }));
  afterEach(() => jest.useRealTimers());

  it('polls each topic after the client\'s last id in it, beside the notifications, and delivers each event once', async () => {
    const topic = [topicEvent('jobs.new', '6-0'), topicEvent('jobs.new', '7-0')];
    const { fetch, calls } = fakeFetch((url) => {
      if (url.pathname === '/api/notifications') return { status: 200, body: { items: [], lastId: '0-0' } };
      const after = url.searchParams.get('after');
      const items = topic.filter((event) => after === null || Number(event.id.split('-')[0]) > Number(after.split('-')[0]));
      return { status: 200, body: { items, lastId: items.at(-1)?.id ?? after } };
    });
    const recorded = recordingContext({ fetch, lastEventId: '0' });
    await recorded.follow('jobs.new', '5-0');
    new PollingTransport(recorded.context, { intervalMs: 1_000 }).start();
    await jest.advanceTimersByTimeAsync(10);
    topic.push(topicEvent('jobs.new', '8-0'));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(calls.filter((call) => call.url.pathname === '/api/topics/jobs.new/events').map((call) => call.url.searchParams.get('after'))).toEqual(['5-0', '7-0']);
    expect(recorded.topicEvents.map((event) => event.id)).toEqual(['6-0', '7-0', '8-0']);
  });

  it('reports a topic it may not poll (403) as forbidden, and polls on without it', async () => {
    const { fetch, calls } = fakeFetch((url) =>
      url.pathname.startsWith('/api/topics/') ? { status: 403, body: { statusCode: 403, message: 'not allowed to follow topic scores.x' } } : { status: 200, body: { items: [], lastId: '0-0' } },
    );
    const recorded = recordingContext({ fetch, lastEventId: '0' });
    await recorded.follow('scores.x', '1-0');
    new PollingTransport(recorded.context, { intervalMs: 1_000 }).start();
    await jest.advanceTimersByTimeAsync(2_500);
    expect(recorded.refused).toEqual([['scores.x', 'forbidden']]);
    expect(calls.filter((call) => call.url.pathname.startsWith('/api/topics/'))).toHaveLength(1);
    expect(recorded.reports).toEqual(['connecting', 'open']);
  });
});

describe('readHistoryHead', () => {
  it('pages to the newest retained id without delivering anything', async () => {
    const history = page(1, POLL_PAGE_SIZE * 2 + 5);
    const { fetch, calls } = fakeFetch((url) => {
      const after = url.searchParams.get('after');
      const start = after === null ? 0 : history.findIndex((item) => item.id === after) + 1;
      const items = history.slice(start, start + POLL_PAGE_SIZE);
      return { status: 200, body: { items, lastId: items.at(-1)?.id ?? after } };
    });
    const recorded = recordingContext({ fetch });
    expect(await readHistoryHead(recorded.context)).toBe(`${POLL_PAGE_SIZE * 2 + 5}-0`);
    expect(calls).toHaveLength(3);
    expect(recorded.delivered).toEqual([]);
  });

  it('is "0" for an empty history, so that everything from now on is replayed after a drop', async () => {
    const { fetch } = fakeFetch(() => ({ status: 200, body: { items: [], lastId: null } }));
    expect(await readHistoryHead(recordingContext({ fetch }).context)).toBe('0');
    await settle();
  });
});
