import type { Received } from './client';
import { canonicalId, compareIds, label } from './cursor';
import type { Lane } from './lanes';
import type { CheckContext } from './verdict';

/*
 * The invariant for one stream of one connection (a Lane): exactly the
 * stream's accepted sequence after its cursor, or a `reset` the contract
 * calls for, that says where it continues, and then a contiguous run of it;
 * nothing twice, nothing out of order, nothing of another stream. Time only
 * ever widens what is allowed: an entry "may be stored by t" once its publish
 * was sent before t, and "was stored before t" once the monitor had it before t.
 */

/** The stream's history bound: HISTORY_MAX_PER_USER or TOPIC_HISTORY_MAX. */
export function bound(ctx: CheckContext, stream: string): number {
  return ctx.topics.includes(stream) ? ctx.topicHistoryMax : ctx.historyMax;
}

/** Each entry: this stream's, really published, same payload, in order, no repeat (gaps: see judgeSequence). */
export function judgeItems(ctx: CheckContext, stream: string, received: Received[], say: (problem: string) => void, gaps: boolean): void {
  const items = ctx.truth.items(stream);
  let previous = -1;
  for (const event of received) {
    if (event.kind === 'bad') say(`malformed frame: ${event.text}`);
    if (event.kind === 'reset' && event.reason !== 'history-truncated' && event.reason !== 'unknown-cursor') say(`reset with an unknown reason ${event.reason}`);
    if (event.kind !== 'item') continue;
    if (event.stream !== stream) say(`received ${event.id} of ${event.topic ? 'topic' : 'user'} ${JSON.stringify(event.stream)}`);
    const index = ctx.truth.indexOf(stream, event.id);
    if (index < 0) {
      const owner = [...ctx.users, ...ctx.topics].find((other) => ctx.truth.items(other).some((item) => item.id === event.id && item.seq === event.seq));
      say(owner ? `received ${event.id}, an entry of ${owner}` : `received ${event.id} (seq=${event.seq}), never accepted for this stream`);
      continue;
    }
    if (items[index].seq !== event.seq) say(`${event.id} carries seq=${event.seq}, the accepted one seq=${items[index].seq}`);
    if (previous >= 0 && index <= previous) say(index === previous ? `duplicate ${label(items, index)}` : `out of order: ${label(items, index)} after ${label(items, previous)}`);
    else if (gaps && previous >= 0 && index > previous + 1) say(`gap: ${index - previous - 1} missing between ${label(items, previous)} and ${label(items, index)}`);
    previous = Math.max(previous, index);
  }
}

/** The stream's own positions: an id of its (its index), or `0-0` (-1); null for anything else. */
function ownIndex(ctx: CheckContext, stream: string, id: string | undefined | null): number | null {
  if (id === undefined || id === null) return null;
  if (id === '0-0') return -1;
  const index = ctx.truth.indexOf(stream, id);
  return index >= 0 ? index : null;
}

/**
 * Walks the lane's events with "the index the next entry must have": from
 * the cursor (own id, `0-0`), the opening position, or a reset's position;
 * every reset must be one the contract calls for, and say where it continues.
 * Returns the index after which the stream stands at its end (null: unknown).
 */
