import type { LogicalClient, Segment, TopicSub } from './client';
import { canonicalId, describeCursor, label } from './cursor';
import type { Fleet, Route } from './fleet';
import { currentLanes, type Lane, laneName, lanesOf, malformedCursor } from './lanes';
import { checkPolls } from './polls';
import { judgeFirstReset, judgeItems, judgeSequence, missing } from './sequence';
import type { Truth } from './truth';

/*
 * The invariant, per logical client and per stream it follows (the user's
 * own, each topic): each connection (segment) received exactly the stream's
 * accepted sequence after its cursor, or a `reset` and then a contiguous run
 * of it (sequence.ts); nothing twice, nothing out of order, nothing of a
 * stream it does not carry; across reconnects a stream never goes back; the
 * last open connection has everything of every stream. A connection's
 * refusal, its end and each topic subscription's ack are judged here.
 */

export interface CheckContext {
  truth: Truth;
  fleet: Fleet;
  users: string[];
  topics: string[];
  historyMax: number;
  topicHistoryMax: number;
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
    const lanes = new Map(client.segments.map((segment) => [segment, checkSegment(ctx, client, segment, segment === final, problems)]));
    checkConcatenation(ctx, client, lanes, problems);
  }
  return problems.map((problem) => `${client.name} (${client.kind}, ${client.user}${client.topics.length > 0 ? ` + ${client.topics.join(',')}` : ''}): ${problem}`);
}

/** Why the client has not caught up yet (the settle loop waits on it), or null. */
export function lagging(ctx: CheckContext, client: LogicalClient): string | null {
  if (client.closed || client.dead !== null) return null;
  if (client.kind === 'rest-polling') {
    const items = ctx.truth.items(client.streams[0]);
    const last = [...client.polls].reverse().find((poll) => poll.status === 200);
    const newest = items.length > 0 ? items[items.length - 1].id : null;
    return last && (newest === null || last.lastId === newest) ? null : `polling not at ${newest}`;
  }
  const segment = client.current;
  if (!segment || segment.establishedAt === null || segment.end !== null) return 'not connected';
  if (client.topics.length > 0 && segment.subs.length === 0 && !isSse(client)) return 'topics not subscribed yet';
  for (const lane of currentLanes(lanesOf(ctx, client, segment))) {
    if (lane.sub && lane.sub.ack === null) return `topic ${lane.topic} not acked yet`;
    if (lane.sub?.ack?.ok === false && lane.sub.ack.error !== 'forbidden') return `topic ${lane.topic} to be subscribed again (${lane.sub.ack.error})`;
    if (lane.establishedAt === null) continue; // refused: judged, nothing to wait for
    const lag = missing(ctx, lane);
    if (lag) return `${laneName(client, lane)}${lag}`;
  }
  return null;
}

function isSse(client: LogicalClient): boolean {
  return client.kind === 'sse' || client.kind === 'eventsource';
}

function checkSegment(ctx: CheckContext, client: LogicalClient, segment: Segment, final: boolean, problems: string[]): Lane[] {
  const single = client.topics.length === 0;
  const at = `segment ${segment.index} on g${segment.route.index} with ${single ? describeCursor(segment.cursor, lanesOf(ctx, client, segment)[0].cls) : `cursor ${JSON.stringify(segment.cursor)}`} via ${segment.via ?? '-'}`;
  const say = (problem: string) => problems.push(`${at}: ${problem}`);
  const malformed = malformedCursor(client, segment);
  const forbidden = isSse(client) ? client.topics.filter((topic) => !client.mayFollow(topic)) : [];
  if (segment.refused !== null) {
    judgeRefusal(ctx, segment, malformed, forbidden, say);
    return [];
  }
  if (segment.establishedAt === null) return [];
  if (malformed) say(`a malformed cursor in ${segment.via} was accepted (contract: 400 / connect_error bad_cursor)`);
  if (forbidden.length > 0) say(`opened with ${forbidden.join(',')}, a topic the user may not follow (contract: 403)`);
  judgeEnd(ctx, client, segment, say);
  const lanes = lanesOf(ctx, client, segment, say);
  const running = currentLanes(lanes);
  for (const lane of lanes) {
    const sayLane = (problem: string) => say(`${laneName(client, lane)}${problem}`);
    if (lane.sub) judgeSub(ctx, client, segment, lane.sub, sayLane);
    if (lane.establishedAt === null) continue;
    if (lane.sub && lane.cls.kind === 'malformed') sayLane('a malformed lastEventId in topic:subscribe was accepted (contract: ack bad_cursor)');
    const laneFinal = final && running.includes(lane);
    judgeItems(ctx, lane.stream, lane.received, sayLane, false);
    judgeSequence(ctx, lane, sayLane);
    judgeFirstReset(lane, laneFinal, sayLane);
    if (laneFinal) {
      const lag = missing(ctx, lane);
      if (lag) sayLane(`never caught up: ${lag}`);
    }
  }
  return lanes;
}

