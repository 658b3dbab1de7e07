import type { InboxHeard, LogicalClient, Segment } from './client';
import { canonicalId, compareIds } from './cursor';
import { type Fleet, userToken } from './fleet';
import { definedReadUpTo, describeRead, expectedInbox, type InboxRead, readsOf } from './inbox-truth';
import { type CheckContext, outage } from './verdict';

/*
 * The inbox side of the invariant (issue 16), once the schedule has settled,
 * for each user: `GET /api/notifications/unread` is the count the truth gives
 * (inbox-truth.ts); `GET /api/notifications` flags each retained entry as the
 * truth says; `readUpTo` is "0-0" or an id the user had, everything retained
 * up to it is read, it never moves back and moves only on reads (so it is the
 * newest a read answered when every read was answered), and right after a
 * last read that nothing followed it is exactly the contract's definition;
 * every read was answered (an error only in an outage). Each SSE and
 * Socket.IO connection heard `inbox` first, before any notification or reset,
 * never a `readUpTo` going back, and each still open ends on the final state.
 */

interface InboxState {
  unread: number;
  readUpTo: string;
}

/** `GET /api/notifications/unread` as the user, on a gateway that is up; a string says why there is no answer. */
export async function fetchInbox(fleet: Fleet, user: string): Promise<InboxState | string> {
  const answer = await getJson(fleet, user, '/api/notifications/unread');
  if (typeof answer === 'string') return answer;
  const { unread, readUpTo } = answer as Partial<InboxState>;
  return typeof unread === 'number' && typeof readUpTo === 'string' ? { unread, readUpTo } : `not { unread, readUpTo }: ${JSON.stringify(answer).slice(0, 160)}`;
}

/** The connection of the client that is open now and established, if any: the one that must end on the final state. */
export function liveSegment(client: LogicalClient): Segment | null {
  if (client.kind === 'rest-polling' || client.closed || client.dead !== null) return null;
  const segment = client.current;
  return segment && segment.establishedAt !== null && segment.refused === null && segment.end === null ? segment : null;
}

const same = (heard: InboxHeard | undefined, state: InboxState) => heard !== undefined && heard.unread === state.unread && heard.readUpTo === state.readUpTo;

/** For the settle loop: why some open connection has not heard the user's current state yet, or null. */
export async function inboxUnsettled(ctx: CheckContext, clients: LogicalClient[]): Promise<string | null> {
  for (const user of ctx.users) {
    const live = clients.filter((client) => client.user === user && liveSegment(client) !== null);
    if (live.length === 0) continue;
    const state = await fetchInbox(ctx.fleet, user);
    if (typeof state === 'string') return `inbox of ${user} unknown: ${state}`;
    const behind = live.find((client) => !same(liveSegment(client)?.inbox.at(-1), state));
    if (behind) return `inbox not settled: ${behind.name}`;
  }
  return null;
}

export async function checkInbox(ctx: CheckContext, clients: LogicalClient[]): Promise<string[]> {
  const problems: string[] = [];
  for (const user of ctx.users) {
    const say = (problem: string) => problems.push(`inbox of ${user}: ${problem}`);
    const held = await ctx.truth.stream(user);
    const state = await fetchInbox(ctx.fleet, user);
    const page = await getJson(ctx.fleet, user, '/api/notifications?limit=200');
    const reads = readsOf(ctx.truth, user);
    reads.forEach((read) => judgeRead(ctx, read, say));
    if (typeof state === 'string') {
      say(`GET /api/notifications/unread: ${state}`);
      continue;
    }
    const expected = expectedInbox(ctx.truth, user, held);
    const truthSays = (wanted: string) => expected.statuses.filter(([, status]) => status === wanted).map(([id]) => id);
    if (state.unread < expected.min || state.unread > expected.max) {
      const maybe = truthSays('maybe');
      say(`unread is ${state.unread}; the truth says ${expected.min}${maybe.length > 0 ? `..${expected.max} (either for ${maybe.join(', ')})` : ''}: unread [${truthSays('unread').join(', ')}] of the ${held.length} retained`);
    }
    const ever = ctx.truth.items(user).map((item) => item.id);
    const valid = state.readUpTo === '0-0' || ever.includes(state.readUpTo);
    if (!valid) say(`readUpTo ${state.readUpTo} is neither "0-0" nor an id the user had`);
    const below = valid ? expected.statuses.filter(([id, status]) => compareIds(id, state.readUpTo) <= 0 && status === 'unread').map(([id]) => id) : [];
    if (below.length > 0) say(`readUpTo ${state.readUpTo}, yet the truth says [${below.join(', ')}] at or below it are unread`);
    checkFlags(page, held, expected.statuses, state, say);
    if (valid) checkReadUpTo(ctx, user, reads, expected.statuses, state, say);
    for (const client of clients.filter((candidate) => candidate.user === user && candidate.kind !== 'rest-polling')) {
      const live = liveSegment(client);
      for (const segment of client.segments) judgeHeard(client, segment, segment === live, state, valid, say);
    }
  }
  return problems;
}

