import type { CursorVia, LogicalClient, Received, Segment, TopicSub } from './client';
import { canonicalId, type CursorClass, classify, describeCursor } from './cursor';
import { decodeCombined, isCombined, streamCursor, topicKey, USER_KEY } from './stream-cursor';
import type { Truth } from './truth';

/*
 * A connection may carry several streams: the user's own notifications and
 * topics. Each stream of each connection is a Lane, judged on its own by the
 * same rules (verdict.ts): its cursor is what the connection's cursor says for
 * that stream, its position where the connection said that stream starts,
 * its events those of that stream in arrival order. How streams interleave is
 * free; an event of a stream the connection does not carry is foreign.
 */

export interface Lane {
  stream: string;
  /** The topic, or null for the user's own stream. */
  topic: string | null;
  /** This stream's cursor as the server must read the connection's (see streamCursor), and how it was sent. */
  cursor: string | null;
  via: CursorVia | null;
  cls: CursorClass;
  /** Where the connection said the stream starts after (SSE: the opening `id:`; a topic on Socket.IO: the ack's lastEventId). */
  position: string | null;
  openedAt: number;
  establishedAt: number | null;
  /** The stream's events; a reset's `position` is this stream's (read from the connection's cursor). */
  received: Received[];
  /** Socket.IO: the `topic:subscribe` the lane is. */
  sub?: TopicSub;
}

export interface StreamWorld {
  truth: Truth;
  users: string[];
  topics: string[];
}

/** Every stream of the schedule but this one: what a cursor of another stream is. */
export function otherStreams(world: StreamWorld, stream: string): string[] {
  return [...world.users, ...world.topics].filter((other) => other !== stream);
}

/** SSE with topics: every `id:` is the connection's cursor over all its streams. */
export function combinedIds(client: LogicalClient): boolean {
  return (client.kind === 'sse' || client.kind === 'eventsource') && client.topics.length > 0;
}

/** Whether the server must refuse the connection's cursor (400 / `bad_cursor`): unreadable in a query or `auth`. */
export function malformedCursor(client: LogicalClient, segment: Segment): boolean {
  const raw = segment.cursor;
  if (raw === null || segment.via === 'header') return false;
  const sse = client.kind === 'sse' || client.kind === 'eventsource';
  return sse && isCombined(raw) ? decodeCombined(raw) === null : canonicalId(raw) === null;
}

/** The stream an event belongs to: its userId or topic; a reset without `topic` is the user's. */
export function streamOf(client: LogicalClient, event: Received): string | null {
  return event.kind === 'item' ? event.stream : event.kind === 'reset' ? (event.topic ?? client.user) : null;
}

/** A position as one stream sees it: on a connection with topics, that stream's part of the connection's cursor. */
function positionFor(client: LogicalClient, topic: string | null, raw: string | null): string | null {
  if (raw === null || !combinedIds(client)) return raw;
  return decodeCombined(raw)?.get(topic === null ? USER_KEY : topicKey(topic)) ?? raw;
}

function laneReceived(client: LogicalClient, topic: string | null, events: Received[]): Received[] {
  const stream = topic ?? client.user;
  return events
    .filter((event) => streamOf(client, event) === stream)
    .map((event) => (event.kind === 'reset' && event.position !== undefined ? { ...event, position: positionFor(client, topic, event.position) ?? undefined } : event));
}

/**
 * The lanes of one connection, in order: the user's stream, then each topic
 * (on a socket, each `topic:subscribe`). `say` gets what belongs to no lane:
 * foreign events, and on SSE with topics `id:` lines that misstate where the
 * streams stand.
 */
