import { fakeFetch, fakeJwt } from '../test/fakes';
import { Inbox, InboxError, type InboxOptions, type InboxState, MAX_READ_IDS } from './inbox';
import { TokenSource } from './token-source';

type Answer = { status: number; body?: unknown };

describe('Inbox', () => {
  /** An inbox on a fake gateway that answers reads from `answer`; records what it changed. */
  function setup(options: { answer?: (url: URL, body: unknown) => Answer | Promise<Answer>; lastEventId?: string | null; tokens?: TokenSource; socketRead?: InboxOptions['socketRead'] } = {}) {
    const gateway = fakeFetch((url, init) => (options.answer ?? (() => ({ status: 200, body: { unread: 0, readUpTo: '0-0' } })))(url, init.body === undefined ? undefined : JSON.parse(String(init.body))));
    const changed: InboxState[] = [];
    const inbox = new Inbox({
      baseUrl: 'http://gateway.test',
      tokens: options.tokens ?? new TokenSource({ token: fakeJwt('u1') }),
      fetch: gateway.fetch,
      lastEventId: () => (options.lastEventId === undefined ? '9-0' : options.lastEventId),
      socketRead: options.socketRead ?? (() => null),
      changed: (state) => changed.push(state),
    });
    const bodies = () => gateway.calls.map((call) => (call.init.body === undefined ? undefined : JSON.parse(String(call.init.body))));
    return { inbox, calls: gateway.calls, bodies, changed };
  }

  it('is unknown (0 unread, read up to 0-0) until told, then follows every pushed state, telling each change once', () => {
    const { inbox, changed } = setup();
    expect([inbox.known, inbox.unread, inbox.readUpTo]).toEqual([false, 0, '0-0']);
    const seen: InboxState[] = [];
    inbox.onChange((state) => seen.push(state));
    expect(seen).toEqual([]);
    inbox.receive({ unread: 3, readUpTo: '0-0' });
    inbox.receive({ unread: 3, readUpTo: '0-0' }); // the same state from the other channel
    inbox.receive({ unread: 1, readUpTo: '4-0' });
    expect([inbox.known, inbox.unread, inbox.readUpTo]).toEqual([true, 1, '4-0']);
    expect(seen).toEqual([
      { unread: 3, readUpTo: '0-0' },
      { unread: 1, readUpTo: '4-0' },
    ]);
    expect(changed).toEqual(seen);
  });

  it('calls a new handler at once with the known state, and no more after it unsubscribed', () => {
    const { inbox } = setup();
    inbox.receive({ unread: 2, readUpTo: '0-0' });
    const seen: number[] = [];
    const unsubscribe = inbox.onChange((state) => seen.push(state.unread));
    expect(seen).toEqual([2]);
    unsubscribe();
    inbox.receive({ unread: 5, readUpTo: '0-0' });
    expect(seen).toEqual([2]);
  });

  it('lets a throwing handler stop neither the others nor the state (the error is reported as uncaught)', () => {
    const { inbox } = setup();
    const reported = jest.spyOn(global, 'queueMicrotask').mockImplementation(() => undefined);
    try {
      const seen: number[] = [];
      inbox.onChange(() => {
        throw new Error('a broken view');
      });
      inbox.onChange((state) => seen.push(state.unread));
      inbox.receive({ unread: 7, readUpTo: '0-0' });
      expect(seen).toEqual([7]);
      expect(inbox.unread).toBe(7);
      expect(reported).toHaveBeenCalledTimes(1);
    } finally {
      reported.mockRestore();
    }
  });

  it('marks ids read with POST /api/notifications/read, canonical and once each, and takes the answer', async () => {
    const { inbox, calls, bodies } = setup({ answer: () => ({ status: 200, body: { unread: 1, readUpTo: '3-0' } }) });
    const seen: InboxState[] = [];
    inbox.onChange((state) => seen.push(state));
    expect(await inbox.markRead(['3-0', '2', '3-0'])).toEqual({ unread: 1, readUpTo: '3-0' });
    expect(calls).toHaveLength(1);
    expect(calls[0].url.href).toBe('http://gateway.test/api/notifications/read');
    expect(calls[0].init).toMatchObject({ method: 'POST', headers: { Authorization: expect.stringMatching(/^Bearer /), 'Content-Type': 'application/json' } });
    expect(bodies()).toEqual([{ ids: ['3-0', '2-0'] }]);
    expect(seen).toEqual([{ unread: 1, readUpTo: '3-0' }]);
    expect(inbox.unread).toBe(1);
  });

  it(`sends more than ${MAX_READ_IDS} ids ${MAX_READ_IDS} at a time, and resolves with the last answer`, async () => {
    let unread = 500;
    const { inbox, bodies } = setup({ answer: (_url, body) => ({ status: 200, body: { unread: (unread -= (body as { ids: string[] }).ids.length), readUpTo: '0-0' } }) });
    const ids = Array.from({ length: 450 }, (_, i) => `${i + 1}-0`);
    expect(await inbox.markRead(ids)).toEqual({ unread: 50, readUpTo: '0-0' });
    expect(bodies().map((body) => (body as { ids: string[] }).ids.length)).toEqual([200, 200, 50]);
    expect(bodies().flatMap((body) => (body as { ids: string[] }).ids)).toEqual(ids);
  });

  it('refuses what is not a notification id before asking the gateway', async () => {
    const { inbox, calls } = setup();
    await expect(inbox.markRead(['1-0', 'nope'])).rejects.toThrow(/ids\[1\] must be a notification id/);
    await expect(inbox.markRead('1-0' as unknown as string[])).rejects.toThrow(TypeError);
    expect(calls).toHaveLength(0);
  });

  it('reads the state instead when there is nothing to mark', async () => {
    const { inbox, calls } = setup({ answer: () => ({ status: 200, body: { unread: 4, readUpTo: '0-0' } }) });
    expect(await inbox.markRead([])).toEqual({ unread: 4, readUpTo: '0-0' });
    expect(calls.map((call) => [call.init.method, call.url.pathname])).toEqual([['GET', '/api/notifications/unread']]);
    expect(inbox.unread).toBe(4);
  });

  it('marks all read up to the newest notification the client has seen', async () => {
    const { inbox, bodies } = setup({ lastEventId: '9-0', answer: () => ({ status: 200, body: { unread: 0, readUpTo: '9-0' } }) });
    expect(await inbox.markAllRead()).toEqual({ unread: 0, readUpTo: '9-0' });
    expect(bodies()).toEqual([{ upTo: '9-0' }]);
  });

  it.each([[null], ['0-0']])('with no notification seen (position %p), marks nothing and reads the state', async (lastEventId) => {
    const { inbox, calls } = setup({ lastEventId, answer: () => ({ status: 200, body: { unread: 2, readUpTo: '0-0' } }) });
    expect(await inbox.markAllRead()).toEqual({ unread: 2, readUpTo: '0-0' });
    expect(calls.map((call) => call.url.pathname)).toEqual(['/api/notifications/unread']);
  });

  it('reads over the open socket when there is one, and over REST when its ack does not come', async () => {
    const emitted: unknown[] = [];
    let ack: unknown = { ok: true, unread: 2, readUpTo: '0-0' };
    const { inbox, calls, bodies } = setup({
      socketRead: () => async (payload) => {
        emitted.push(payload);
        return ack as never;
      },
      answer: () => ({ status: 200, body: { unread: 1, readUpTo: '5-0' } }),
    });
    expect(await inbox.markRead(['4-0'])).toEqual({ unread: 2, readUpTo: '0-0' });
    expect(emitted).toEqual([{ ids: ['4-0'] }]);
    expect(calls).toHaveLength(0);
    ack = { ok: false, error: 'timeout' };
    expect(await inbox.markAllRead()).toEqual({ unread: 1, readUpTo: '5-0' });
    expect(emitted).toEqual([{ ids: ['4-0'] }, { upTo: '9-0' }]);
    expect(bodies()).toEqual([{ upTo: '9-0' }]);
  });

  it('rejects a read the socket refuses as invalid, with the field it names, without trying REST', async () => {
    const { inbox, calls } = setup({ socketRead: () => async () => ({ ok: false, error: 'invalid_payload', field: 'upTo' }) });
    const error = await inbox.markAllRead().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InboxError);
    expect(error).toMatchObject({ field: 'upTo', status: null });
    expect(calls).toHaveLength(0);
  });

  it('rejects a refused read with an InboxError carrying the status and field, and keeps the state', async () => {
    const { inbox } = setup({ answer: () => ({ status: 400, body: { statusCode: 400, message: 'ids[0] must be a notification id', field: 'ids[0]' } }) });
    inbox.receive({ unread: 1, readUpTo: '0-0' });
    const error = await inbox.markRead(['1-0']).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InboxError);
    expect(error).toMatchObject({ status: 400, field: 'ids[0]', message: 'POST /api/notifications/read: ids[0] must be a notification id' });
    expect(inbox.state).toEqual({ unread: 1, readUpTo: '0-0' });
  });

  it('asks for a fresh token after a 401 and sends the read again with it', async () => {
    const tokens = [fakeJwt('u1', 10), fakeJwt('u1', 20)];
    const getToken = jest.fn(() => tokens.shift() as string);
    let attempts = 0;
    const { inbox, calls } = setup({
      tokens: new TokenSource({ getToken }),
      answer: () => (++attempts === 1 ? { status: 401, body: { message: 'invalid or expired user token' } } : { status: 200, body: { unread: 0, readUpTo: '9-0' } }),
    });
    expect(await inbox.markAllRead()).toEqual({ unread: 0, readUpTo: '9-0' });
    expect(getToken).toHaveBeenCalledTimes(2);
    const auth = calls.map((call) => (call.init.headers as Record<string, string>).Authorization);
    expect(auth[0]).not.toBe(auth[1]);
  });

  it('keeps a state pushed while a read was on its way: it may be newer than the answer, and the read\'s own push follows', async () => {
    let answer!: (value: Answer) => void;
    const { inbox } = setup({ answer: () => new Promise<Answer>((resolve) => (answer = resolve)) });
    inbox.receive({ unread: 2, readUpTo: '0-0' });
    const read = inbox.markRead(['1-0']);
    await new Promise((resolve) => setImmediate(resolve));
    // Meanwhile the read was done and a new notification came after it: the push says so, the answer does not.
    inbox.receive({ unread: 3, readUpTo: '0-0' });
    answer({ status: 200, body: { unread: 1, readUpTo: '1-0' } });
    expect(await read).toEqual({ unread: 1, readUpTo: '1-0' });
    expect(inbox.state).toEqual({ unread: 3, readUpTo: '0-0' });
  });

  it('takes the answer over a poll\'s state heard meanwhile: that poll may have been read before the read was done', async () => {
    let answer!: (value: Answer) => void;
    const { inbox } = setup({ answer: () => new Promise<Answer>((resolve) => (answer = resolve)) });
    inbox.receive({ unread: 2, readUpTo: '0-0' }, false);
    const read = inbox.markRead(['1-0']);
    await new Promise((resolve) => setImmediate(resolve));
    inbox.receive({ unread: 2, readUpTo: '0-0' }, false);
    answer({ status: 200, body: { unread: 1, readUpTo: '1-0' } });
    await read;
    expect(inbox.state).toEqual({ unread: 1, readUpTo: '1-0' });
  });
});
