/*
 * Knobs of the model-based delivery checker, in one place so that a recorded
 * regression (seed + path) keeps meaning the same schedule: anything that
 * changes what the arbitraries generate must bump MODEL_VERSION, and old
 * regressions are then reported as stale instead of silently replaying
 * something else.
 */

/**
 * Bump when commands, their arbitraries or their weights change. Version 1
 * had no topics, version 2 no reads (the inbox); their arbitraries are kept
 * (arbitraries.ts), so that entries recorded under them still replay the
 * schedule they were recorded for.
 */
export const MODEL_VERSION = 3;
/** The versions whose arbitraries arbitraries.ts still builds; a regression of any other is reported as stale. */
export const REPLAYABLE_VERSIONS: readonly number[] = [1, 2, 3];

export const SETTINGS = {
  /** Small, so that ordinary schedules trim history (the brief asks for 8-20). 20 x 64 KiB is over the 1 MiB SSE bound. */
  historyMax: 20,
  /** TOPIC_HISTORY_MAX: smaller still (topics get fewer publishes than all the users together), and unlike the user's bound, so that a mix-up of the two shows. */
  topicHistoryMax: 5,
  /** The `retry:` the gateways send: reconnects are quick. */
  sseRetryMs: 50,
  /** Polling page size: small, so that catching up takes several pages. */
  pollLimit: 5,
  pollIntervalMs: 25,
  /** How long a schedule may take to settle before what is missing is reported. */
  settleMs: 3_000,
  /** `data.blob` of a large notification: with `seq` it stays under the 64 KiB limit. */
  bigBlobChars: 65_000,
  /** Large publishes of a long stall: past the kernel's buffers (about 4 MiB here) plus the 1 MiB bound. */
  longStallPublishes: 90,
  shortStallPublishes: 4,
  maxCommands: 14,
  /** The CI run: fixed seed, fixed count. */
  ciSeed: 20261204,
  ciRuns: 200,
  /** After the first failure, shrinking stops after this long and reports the smallest case so far. */
  shrinkBudgetMs: 90_000,
} as const;

/**
 * Parts of the model that can be left out (MODEL_EXCLUDE=a,b or --exclude a,b),
 * to hunt for other defects while a known one is being fixed. CI runs everything.
 */
export const FEATURES = [
  'unicode', // the non-ASCII user in every schedule
  'zero-cursors', // `0` and `0-0`
  'ahead-cursors', // `9999999999999-0`, `18446744073709551615-18446744073709551615`
  'foreign-cursors', // another user's real id
  'malformed-cursors', // `abc`, `18446744073709551616-0`
  'stall', // paused SSE readers and large notifications
  'kill', // SIGTERM / SIGKILL of a gateway
  'subscriber-kill', // CLIENT KILL of a gateway's subscriber connection
  'queue', // the `notifications` BullMQ queue
  'chat', // direct chat over Socket.IO
  'eventsource', // the `eventsource` package as a client
  'topics', // topics: publishes, clients that follow them (SSE ?topics=, topic:subscribe, topic polling), combined cursors
  'topic-claims', // a non-public topic, followed through a token's `topics` claim, and refused to a user without it
  'ancient-cursors', // an id older than anything the stream holds (`1295-0`, the `u_zz` of a forged combined cursor)
  'inbox', // reads (by ids, up to an id; REST and inbox:read) and the read state: unread counts, read flags, readUpTo, `inbox` events
] as const;
export type Feature = (typeof FEATURES)[number];

export function parseExcluded(list: string | undefined): ReadonlySet<Feature> {
  const names = (list ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!(FEATURES as readonly string[]).includes(name)) throw new Error(`unknown model feature "${name}" (known: ${FEATURES.join(', ')})`);
  }
  return new Set(names as Feature[]);
}

/** MODEL_DEBUG=1: every step and phase as it happens, with a timestamp (for a schedule that hangs). */
export function debug(line: string): void {
  if (process.env.MODEL_DEBUG) process.stderr.write(`[${(performance.now() / 1000).toFixed(3)}] ${line}\n`);
}
