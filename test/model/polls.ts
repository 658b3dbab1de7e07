import type { LogicalClient } from './client';
import { SETTINGS } from './config';
import { canonicalId, classify, compareIds, label } from './cursor';
import { otherStreams } from './lanes';
import { bound, judgeItems } from './sequence';
import { type CheckContext, lagging, outage } from './verdict';

/*
 * The polling fallback, answer by answer, for the stream a client polls (the
 * user's notifications, or a topic's events): each `GET ?after=` lists what
 * follows `after` (or, once it was trimmed, the oldest retained, with `reset`
 * history-truncated); an `after` that is not a position of the stream lists
 * nothing, answers the newest position as `lastId` and says `reset`
 * unknown-cursor; a malformed one is a 400 naming `after`; a topic the user
 * may not follow is a 403. The next poll asks after `lastId`, so together the
 * answers are the stream's sequence.
 */
export function checkPolls(ctx: CheckContext, client: LogicalClient, problems: string[]): void {
  const stream = client.streams[0];
  const items = ctx.truth.items(stream);
  const forbidden = stream !== client.user && !client.mayFollow(stream);
  for (const [n, poll] of client.polls.entries()) {
    const cls = classify(ctx.truth, stream, otherStreams(ctx, stream), poll.after, 'after');
    const say = (problem: string) => problems.push(`poll ${n}${stream !== client.user ? ` of ${stream}` : ''} on g${poll.route.index} after=${JSON.stringify(poll.after)} (${cls.kind}): ${problem}`);
    if (poll.answeredAt === null) continue; // still in flight when the client was closed
    if (forbidden) {
      // Bad input and no right to follow: either answer names a real fault.
      if (poll.status !== 403 && !(cls.kind === 'malformed' && poll.status === 400)) say(`answered ${poll.status} for a topic the user may not follow (contract: 403)`);
      continue;
    }
    if (poll.status !== 200) {
      if (cls.kind === 'malformed' && poll.status === 400) {
        if (!/"field":"after"/.test(poll.body ?? '')) say(`400 does not name the field: ${poll.body}`);
        continue;
      }
      const why = outage(ctx, poll.route, poll.answeredAt);
      if (!(why && (poll.status === 503 || typeof poll.status === 'string'))) say(`answered ${poll.status}${why ? ` (${why})` : ''}: ${poll.body ?? ''}`);
      continue;
    }
    if (cls.kind === 'malformed') say('a malformed after was accepted (contract: 400)');
    judgeItems(ctx, stream, poll.items, say, true);
    const got = poll.items.filter((event) => event.kind === 'item').map((event) => ctx.truth.indexOf(stream, (event as { id: string }).id));
    const lastItem = poll.items[poll.items.length - 1];
    if (lastItem?.kind === 'item' && poll.lastId !== lastItem.id) say(`lastId ${poll.lastId} is not its last item ${lastItem.id}`);
    const newestAtSend = ctx.truth.storedBefore(stream, poll.sentAt);
    const trimmedBy = Math.max(0, ctx.truth.mayBeStoredBy(stream, poll.answeredAt) - bound(ctx, stream));
    // An id older than the trimmed history cannot be told from one of the stream's own trimmed ids (resume-point.ts):
    // it lists from the oldest retained, with history-truncated, as a trimmed own cursor does.
    const afterId = poll.after === null ? null : canonicalId(poll.after);
    const belowTrim = cls.kind === 'unknown' && afterId !== null && poll.reset === 'history-truncated';
    if (belowTrim) {
      const watermark = got.length > 0 && got[0] > 0 ? items[got[0] - 1] : items[typeof poll.lastId === 'string' ? ctx.truth.indexOf(stream, poll.lastId) : -1];
      if (trimmedBy === 0) say('reset history-truncated although nothing was trimmed');
      else if (watermark && compareIds(afterId, watermark.id) >= 0) say(`reset history-truncated for a cursor that is not below the trimmed history (${watermark.id})`);
    }
    if (cls.kind === 'unknown' && !belowTrim) {
      if (got.length > 0) say(`listed ${got.length} notification(s) for a cursor that is not a position (contract: none, lastId = the newest position)`);
      if (poll.reset !== undefined && poll.reset !== 'unknown-cursor') say(`reset ${poll.reset} where the contract says unknown-cursor`);
      const lastIndex = typeof poll.lastId === 'string' ? (poll.lastId === '0-0' ? -1 : ctx.truth.indexOf(stream, poll.lastId)) : null;
      if (poll.lastId === poll.after) say(`echoed the cursor as lastId (contract: the newest position)`);
      else if (lastIndex === null) {
        if (items.length > 0) say(`no lastId (contract: the newest position)`);
      } else if (lastIndex === -1 && poll.lastId !== '0-0') say(`lastId ${poll.lastId} is not a position of the stream`);
      else if (lastIndex + 1 < newestAtSend) say(`lastId ${poll.lastId} is older than the newest position`);
      continue;
    }
    // Own cursor: right after it (or, once it was trimmed, the oldest retained); none, or below the trim: the oldest retained.
    const low = cls.kind === 'own' ? cls.index + 1 : cls.kind === 'beginning' ? 0 : Math.max(0, newestAtSend - bound(ctx, stream));
    const high = Math.max(low, trimmedBy);
    if (got.length > 0 && got[0] >= 0 && (got[0] < low || got[0] > high)) say(`starts at ${label(items, got[0])}, expected ${label(items, low)}`);
    if (got.length > 0 && got[0] > low && cls.kind !== 'none' && poll.reset !== 'history-truncated') say(`skipped ${got[0] - low} trimmed notification(s) without reset history-truncated`);
    if (poll.reset === 'history-truncated' && !belowTrim && (cls.kind === 'none' || low >= trimmedBy)) say(`reset history-truncated although ${label(items, low)} was retained`);
    if (poll.reset === 'unknown-cursor') say(`reset unknown-cursor for ${cls.kind === 'none' ? 'no cursor' : "the stream's own position"}`);
    if (got.length === 0 && high < newestAtSend) say(`answered nothing although ${label(items, high)} was stored`);
    const lastGot = got[got.length - 1];
    if (got.length > 0 && got.length < SETTINGS.pollLimit && lastGot >= 0 && lastGot + 1 < newestAtSend) {
      say(`a short page ending at ${label(items, lastGot)} although ${label(items, newestAtSend - 1)} was stored`);
    }
  }
  const lag = lagging(ctx, client);
  if (lag) problems.push(`never caught up: ${lag}`);
}