/** `GET /api/notifications?limit=200`: the retained entries, each `read` as the truth says; as many unread as the count. */
function checkFlags(page: unknown, held: string[], statuses: Array<[string, string]>, state: InboxState, say: (problem: string) => void): void {
  const items = typeof page === 'object' && page !== null && Array.isArray((page as { items?: unknown }).items) ? (page as { items: Array<{ id?: unknown; read?: unknown }> }).items : null;
  if (items === null) return say(`GET /api/notifications?limit=200: ${typeof page === 'string' ? page : `no items: ${JSON.stringify(page).slice(0, 160)}`}`);
  const listed = items.map((item) => String(item.id));
  if (listed.join(',') !== held.join(',')) return say(`GET /api/notifications?limit=200 listed [${listed.join(', ')}], Redis holds [${held.join(', ')}]`);
  const wrong = new Map<string, string[]>();
  items.forEach((item, i) => {
    const [id, status] = statuses[i];
    const what = typeof item.read !== 'boolean' ? `listed with read ${JSON.stringify(item.read)}, not true or false` : status !== 'maybe' && item.read !== (status === 'read') ? `listed read: ${item.read}, the truth says ${status}` : null;
    if (what !== null) wrong.set(what, [...(wrong.get(what) ?? []), id]);
  });
  for (const [what, ids] of wrong) say(`${what}: [${ids.join(', ')}]`);
  const unreadListed = items.filter((item) => item.read === false).length;
  if (unreadListed !== state.unread) say(`GET /api/notifications lists ${unreadListed} unread, GET /api/notifications/unread says ${state.unread}`);
}

/** readUpTo moves only on reads, never back: the answers bound it; after a last read nothing followed, it is the definition. */
function checkReadUpTo(ctx: CheckContext, user: string, reads: InboxRead[], statuses: Array<[string, 'read' | 'unread' | 'maybe']>, state: InboxState, say: (problem: string) => void): void {
  let newest = '0-0';
  for (const read of reads) {
    if (read.outcome.kind !== 'ok') continue;
    const answered = canonicalId(read.outcome.readUpTo);
    if (answered === null) {
      say(`a read answered readUpTo ${read.outcome.readUpTo}, not an id: ${describeRead(read)}`);
      continue;
    }
    if (compareIds(answered, newest) < 0) say(`readUpTo went back from ${newest} to ${answered}: ${describeRead(read)}`);
    newest = compareIds(answered, newest) > 0 ? answered : newest;
  }
  const settled = reads.every((read) => read.outcome.kind === 'ok');
  if (settled ? state.readUpTo !== newest : compareIds(state.readUpTo, newest) < 0) {
    say(`readUpTo is ${state.readUpTo}; ${reads.length === 0 ? 'no read was made' : `the reads answered up to ${newest}`}${settled ? ', and only a read moves it' : ', and it never moves back'}`);
  }
  const last = reads[reads.length - 1];
  // Quiet after the last read (every entry stored before it was sent): the state is what it answered, and the definition.
  if (last?.outcome.kind !== 'ok' || !ctx.truth.items(user).every((item) => item.seenAt < last.sentAt)) return;
  if (last.outcome.unread !== state.unread || last.outcome.readUpTo !== state.readUpTo) {
    say(`nothing happened after the last read, which answered {unread: ${last.outcome.unread}, readUpTo: ${last.outcome.readUpTo}}, yet the state is {unread: ${state.unread}, readUpTo: ${state.readUpTo}}`);
  }
  if (statuses.some(([, status]) => status === 'maybe')) return;
  const defined = definedReadUpTo(statuses);
  if (defined !== null ? state.readUpTo !== defined : statuses.length > 0 && compareIds(state.readUpTo, statuses[0][0]) >= 0) {
    say(`readUpTo is ${state.readUpTo} after the last read; the definition gives ${defined ?? `an id below the oldest retained ${statuses[0][0]}`}`);
  }
}