export function lanesOf(world: StreamWorld, client: LogicalClient, segment: Segment, say: (problem: string) => void = () => undefined): Lane[] {
  const sse = client.kind === 'sse' || client.kind === 'eventsource';
  const carried = new Set([client.user, ...client.topics.filter((topic) => client.mayFollow(topic))]);
  for (const event of segment.received) {
    const stream = streamOf(client, event);
    if (stream !== null && !carried.has(stream)) {
      const id = event.kind === 'item' ? ` ${event.id} (seq=${event.seq})` : '';
      say(`received ${event.kind === 'reset' ? `a reset (${event.reason})` : `an event${id}`} of ${JSON.stringify(stream)}, a stream this connection does not carry`);
    }
  }
  const userCursor = sse ? streamCursor(segment.cursor, segment.via, { topic: null }) : { cursor: segment.cursor, via: segment.via };
  const lane = (topic: string | null, cursor: { cursor: string | null; via: CursorVia | null }, rest: Omit<Lane, 'stream' | 'topic' | 'cursor' | 'via' | 'cls'>): Lane => {
    const stream = topic ?? client.user;
    return { stream, topic, ...cursor, cls: classify(world.truth, stream, otherStreams(world, stream), cursor.cursor, cursor.via), ...rest };
  };
  const lanes = [
    lane(null, userCursor, {
      position: positionFor(client, null, segment.position),
      openedAt: segment.openedAt,
      establishedAt: segment.establishedAt,
      received: laneReceived(client, null, segment.received),
    }),
  ];
  if (sse) {
    for (const topic of client.topics) {
      lanes.push(
        lane(topic, streamCursor(segment.cursor, segment.via, { topic }), {
          position: positionFor(client, topic, segment.position),
          openedAt: segment.openedAt,
          establishedAt: segment.establishedAt,
          received: laneReceived(client, topic, segment.received),
        }),
      );
    }
    if (combinedIds(client)) checkCursorLines(client, segment, say);
    return lanes;
  }
  segment.subs.forEach((sub, i) => {
    const next = segment.subs.slice(i + 1).find((later) => later.topic === sub.topic);
    const received = segment.received.slice(sub.from, next?.from);
    const early = received.slice(0, sub.ackIndex === null ? received.length : sub.ackIndex - sub.from).filter((event) => streamOf(client, event) === sub.topic);
    if (early.length > 0) say(`${early.length} event(s) of ${sub.topic} before the topic:subscribe ack${sub.ack === null ? ' (never acked)' : ''}`);
    if (sub.ack !== null && !sub.ack.ok && received.some((event) => streamOf(client, event) === sub.topic)) say(`events of ${sub.topic} after topic:subscribe was refused (${sub.ack.error})`);
    const acked = sub.ack?.ok ? sub.ack : null;
    // A cursor in `topic:subscribe` that is not an id at all is refused (`bad_cursor`), as in a query.
    lanes.push(
      lane(sub.topic, { cursor: sub.cursor, via: sub.cursor === null ? null : 'query' }, {
        position: acked?.lastEventId ?? null,
        openedAt: sub.sentAt,
        establishedAt: acked ? sub.ackedAt : null,
        received: laneReceived(client, sub.topic, received),
        sub,
      }),
    );
  });
  return lanes;
}

/** The lanes that are still running on a connection: a socket's newest `topic:subscribe` of each topic. */
export function currentLanes(lanes: Lane[]): Lane[] {
  return lanes.filter((lane) => lane.sub === undefined || lanes.filter((other) => other.topic === lane.topic).pop() === lane);
}

/** How a report names a lane: nothing for a client that follows only its own stream. */
export function laneName(client: LogicalClient, lane: Lane): string {
  if (client.topics.length === 0) return '';
  const what = lane.topic === null ? "the user's stream" : `topic ${lane.topic}`;
  return `${what} (${lane.sub ? 'topic:subscribe with ' : ''}${describeCursor(lane.cursor, lane.cls)}): `;
}

/**
 * On SSE with topics each `id:` is the connection's cursor: after an event of
 * stream S it must say S stands at that event (after a reset, wherever the
 * reset goes), leave every other stream where it was, and name exactly the
 * connection's streams.
 */
function checkCursorLines(client: LogicalClient, segment: Segment, say: (problem: string) => void): void {
  const keys = [USER_KEY, ...client.topics.map(topicKey)].sort().join(',');
  let previous: Map<string, string> | null = null;
  const read = (line: string | undefined, what: string): Map<string, string> | null => {
    if (line === undefined) return say(`${what} came without an id: line`), null;
    const positions = decodeCombined(line);
    if (positions === null) return say(`${what}: its id: line ${JSON.stringify(line)} is not a cursor of the connection`), null;
    if ([...positions.keys()].sort().join(',') !== keys) say(`${what}: its id: line ${line} names streams [${[...positions.keys()].join(',')}], the connection carries [${keys}]`);
    return positions;
  };
  if (segment.position !== null) previous = read(segment.position, 'the opening');
  for (const event of segment.received) {
    if (event.kind === 'bad') continue;
    const topic = event.kind === 'item' ? (event.topic ? event.stream : null) : (event.topic ?? null);
    const key = topic === null ? USER_KEY : topicKey(topic);
    const what = event.kind === 'item' ? `${event.id} (seq=${event.seq}) of ${event.stream}` : `reset ${event.reason} of ${topic ?? 'the user'}`;
    const positions = read(event.kind === 'item' ? event.frameId : event.position, what);
    if (positions === null) continue;
    if (event.kind === 'item' && positions.get(key) !== canonicalId(event.id)) say(`${what}: its id: line says the stream stands at ${positions.get(key)}`);
    for (const [other, at] of previous ?? []) {
      if (other !== key && positions.get(other) !== at) say(`${what}: its id: line moves another stream (${other}) from ${at} to ${positions.get(other)}`);
    }
    previous = positions;
  }
}
