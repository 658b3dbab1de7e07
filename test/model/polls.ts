import type { LogicalClient } from './client';
import { SETTINGS } from './config';
import { classify, label } from './cursor';
import { type CheckContext, judgeItems, lagging, otherUsers, outage } from './verdict';

/*
 * The polling fallback, answer by answer: each `GET ?after=` lists what
 * follows `after` (or, once it was trimmed, the oldest retained, with `reset`
 * history-truncated); an `after` that is not a position of the user lists
 * nothing, answers the newest position as `lastId` and says `reset`
 * unknown-cursor; a malformed one is a 400 naming `after`. The next poll asks
 * after `lastId`, so together the answers are the user's sequence.
 */
export function checkPolls(ctx: CheckContext, client: LogicalClient, problems: string[]): void {
  const items = ctx.truth.items(client.user);
  for (const [n, poll] of client.polls.entries()) {
    const cls = classify(ctx.truth, client.user, otherUsers(ctx, client), poll.after, 'after');
    const say = (problem: string) => problems.push(`poll ${n} on g${poll.route.index} after=${JSON.stringify(poll.after)} (${cls.kind}): ${problem}`);
    if (poll.answeredAt === null) continue; // still in flight when the client was closed
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
    judgeItems(ctx, client, poll.items, say, true);
    const got = poll.items.filter((event) => event.kind === 'item').map((event) => ctx.truth.indexOf(client.user, (event as { id: string }).id));
    const lastItem = poll.items[poll.items.length - 1];
    if (lastItem?.kind === 'item' && poll.lastId !== lastItem.id) say(`lastId ${poll.lastId} is not its last item ${lastItem.id}`);
    const newestAtSend = ctx.truth.storedBefore(client.user, poll.sentAt);
    const trimmedBy = Math.max(0, ctx.truth.mayBeStoredBy(client.user, poll.answeredAt) - ctx.historyMax);
    if (cls.kind === 'unknown') {
      if (got.length > 0) say(`listed ${got.length} notification(s) for a cursor that is not a position (contract: none, lastId = the newest position)`);
      if (poll.reset !== undefined && poll.reset !== 'unknown-cursor') say(`reset ${poll.reset} where the contract says unknown-cursor`);
      const lastIndex = typeof poll.lastId === 'string' ? (poll.lastId === '0-0' ? -1 : ctx.truth.indexOf(client.user, poll.lastId)) : null;
      if (poll.lastId === poll.after) say(`echoed the cursor as lastId (contract: the newest position)`);
      else if (lastIndex === null) {
        if (items.length > 0) say(`no lastId (contract: the newest position)`);
      } else if (lastIndex === -1 && poll.lastId !== '0-0') say(`lastId ${poll.lastId} is not a position of the user`);
      else if (lastIndex + 1 < newestAtSend) say(`lastId ${poll.lastId} is older than the newest position`);
      continue;
    }
    // Own cursor: right after it (or, once it was trimmed, the oldest retained); none: the oldest retained.
    const low = cls.kind === 'own' ? cls.index + 1 : cls.kind === 'beginning' ? 0 : Math.max(0, newestAtSend - ctx.historyMax);
    const high = Math.max(low, trimmedBy);
    if (got.length > 0 && got[0] >= 0 && (got[0] < low || got[0] > high)) say(`starts at ${label(items, got[0])}, expected ${label(items, low)}`);
    if (got.length > 0 && got[0] > low && cls.kind !== 'none' && poll.reset !== 'history-truncated') say(`skipped ${got[0] - low} trimmed notification(s) without reset history-truncated`);
    if (poll.reset === 'history-truncated' && (cls.kind === 'none' || low >= trimmedBy)) say(`reset history-truncated although ${label(items, low)} was retained`);
    if (poll.reset === 'unknown-cursor') say(`reset unknown-cursor for ${cls.kind === 'none' ? 'no cursor' : "the user's own position"}`);
    if (got.length === 0 && high < newestAtSend) say(`answered nothing although ${label(items, high)} was stored`);
    const lastGot = got[got.length - 1];
    if (got.length > 0 && got.length < SETTINGS.pollLimit && lastGot >= 0 && lastGot + 1 < newestAtSend) {
      say(`a short page ending at ${label(items, lastGot)} although ${label(items, newestAtSend - 1)} was stored`);
    }
  }
  const lag = lagging(ctx, client);
  if (lag) problems.push(`never caught up: ${lag}`);
}