/** A read is answered; an error (503, no answer) only while its gateway was not serving normally. */
function judgeRead(ctx: CheckContext, read: InboxRead, say: (problem: string) => void): void {
  if (read.outcome.kind === 'ok') return;
  const error = read.outcome.kind === 'error' ? read.outcome.error : 'never answered';
  const transient = /^(503|unavailable|shutting_down|no gateway|fetch failed|operation has timed out|the operation was aborted|socket hang up|ECONN|the socket of .* did not connect)/i.test(error);
  const why = read.route ? outage(ctx, read.route, read.answeredAt ?? read.sentAt) : 'no gateway was up';
  if (!transient || why === null) say(`read answered ${error}${transient ? ' by a gateway serving normally' : ''}: ${describeRead(read)}`);
}

/** `inbox` first on every connection, well formed, never going back; the last of an open one is the final state. */
function judgeHeard(client: LogicalClient, segment: Segment, live: boolean, state: InboxState, valid: boolean, say: (problem: string) => void): void {
  const at = (problem: string) => say(`${client.name} (${client.kind}) segment ${segment.index} on g${segment.route.index}: ${problem}`);
  const first = segment.received.find((event) => event.kind !== 'bad');
  if (first !== undefined && !(segment.inbox.length > 0 && segment.inbox[0].before === 0)) {
    at(`its first event was ${first.kind === 'item' ? `${first.id} (seq=${first.seq})` : `a reset (${first.reason})`}, not inbox`);
  }
  let previous = '0-0';
  for (const heard of segment.inbox) {
    if (heard.bad) at(`inbox ${heard.bad}`);
    const id = canonicalId(heard.readUpTo);
    if (id === null) continue;
    if (compareIds(id, previous) < 0) at(`inbox readUpTo went back from ${previous} to ${heard.readUpTo}`);
    else if (valid && compareIds(id, state.readUpTo) > 0) at(`inbox readUpTo ${heard.readUpTo} is past the final ${state.readUpTo}`);
    previous = compareIds(id, previous) > 0 ? id : previous;
  }
  if (live && !same(segment.inbox.at(-1), state)) {
    const last = segment.inbox.at(-1);
    at(`open, its last inbox is ${last ? `{unread: ${last.unread}, readUpTo: ${last.readUpTo}}` : 'none'}, the state is {unread: ${state.unread}, readUpTo: ${state.readUpTo}} (inbox not settled)`);
  }
}

async function getJson(fleet: Fleet, user: string, path: string): Promise<unknown> {
  let failure = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const route = fleet.route(attempt % 2);
    if (route === null) {
      failure = 'no gateway up';
      continue;
    }
    try {
      const response = await fetch(`${route.url}${path}`, { headers: { Authorization: `Bearer ${userToken(user)}` }, signal: AbortSignal.timeout(5_000) });
      const text = await response.text();
      if (response.status === 200) return JSON.parse(text) as unknown;
      failure = `${response.status} ${text.slice(0, 160)}`;
    } catch (error) {
      failure = (error as Error).message;
    }
  }
  return failure;
}
