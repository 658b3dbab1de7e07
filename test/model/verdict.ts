import type { LogicalClient, Received, Segment } from './client';
import { canonicalId, type CursorClass, classify, compareIds, describeCursor, label } from './cursor';
import { checkPolls } from './polls';
import type { Fleet, Route } from './fleet';
import type { Truth } from './truth';

/*
 * The invariant, per logical client: each connection (segment) received
 * exactly the user's accepted sequence after its cursor, or a `reset` and then
 * a contiguous run of it; nothing twice, nothing out of order, nothing of
 * another user; across reconnects the whole stream never goes back; the last
 * open connection has everything. Time only ever widens what is allowed: a
 * notification "may be stored by t" once its publish was sent before t, and
 * "was stored before t" once the monitor had it before t.
 */

export interface CheckContext {
  truth: Truth;
  fleet: Fleet;
  users: string[];
  historyMax: number;
}

/** Why a gateway may have refused or dropped something at `t`, or null: it was serving normally. */
export function outage(ctx: CheckContext, route: Route, t: number): string | null {
  if (route.index < 0) return 'no gateway was up';
  const stop = ctx.fleet.stops.get(route.generation);
  if (stop && stop.at <= t + 5) return `g${route.index} got ${stop.signal}`;
  if (ctx.fleet.subscriberKills.some((kill) => kill.at <= t + 5 && t <= kill.back)) return 'a subscriber was just killed';
  return null;
}

export function checkClient(ctx: CheckContext, client: LogicalClient): string[] {
  const problems: string[] = [];
  if (client.kind === 'rest-polling') checkPolls(ctx, client, problems);
  else {
    const final = client.closed || client.dead !== null ? null : client.current;
    for (const segment of client.segments) checkSegment(ctx, client, segment, segment === final, problems);
    checkConcatenation(ctx, client, problems);
  }
  return problems.map((problem) => `${client.name} (${client.kind}, ${client.user}): ${problem}`);
}

/** Why the client has not caught up yet (the settle loop waits on it), or null. */
export function lagging(ctx: CheckContext, client: LogicalClient): string | null {
  if (client.closed || client.dead !== null) return null;
  const items = ctx.truth.items(client.user);
  if (client.kind === 'rest-polling') {
    const last = [...client.polls].reverse().find((poll) => poll.status === 200);
    const newest = items.length > 0 ? items[items.length - 1].id : null;
    return last && (newest === null || last.lastId === newest) ? null : `polling not at ${newest}`;
  }
  const segment = client.current;
  if (!segment || segment.establishedAt === null || segment.end !== null) return 'not connected';
  return missing(ctx, client, segment);
}

function checkSegment(ctx: CheckContext, client: LogicalClient, segment: Segment, final: boolean, problems: string[]): void {
  const cls = classify(ctx.truth, client.user, otherUsers(ctx, client), segment.cursor, segment.via);
  const at = `segment ${segment.index} on g${segment.route.index} with ${describeCursor(segment.cursor, cls)} via ${segment.via ?? '-'}`;
  const say = (problem: string) => problems.push(`${at}: ${problem}`);
  if (segment.refused !== null) return judgeRefusal(ctx, segment, cls, say);
  if (segment.establishedAt === null) return;
  if (cls.kind === 'malformed') say(`a malformed cursor in ${segment.via} was accepted (contract: 400 / connect_error bad_cursor)`);
  judgeEnd(ctx, client, segment, say);
  judgeItems(ctx, client, segment.received, say, false);
  judgeSequence(ctx, client, segment, cls, say, final);
  if (final) {
    const lag = missing(ctx, client, segment);
    if (lag) say(`never caught up: ${lag}`);
  }
}

function judgeRefusal(ctx: CheckContext, segment: Segment, cls: CursorClass, say: (problem: string) => void): void {
  const refused = segment.refused as string;
  if (cls.kind === 'malformed') {
    const expected = segment.via === 'auth' ? 'bad_cursor' : '400';
    if (refused !== expected) say(`refused with ${refused}; the contract says ${expected}`);
    return;
  }
  const why = outage(ctx, segment.route, segment.endedAt ?? segment.openedAt);
  const transient = /^(503|shutting_down|ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|xhr poll error|websocket error|timeout|fetch failed|no gateway|transport close|transport error)/.test(refused);
  if (!transient) say(`refused with ${refused}`);
  else if (why === null) say(`refused with ${refused} by a gateway serving normally`);
}

/** A connection the server ended must be explained: a stalled reader, an instance the harness stopped. */
function judgeEnd(ctx: CheckContext, client: LogicalClient, segment: Segment, say: (problem: string) => void): void {
  if (segment.end === null || segment.end === 'client') return;
  if (segment.end === 'server-disconnect') return say('the server called disconnect() (stock clients do not come back)');
  const stop = ctx.fleet.stops.get(segment.route.generation);
  const stopped = stop !== undefined && stop.at <= (segment.endedAt as number) + 5;
  if (stopped && stop.signal === 'SIGTERM' && client.kind === 'sse' && !segment.paused && segment.end !== 'server-retry') {
    return say(`SIGTERM ended the stream without a final retry: (${segment.end}${segment.endDetail ? `: ${segment.endDetail}` : ''})`);
  }
  if (stopped || segment.paused) return;
  say(`the server ended the connection while its reader kept reading and the instance was serving (${segment.end}${segment.endDetail ? `: ${segment.endDetail}` : ''}, after ${segment.received.length} events)`);
}

