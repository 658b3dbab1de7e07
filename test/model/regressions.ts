import type { Feature } from './config';

/*
 * Every schedule that ever failed, replayed first on every run (jest and the
 * CLI). `seed` + `path` (+ `replayPath`, fast-check's hint for commands)
 * regenerate the shrunk schedule exactly, with the features that run left
 * out (`exclude`: they change what a seed generates, so a replay leaves them
 * out too). `model` is the MODEL_VERSION it was recorded under: another
 * version generates something else from the same seed, so an entry replays
 * with the arbitraries of its own version (arbitraries.ts keeps those of
 * REPLAYABLE_VERSIONS); one of a version no longer built is reported as stale
 * instead of replayed. The CLI appends new failures above the marker; the
 * jest entry prints the line to add.
 */
export interface Regression {
  seed: number;
  path: string;
  replayPath?: string;
  exclude?: Feature[];
  model: number;
  /** The first violation it showed when it was found, and when. */
  note: string;
}

export const REGRESSIONS: Regression[] = [
  // Model 1 (before topics): they replay with model 1's arbitraries, so they still regenerate their schedules.
  // Found on 2dd0f98 (before the cursor, reader-paced and Unicode fixes); each shows its defect in its first violation.
  { seed: 1, path: '0:4:3:3:3', replayPath: 'J:B', model: 1, note: '2dd0f98: POST /api/notifications to a non-ASCII user id answers 400' },
  {
    seed: 1,
    path: '5:0:3:2:3:1:1:1:1',
    replayPath: 'AABAOAT:VB',
    exclude: ['unicode', 'malformed-cursors'],
    model: 1,
    note: "2dd0f98: SSE with another user's id in Last-Event-ID: echoed as the opening id, no reset, the next notification swallowed",
  },
  {
    seed: 1,
    path: '13:5:1:1:1:1',
    replayPath: 'GAN:F',
    exclude: ['unicode', 'malformed-cursors', 'foreign-cursors'],
    model: 1,
    note: '2dd0f98: SSE with Last-Event-ID 18446744073709551615-18446744073709551615: echoed, no reset, the stream ends at once, again on every reconnect',
  },
  {
    seed: 1,
    path: '28:3:5:4:5:3:3:3:4:4',
    replayPath: '2:B',
    exclude: ['unicode', 'malformed-cursors', 'foreign-cursors', 'ahead-cursors'],
    model: 1,
    note: '2dd0f98: SSE reader stalled past the bound, then resumed: cut again on every reconnect while reading (replay not reader-paced)',
  },
  {
    seed: 7,
    path: '0:0:2:1:1:2:2',
    replayPath: 'YAA:F',
    exclude: ['zero-cursors', 'ahead-cursors', 'foreign-cursors', 'malformed-cursors', 'stall', 'kill', 'subscriber-kill'],
    model: 1,
    note: '2dd0f98: direct chat to a non-ASCII user id acked invalid_payload',
  },
  {
    seed: 1,
    path: '30:43',
    replayPath: 'Z:B',
    exclude: ['unicode', 'malformed-cursors', 'foreign-cursors', 'ahead-cursors', 'stall'],
    model: 1,
    note: '2dd0f98 (a race, replays sometimes): Socket.IO resuming around a subscriber CLIENT KILL gets duplicates and reordering (feed re-sync from 0-0)',
  },
  // Found on the working tree of 2026-12-04 14:27 (485c285 + changes).
  {
    seed: 5,
    path: '158',
    replayPath: 'DAA:F',
    model: 1,
    note: '485c285+ (a race, replays sometimes): Socket.IO reopened from its last id receives that id again after a subscriber CLIENT KILL (feed re-sync from 0-0)',
  },
  {
    seed: 99,
    path: '13:13',
    replayPath: 'L:B',
    model: 1,
    note: '485c285+ (a race, replays sometimes): a socket with no cursor that connects while the subscriber re-subscribes gets the whole history',
  },
  // Defects of the checker itself, kept so that they stay fixed.
  // It demanded a reset from a socket closed before its first poll brought it:
  {
    seed: 424242,
    path: '48:12:0:2:4:5:6:4:4',
    replayPath: 'AADAGAS:VB',
    exclude: ['subscriber-kill'],
    model: 1,
    note: 'checker: Socket.IO polling with the largest id, closed at once: no reset demanded from a connection that received nothing',
  },
  // It ran two connections for one SSE client closed and reopened while a reconnect was pending:
  {
    seed: 20261204,
    path: '50:0:26:17:19:21:2:14:18:14',
    replayPath: 'A/D:G',
    model: 1,
    note: 'harness: an SSE client closed and reopened while a reconnect was pending ran two connections (duplicates across them)',
  },
  // It judged a first reset by the stream's opening id instead of by the client's cursor:
  {
    seed: 777,
    path: '2429:0:10:5:8:7:7:7:7:8:10',
    replayPath: 'BABAGAo:VB',
    exclude: ['subscriber-kill'],
    model: 1,
    note: "checker: SSE with another user's id older than the trimmed history gets history-truncated, as resume-point.ts intends",
  },
  // It demanded no reset at all from a client without a cursor, even one due later in its stream:
  {
    seed: 2026,
    path: '71:4:16:4:6:6:5:5:6:7:5',
    replayPath: '4:B',
    model: 1,
    note: 'checker: SSE without a cursor, subscriber killed, stalled past the trimming: history-truncated is due, though it is the first event',
  },
  // It took an SSE connection the model closed while it was connecting for a refusal (ECONNRESET):
  {
    seed: 2026,
    path: '572',
    replayPath: 'ABI:F',
    model: 1,
    note: 'harness: SSE client closed by the model while connecting after a SIGKILL: no refusal to judge',
  },
  // It excused refusals only until the killed subscriber showed up in CLIENT LIST, before it was ready again:
  {
    seed: 31337,
    path: '61:6:5:8:8:13:13:12',
    replayPath: 'Cq:C',
    model: 1,
    note: 'checker (under load): SSE refused 503 while its gateway re-subscribed after CLIENT KILL, judged as refused while serving',
  },
  { seed: 31337, path: '410', replayPath: 'K:B', model: 1, note: 'checker (under load): SSE refused 503 shortly after /health was back from a subscriber CLIENT KILL' },
  { seed: 20261204, path: '136:7', replayPath: 'AAAAAP:q', model: 1, note: 'checker (under load, CI soak): SSE refused 503 while its gateway re-subscribed after CLIENT KILL' },
  // Model 2 (topics).
  // It took every history-truncated after an unknown cursor's first reset for the answer to the cursor (seen as well on 31337/410, a race):
  {
    seed: 4242,
    path: '80:0:3:2:5:17:11:6:6:5:5:6:5:7:5',
    replayPath: '/R:D',
    model: 2,
    note: 'checker: SSE with topics and a cursor ahead, subscriber killed while stalled past the trimming: a later history-truncated is due after unknown-cursor',
  },
  // It demanded unknown-cursor from a topic poll after an id older than the topic's trimmed history (resume-point.ts: history-truncated):
  {
    seed: 20261205,
    path: '494:4:10:9:9:5:5:5:5:8:8:8:8:8',
    replayPath: 'BA/L:N',
    model: 2,
    note: 'checker: topic polling after 1295-0 with the topic trimmed by a long stall: history-truncated and the oldest retained, as for an own trimmed id',
  },
  // Model 3 (reads, the inbox). Found on the working tree of 2026-12-04 (the inbox uncommitted); the fixed scenarios
  // "inbox comes first" replay both defects more reliably.
  {
    seed: 16,
    path: '30:18:3:4:0:3:1:2:2:2',
    replayPath: 'c:B',
    model: 3,
    note: "working tree 2026-12-04 (a race, replays mostly): SSE with topics whose user's stream starts last: the topics' resets go out before inbox",
  },
  {
    seed: 16,
    path: '112:3',
    replayPath: 'BACBM:V',
    exclude: ['topics'],
    model: 3,
    note: 'working tree 2026-12-04 (a race, replays rarely): SSE opened while the fan-out passes on a read state: no inbox before the replay',
  },
  // new regressions above this line
];
