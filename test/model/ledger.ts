import { label } from './cursor';
import { bound } from './sequence';
import { type CheckContext, outage } from './verdict';

/*
 * The publishing side of the invariant, per stream (a user's, a topic's):
 * every publish answered 202 (every completed queue job, every acked direct
 * chat) is in its stream's accepted sequence with its own payload; a refused
 * one stored nothing; an idempotent re-publish answered the first id and
 * stored nothing new; each payload is stored at most once; and the history
 * Redis holds is the tail of what the monitor saw, so the monitor missed
 * nothing.
 */
export async function checkLedger(ctx: CheckContext): Promise<string[]> {
  const problems: string[] = [];
  const { truth } = ctx;
  for (const sent of truth.sent) {
    const items = truth.items(sent.stream);
    const stored = items.map((item, index) => ({ item, index })).filter(({ item }) => item.seq === sent.seq);
    const what = `${sent.via} seq=${sent.seq} to ${sent.stream}`;
    const outcome = sent.outcome;
    if (outcome.kind === 'accepted') {
      const match = stored.find(({ item }) => item.id === outcome.id || (sent.via === 'chat' && item.messageId === outcome.id));
      if (!match) problems.push(`${what} was accepted (${outcome.id}) but is not in the accepted sequence`);
      if (sent.sameAs !== undefined) {
        const first = truth.sent.find((other) => other.seq === sent.sameAs && other.sameAs === undefined);
        if (first?.outcome.kind === 'accepted' && first.outcome.id !== outcome.id) {
          problems.push(`${what}: idempotent re-publish answered ${outcome.id}, the first publish ${first.outcome.id}`);
        }
      }
    } else if (outcome.kind === 'refused') {
      const duplicate = sent.sameAs !== undefined;
      if (stored.length > 0 && !duplicate) problems.push(`${what} was refused (${outcome.status}) yet stored as ${label(items, stored[0].index)}`);
      // Everything the model publishes is valid: a refusal needs an outage to excuse it (rate limits excepted).
      const why = sent.route ? outage(ctx, sent.route, sent.answeredAt ?? sent.sentAt) : null;
      const transient = outcome.status === 503 || outcome.status === 'unavailable' || typeof outcome.status === 'string';
      if (outcome.status !== 'rate_limited' && !(transient && why)) {
        problems.push(`${what} was refused: ${outcome.status} ${outcome.body ?? ''}`.trim());
      }
    } else if (outcome.kind === 'pending') {
      problems.push(`${what} was never answered${sent.jobId ? ` (job ${sent.jobId} did not complete: ${sent.jobState ?? 'state unknown'})` : ''}`);
    }
  }
  for (const stream of [...ctx.users, ...ctx.topics]) {
    const items = truth.items(stream);
    const seen = new Map<number, number>();
    items.forEach((item, index) => {
      if (item.seq === null) return problems.push(`${stream}: ${label(items, index)} carries no seq: the model never published it`);
      if (!truth.sent.some((sent) => sent.seq === item.seq && sent.stream === stream)) problems.push(`${stream}: ${label(items, index)} was never published to this stream`);
      const before = seen.get(item.seq);
      if (before !== undefined) problems.push(`${stream}: seq=${item.seq} stored twice, ${label(items, before)} and ${label(items, index)}`);
      seen.set(item.seq, index);
    });
    const held = await truth.stream(stream);
    const tail = items.slice(Math.max(0, items.length - bound(ctx, stream))).map((item) => item.id);
    if (held.join(',') !== tail.join(',')) {
      problems.push(`${stream}: Redis holds [${held.join(', ')}], the tail of the accepted sequence is [${tail.join(', ')}]`);
    }
  }
  for (const garbled of truth.garbled) problems.push(`monitor could not read: ${garbled}`);
  for (const crash of ctx.fleet.crashes.splice(0)) problems.push(`crash: ${crash}`);
  return problems;
}