/** Each notification: this user's, really published, same payload, in order, no repeat (gaps: see judgeSequence). */
export function judgeItems(ctx: CheckContext, client: LogicalClient, received: Received[], say: (problem: string) => void, gaps: boolean): void {
  const items = ctx.truth.items(client.user);
  let previous = -1;
  for (const event of received) {
    if (event.kind === 'bad') say(`malformed frame: ${event.text}`);
    if (event.kind === 'reset' && event.reason !== 'history-truncated' && event.reason !== 'unknown-cursor') say(`reset with an unknown reason ${event.reason}`);
    if (event.kind !== 'item') continue;
    if (event.userId !== client.user) say(`received ${event.id} of user ${JSON.stringify(event.userId)}`);
    const index = ctx.truth.indexOf(client.user, event.id);
    if (index < 0) {
      const owner = ctx.users.find((user) => ctx.truth.indexOf(user, event.id) >= 0);
      say(owner ? `received ${event.id}, a notification of ${owner}` : `received ${event.id} (seq=${event.seq}), never accepted for this user`);
      continue;
    }
    if (items[index].seq !== event.seq) say(`${event.id} carries seq=${event.seq}, the accepted one seq=${items[index].seq}`);
    if (previous >= 0 && index <= previous) say(index === previous ? `duplicate ${label(items, index)}` : `out of order: ${label(items, index)} after ${label(items, previous)}`);
    else if (gaps && previous >= 0 && index > previous + 1) say(`gap: ${index - previous - 1} missing between ${label(items, previous)} and ${label(items, index)}`);
    previous = Math.max(previous, index);
  }
}

/** The user's own positions: an id of theirs (its index), or `0-0` (-1); null for anything else. */
function ownIndex(ctx: CheckContext, user: string, id: string | undefined | null): number | null {
  if (id === undefined || id === null) return null;
  if (id === '0-0') return -1;
  const index = ctx.truth.indexOf(user, id);
  return index >= 0 ? index : null;
}

/**
 * Walks the segment's events with "the index the next notification must
 * have": from the cursor (own id, `0-0`), the opening id, or a reset's id;
 * every reset must be one the contract calls for, and say where it continues.
 * Returns the index after which the stream stands at its end (null: unknown).
 */