export function judgeSequence(ctx: CheckContext, lane: Lane, say: (problem: string) => void): number | null {
  const { stream, cls } = lane;
  const items = ctx.truth.items(stream);
  const trimmedBy = (t: number) => Math.max(0, ctx.truth.mayBeStoredBy(stream, t) - bound(ctx, stream));
  const newestAtOpen = ctx.truth.storedBefore(stream, lane.openedAt);
  const opening = ownIndex(ctx, stream, lane.position);
  if (lane.position !== null && opening === null) {
    say(`the stream's opening position ${lane.position} is not a position of this stream${lane.position === lane.cursor ? ' (the cursor, echoed)' : ''}`);
  }
  // `at`: the index of the position the stream stands after (null: not known).
  let at: number | null = cls.kind === 'own' ? cls.index : cls.kind === 'beginning' ? -1 : opening;
  let lowest = cls.kind === 'none' || cls.kind === 'unknown' ? newestAtOpen : 0;
  let loose: { from: number; upTo: number } | null = null; // after a reset that does not say where it continues
  const needsReset = cls.kind === 'unknown' || cls.kind === 'malformed';
  if (cls.kind === 'none' && opening !== null && opening + 1 < newestAtOpen) say(`opens after ${lane.position}, older than the newest position ${label(items, newestAtOpen - 1)}`);
  // From its own position (or 0-0) a stream starts right there; only a reset (history-truncated) may say otherwise.
  const ownAt = cls.kind === 'own' ? cls.index : cls.kind === 'beginning' ? -1 : null;
  if (ownAt !== null && opening !== null && opening !== ownAt && lane.received[0]?.kind !== 'reset') {
    say(`opens after ${lane.position}, not after its cursor ${ownAt < 0 ? '0-0' : label(items, ownAt)}, and without a reset`);
  }
  const established = lane.establishedAt ?? Infinity;
  const firstMust = items.findIndex((item) => (ctx.truth.sentAtOf(item) ?? -Infinity) > established);
  // Where the client stood before anything came: its own cursor, or (without one) the opening position; what a first reset is
  // judged against (after an unknown cursor, the opening position already says where the reset goes).
  const cursorAt = cls.kind === 'own' ? cls.index : cls.kind === 'beginning' ? -1 : cls.kind === 'none' ? opening : null;
  // A real id that is not the stream's may be older than its trimmed history: that resumes after the trim with history-truncated.
  const cursorId = lane.cursor === null ? null : canonicalId(lane.cursor);
  lane.received.forEach((event, r) => {
    if (event.kind === 'reset') {
      const before = r === 0 ? cursorAt : at;
      if (event.reason === 'unknown-cursor' && !(needsReset && r === 0)) say(`reset unknown-cursor ${r === 0 ? `for ${cls.kind === 'none' ? 'a client without a cursor' : "the stream's own position"}` : 'in the middle of the stream'}`);
      if (event.reason === 'history-truncated') {
        // Only the first reset answers the cursor; a later one is judged by what was trimmed by then (a reader still
        // catching up, or back from a subscriber loss, may be trimmed past again).
        const belowTrim = cls.kind === 'unknown' && cursorId !== null;
        if (needsReset && r === 0 && !belowTrim) say(`reset history-truncated where the contract says unknown-cursor`);
        // A client without a cursor starts at the newest position: never a reset there. Later (its subscriber
        // was away while it stalled and the history was trimmed past it) one is due, even as its first event.
        if (cls.kind === 'none' && r === 0 && event.position === lane.position) say('reset history-truncated for a client without a cursor');
        if (before !== null && before + 1 >= trimmedBy(event.at)) say(`reset history-truncated although ${label(items, before + 1)} was still retained`);
      }
      const position = ownIndex(ctx, stream, event.position);
      if (event.position === undefined) {
        loose = { from: at === null ? lowest : at + 1, upTo: -1 };
        at = null;
        return;
      }
      if (position === null) return say(`reset ${event.reason} says it continues after ${event.position}, not a position of this stream`);
      if (event.reason === 'unknown-cursor' && position + 1 < newestAtOpen) say(`continues after ${event.position}, older than the newest position ${label(items, newestAtOpen - 1)}`);
      if (event.reason === 'history-truncated' && before !== null && position < before) say(`reset history-truncated moves back from ${label(items, before)} to ${event.position}`);
      if (event.reason === 'history-truncated' && position + 1 > trimmedBy(event.at)) say(`reset history-truncated continues after ${event.position}, which was not trimmed`);
      if (event.reason === 'history-truncated' && needsReset && r === 0 && position >= 0 && compareIds(cursorId ?? '0-0', items[position].id) >= 0) {
        say(`reset history-truncated for a cursor that is not below the trimmed history (${event.position})`);
      }
      at = position;
      lowest = position + 1;
      return;
    }
    if (event.kind !== 'item') return;
    const k = ctx.truth.indexOf(stream, event.id);
    if (k < 0) return;
    if (needsReset && !lane.received.slice(0, r).some((e) => e.kind === 'reset')) return; // reported once below
    if (at !== null && k > at + 1) say(`${k - at - 1} missing before ${label(items, k)} (the stream stood after ${at < 0 ? 'its beginning' : label(items, at)})`);
    else if (at !== null && k <= at && r === lane.received.findIndex((e) => e.kind === 'item')) say(`starts with ${label(items, k)}, at or before its position ${at < 0 ? '0-0' : label(items, at)}`);
    else if (at === null && loose !== null && (k < loose.from || k > Math.max(loose.from, trimmedBy(event.at)))) say(`after the reset it starts at ${label(items, k)}, not at the oldest retained`);
    else if (at === null && loose === null && k < lowest) say(`replayed ${label(items, k)}, stored before it connected`);
    else if (at === null && loose === null && firstMust >= 0 && k > firstMust) say(`missed ${label(items, firstMust)}, published after it connected`);
    loose = null;
    at = k;
  });
  return at;
}

/** A lane whose cursor is not a position must begin with a reset; one closed before anything arrived proves nothing. */
export function judgeFirstReset(lane: Lane, final: boolean, say: (problem: string) => void): void {
  const needsReset = lane.cls.kind === 'unknown' || lane.cls.kind === 'malformed';
  // Over polling transports the reset comes with the next poll: only a lane that received something, or the final one, owes it.
  if (needsReset && lane.received[0]?.kind !== 'reset' && (lane.received.length > 0 || final)) {
    say('no reset first, for a cursor that is not a position of the stream (contract: reset unknown-cursor)');
  }
}

/** What the open lane still lacks: null when it has everything after where it stands. */
export function missing(ctx: CheckContext, lane: Lane): string | null {
  const items = ctx.truth.items(lane.stream);
  if ((lane.cls.kind === 'unknown' || lane.cls.kind === 'malformed') && lane.received.length === 0) return 'its reset has not come';
  if (items.length === 0) return null;
  const at = judgeSequence(ctx, lane, () => undefined);
  if (at !== null) return at >= items.length - 1 ? null : `nothing after ${at < 0 ? 'its beginning' : label(items, at)} (up to ${label(items, items.length - 1)})`;
  // Where it stands is unknown (no position given, nothing received): everything sent after it was up.
  const established = lane.establishedAt ?? Infinity;
  const from = items.findIndex((item) => (ctx.truth.sentAtOf(item) ?? -Infinity) > established);
  return from < 0 ? null : `nothing of ${label(items, from)}..${label(items, items.length - 1)}, published after it connected`;
}