function judgeRefusal(ctx: CheckContext, segment: Segment, malformed: boolean, forbidden: string[], say: (problem: string) => void): void {
  const refused = segment.refused as string;
  if (malformed || forbidden.length > 0) {
    // Both wrong: either answer names a real fault.
    const expected = [...(malformed ? [segment.via === 'auth' ? 'bad_cursor' : '400'] : []), ...(forbidden.length > 0 ? ['403'] : [])];
    if (!expected.includes(refused)) say(`refused with ${refused}; the contract says ${expected.join(' or ')}`);
    return;
  }
  const why = outage(ctx, segment.route, segment.endedAt ?? segment.openedAt);
  const transient = /^(503|shutting_down|ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|xhr poll error|websocket error|timeout|fetch failed|no gateway|transport close|transport error)/.test(refused);
  if (!transient) say(`refused with ${refused}`);
  else if (why === null) say(`refused with ${refused} by a gateway serving normally`);
}

/** A `topic:subscribe` is acked `{ ok: true, lastEventId }`, `forbidden` for a topic the user may not follow, `bad_cursor` for a cursor that is not an id. */
function judgeSub(ctx: CheckContext, client: LogicalClient, segment: Segment, sub: TopicSub, say: (problem: string) => void): void {
  // Both wrong: either answer names a real fault.
  const expected = [...(client.mayFollow(sub.topic) ? [] : ['forbidden']), ...(sub.cursor !== null && canonicalId(sub.cursor) === null ? ['bad_cursor'] : [])];
  const ack = sub.ack;
  if (ack === null) return; // still waiting when the schedule ended: lagging() waited for it
  if (ack.ok) {
    if (expected.includes('forbidden')) say(`topic:subscribe of ${sub.topic}, which the user may not follow, was acked ok`);
    return;
  }
  if (expected.includes(ack.error)) return;
  // No ack because the connection went away meanwhile, or an error while the instance was not serving normally.
  const gone = segment.endedAt !== null && segment.endedAt <= (sub.ackedAt ?? Infinity);
  if (ack.error.startsWith('no ack') && gone) return;
  const why = outage(ctx, segment.route, sub.ackedAt ?? sub.sentAt);
  if (why && (ack.error.startsWith('no ack') || ack.error === 'unavailable')) return;
  say(`topic:subscribe ${sub.topic}${sub.cursor !== null ? ` after ${sub.cursor}` : ''} acked ${ack.error}${expected.length > 0 ? ` (contract: ${expected.join(' or ')})` : ''}${why ? ` (${why})` : ''}`);
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

/** Across reconnects (and a socket's re-subscriptions), each stream never goes back, never repeats. */
function checkConcatenation(ctx: CheckContext, client: LogicalClient, lanes: Map<Segment, Lane[]>, problems: string[]): void {
  for (const stream of client.streams) {
    const items = ctx.truth.items(stream);
    let previous = -1;
    for (const segment of client.segments) {
      for (const lane of lanes.get(segment) ?? []) {
        if (lane.stream !== stream) continue;
        for (const event of lane.received) {
          if (event.kind !== 'item') continue;
          const index = ctx.truth.indexOf(stream, event.id);
          if (index < 0) continue;
          const where = client.topics.length > 0 ? ` of ${stream}` : '';
          if (index <= previous) problems.push(`segment ${segment.index}: ${label(items, index)}${where} again after ${label(items, previous)} (across reconnects)`);
          previous = Math.max(previous, index);
        }
      }
    }
  }
}
