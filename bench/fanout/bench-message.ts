/*
 * The one message every system under test receives: the same publish body,
 * with three marks in `data` that the load client reads back on arrival.
 */

/** Every connection of the benchmark belongs to this one user, so each notification reaches all N. */
export const BENCH_USER = 'bench-user';
/** The topic the followers of the topic rows follow (PUBLIC_TOPICS opens it to them). */
export const BENCH_TOPIC = 'bench.fanout';
/** The notification type (a valid contract type): the SSE event name and the Socket.IO event name. */
export const BENCH_TYPE = 'bench-tick';

/**
 * Microseconds of CLOCK_MONOTONIC. It is one clock for the whole machine, so a
 * stamp taken in the publisher compares with a reading in a load client.
 */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Text of the size of a short real notification (a job title and a company), so frames are not toy-sized. */
const FILLER = { title: 'Senior Node.js engineer (realtime systems)', company: 'Acme Benchmarks GmbH', location: 'Berlin' };

/**
 * The JSON body of `POST /api/notifications` (or, to a topic, of `POST
 * /api/topics/:topic/events`), stamped now: phase and sequence number to
 * count losses and duplicates, send time for latency.
 */
export function publishBody(phase: number, seq: number, toTopic = false): string {
  const data = { benchPhase: phase, benchSeq: seq, benchSentUs: monotonicUs(), ...FILLER };
  return JSON.stringify(toTopic ? { type: BENCH_TYPE, data } : { userId: BENCH_USER, type: BENCH_TYPE, data });
}

export interface BenchMarks {
  readonly phase: number;
  readonly seq: number;
  readonly sentUs: number;
}

function numberAfter(text: string, key: string): number {
  const at = text.indexOf(key);
  return at < 0 ? NaN : parseInt(text.slice(at + key.length, at + key.length + 20), 10);
}

/**
 * The marks from a notification's JSON text (an SSE `data:` line). Found by
 * position rather than with JSON.parse: the client must stay cheaper than the
 * servers it measures, and every system gets the same parser.
 */
export function marksFromJson(json: string): BenchMarks | null {
  const phase = numberAfter(json, '"benchPhase":');
  const seq = numberAfter(json, '"benchSeq":');
  const sentUs = numberAfter(json, '"benchSentUs":');
  return Number.isNaN(phase) || Number.isNaN(seq) || Number.isNaN(sentUs) ? null : { phase, seq, sentUs };
}

/** The marks from a notification object (a Socket.IO event payload, already parsed by the client library). */
export function marksFromNotification(notification: unknown): BenchMarks | null {
  const data = (notification as { data?: { benchPhase?: unknown; benchSeq?: unknown; benchSentUs?: unknown } } | null)?.data;
  if (!data || typeof data.benchPhase !== 'number' || typeof data.benchSeq !== 'number' || typeof data.benchSentUs !== 'number') return null;
  return { phase: data.benchPhase, seq: data.benchSeq, sentUs: data.benchSentUs };
}