function judgeSequence(ctx: CheckContext, client: LogicalClient, segment: Segment, cls: CursorClass, say: (problem: string) => void, final: boolean): number | null {
  const items = ctx.truth.items(client.user);
  const trimmedBy = (t: number) => Math.max(0, ctx.truth.mayBeStoredBy(client.user, t) - ctx.historyMax);
  const newestAtOpen = ctx.truth.storedBefore(client.user, segment.openedAt);
  const opening = ownIndex(ctx, client.user, segment.position);
  if (segment.position !== null && opening === null) {
    say(`the stream's opening id ${segment.position} is not a position of this user${segment.position === segment.cursor ? ' (the cursor, echoed)' : ''}`);
  }
  // `at`: the index of the position the stream stands after (null: not known).
  let at: number | null = cls.kind === 'own' ? cls.index : cls.kind === 'beginning' ? -1 : opening;
  let lowest = cls.kind === 'none' || cls.kind === 'unknown' ? newestAtOpen : 0;
  let loose: { from: number; upTo: number } | null = null; // after a reset that does not say where it continues
  const needsReset = cls.kind === 'unknown' || cls.kind === 'malformed';
  if (cls.kind === 'none' && opening !== null && opening + 1 < newestAtOpen) say(`opens after ${segment.position}, older than the newest position ${label(items, newestAtOpen - 1)}`);
  const established = segment.establishedAt ?? Infinity;
  const firstMust = items.findIndex((item) => (ctx.truth.sentAtOf(item) ?? -Infinity) > established);
  // Where the client stood before anything came: its own cursor, or (without one) the opening id; what a first reset is judged
  // against (after an unknown cursor, the opening id already says where the reset goes).
  const cursorAt = cls.kind === 'own' ? cls.index : cls.kind === 'beginning' ? -1 : cls.kind === 'none' ? opening : null;
  segment.received.forEach((event, r) => {
    if (event.kind === 'reset') {
      const before = r === 0 ? cursorAt : at;
      if (event.reason === 'unknown-cursor' && !(needsReset && r === 0)) say(`reset unknown-cursor ${r === 0 ? `for ${cls.kind === 'none' ? 'a client without a cursor' : "the user's own position"}` : 'in the middle of the stream'}`);
      if (event.reason === 'history-truncated') {
        const foreignBelowTrim = cls.kind === 'unknown' && cls.why === 'foreign' && r === 0;
        if (needsReset && !foreignBelowTrim) say(`reset history-truncated where the contract says unknown-cursor`);
        // A client without a cursor starts at the newest position: never a reset there. Later (its subscriber
        // was away while it stalled and the history was trimmed past it) one is due, even as its first event.
        if (cls.kind === 'none' && r === 0 && event.position === segment.position) say('reset history-truncated for a client without a cursor');
        if (before !== null && before + 1 >= trimmedBy(event.at)) say(`reset history-truncated although ${label(items, before + 1)} was still retained`);
      }
      const position = ownIndex(ctx, client.user, event.position);
      if (event.position === undefined) {
        loose = { from: at === null ? lowest : at + 1, upTo: -1 };
        at = null;
        return;
      }
      if (position === null) return say(`reset ${event.reason} says it continues after ${event.position}, not a position of this user`);
      if (event.reason === 'unknown-cursor' && position + 1 < newestAtOpen) say(`continues after ${event.position}, older than the newest position ${label(items, newestAtOpen - 1)}`);
      if (event.reason === 'history-truncated' && before !== null && position < before) say(`reset history-truncated moves back from ${label(items, before)} to ${event.position}`);
      if (event.reason === 'history-truncated' && position + 1 > trimmedBy(event.at)) say(`reset history-truncated continues after ${event.position}, which was not trimmed`);
      if (event.reason === 'history-truncated' && needsReset && position >= 0 && compareIds(canonicalId(segment.cursor as string) ?? '0-0', items[position].id) >= 0) {
        say(`reset history-truncated for a cursor that is not below the trimmed history (${event.position})`);
      }
      at = position;
      lowest = position + 1;
      return;
    }
    if (event.kind !== 'item') return;
    const k = ctx.truth.indexOf(client.user, event.id);
    if (k < 0) return;
    if (needsReset && !segment.received.slice(0, r).some((e) => e.kind === 'reset')) return; // reported once below
    if (at !== null && k > at + 1) say(`${k - at - 1} missing before ${label(items, k)} (the stream stood after ${at < 0 ? 'its beginning' : label(items, at)})`);
    else if (at !== null && k <= at && r === segment.received.findIndex((e) => e.kind === 'item')) say(`starts with ${label(items, k)}, at or before its position ${at < 0 ? '0-0' : label(items, at)}`);
    else if (at === null && loose !== null && (k < loose.from || k > Math.max(loose.from, trimmedBy(event.at)))) say(`after the reset it starts at ${label(items, k)}, not at the oldest retained`);
    else if (at === null && loose === null && k < lowest) say(`replayed ${label(items, k)}, stored before it connected`);
    else if (at === null && loose === null && firstMust >= 0 && k > firstMust) say(`missed ${label(items, firstMust)}, published after it connected`);
    loose = null;
    at = k;
  });
  // A connection closed before anything arrived proves nothing (over polling, the reset comes with the next poll).
  if (needsReset && segment.received[0]?.kind !== 'reset' && (segment.received.length > 0 || final)) {
    say('no reset first, for a cursor that is not a position of the user (contract: reset unknown-cursor)');
  }
  return at;
}

/** What the open segment still lacks: null when it has everything after where it stands. */
function missing(ctx: CheckContext, client: LogicalClient, segment: Segment): string | null {
  const items = ctx.truth.items(client.user);
  const cls = classify(ctx.truth, client.user, otherUsers(ctx, client), segment.cursor, segment.via);
  if ((cls.kind === 'unknown' || cls.kind === 'malformed') && segment.received.length === 0) return 'its reset has not come';
  if (items.length === 0) return null;
  const at = judgeSequence(ctx, client, segment, cls, () => undefined, false);
  if (at !== null) return at >= items.length - 1 ? null : `nothing after ${at < 0 ? 'its beginning' : label(items, at)} (up to ${label(items, items.length - 1)})`;
  // Where it stands is unknown (no position given, nothing received): everything sent after it was up.
  const established = segment.establishedAt ?? Infinity;
  const from = items.findIndex((item) => (ctx.truth.sentAtOf(item) ?? -Infinity) > established);
  return from < 0 ? null : `nothing of ${label(items, from)}..${label(items, items.length - 1)}, published after it connected`;
}

export function otherUsers(ctx: CheckContext, client: LogicalClient): string[] {
  return ctx.users.filter((user) => user !== client.user);
}

/** Across reconnects: never back, never twice. */
function checkConcatenation(ctx: CheckContext, client: LogicalClient, problems: string[]): void {
  const items = ctx.truth.items(client.user);
  let previous = -1;
  for (const segment of client.segments) {
    for (const event of segment.received) {
      if (event.kind !== 'item') continue;
      const index = ctx.truth.indexOf(client.user, event.id);
      if (index < 0) continue;
      if (index <= previous) {
        problems.push(`segment ${segment.index}: ${label(items, index)} again after ${label(items, previous)} (across reconnects)`);
      }
      previous = Math.max(previous, index);
    }
  }
}

