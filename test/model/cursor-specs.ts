import { canonicalId } from './cursor';
import type { ScheduleRun } from './schedule-run';
import { encodeCombined, topicKey } from './stream-cursor';

/*
 * What the cursors of an Open command name, resolved from the truth when the
 * step runs: the user's stream's, each topic's, and the combined cursor of an
 * SSE connection with topics (forged as the gateway writes it, or unreadable).
 */

export type CursorSpec = 'none' | 'zero' | 'zero-zero' | 'own-first' | 'own-middle' | 'own-last' | 'ahead' | 'ahead-max' | 'foreign' | 'malformed' | 'out-of-range' | 'ancient';
/** The cursor of each topic a client follows (`topic:subscribe`'s lastEventId, a topic poll's `after`, a topic's part of a combined SSE cursor). */
export type TopicCursorSpec = 'none' | 'first' | 'middle' | 'last' | 'zero' | 'ahead' | 'foreign' | 'malformed' | 'ancient';

const UINT64 = '18446744073709551615';

export async function resolveCursor(real: ScheduleRun, user: string, spec: CursorSpec): Promise<string | null> {
  const own = real.truth.items(user);
  switch (spec) {
    case 'none':
      return null;
    case 'zero':
      return '0';
    case 'zero-zero':
      return '0-0';
    case 'own-first':
      return own[0]?.id ?? null;
    case 'own-middle':
      return own[Math.floor(own.length / 2)]?.id ?? null;
    case 'own-last':
      return own[own.length - 1]?.id ?? null;
    case 'ahead':
      return '9999999999999-0';
    case 'ahead-max':
      return `${UINT64}-${UINT64}`;
    case 'malformed':
      return 'abc';
    case 'out-of-range':
      return '18446744073709551616-0'; // 2^64: shaped like an id, out of range
    case 'ancient':
      return '1295'; // 1295-0: older than anything a stream holds, the `u_zz` of a forged combined cursor
    case 'foreign': {
      const other = real.users.find((candidate) => candidate !== user && real.truth.items(candidate).length > 0) ?? real.users.find((candidate) => candidate !== user)!;
      // Someone else must have an id: publish one if nobody has yet.
      if (real.truth.items(other).length === 0) await real.publishRest(other, 0);
      await waitUntil(() => real.truth.items(other).length > 0);
      return real.truth.items(other)[0]?.id ?? null;
    }
  }
}

/** A topic's cursor: one of its own ids, or what is not a position of it. */
export async function resolveTopicCursor(real: ScheduleRun, topic: string, spec: TopicCursorSpec): Promise<string | null> {
  const own = real.truth.items(topic);
  switch (spec) {
    case 'none':
      return null;
    case 'first':
      return own[0]?.id ?? null;
    case 'middle':
      return own[Math.floor(own.length / 2)]?.id ?? null;
    case 'last':
      return own[own.length - 1]?.id ?? null;
    case 'zero':
      return '0-0';
    case 'ahead':
      return '9999999999999-0';
    case 'malformed':
      return 'abc';
    case 'ancient':
      return '1295-0';
    case 'foreign': {
      // An id of another stream: the other public topic's, else a user's; publish one if none has any.
      const others = [...real.topics.filter((other) => other !== topic), ...real.users];
      const other = others.find((candidate) => real.truth.items(candidate).length > 0) ?? real.topics.find((candidate) => candidate !== topic && candidate.startsWith('jobs.'))!;
      if (real.truth.items(other).length === 0) await real.publishRest(other, 0);
      await waitUntil(() => real.truth.items(other).length > 0);
      return real.truth.items(other)[0]?.id ?? null;
    }
  }
}

/**
 * A cursor over the user's stream and the topics, as the gateway writes them, forged from the truth: each stream's
 * part from its spec (left out when it resolves to none), plus the part of a topic the connection does not carry
 * (an app that dropped a topic). Specs that are not ids make it unreadable: `r1.garbage`, an out-of-range position, a
 * topic part without a position.
 */
export async function combinedCursor(real: ScheduleRun, user: string, topics: ReadonlyMap<string, string | null>, spec: CursorSpec, topicSpec: TopicCursorSpec): Promise<string> {
  if (spec === 'malformed') return 'r1.garbage';
  if (spec === 'out-of-range') return `r1.u_${'z'.repeat(13)}`;
  if (topicSpec === 'malformed') return `r1.u_0.${topicKey([...topics.keys()][0] ?? 'none')}_`;
  const own = await resolveCursor(real, user, spec);
  return encodeCombined(own === null ? null : canonicalId(own), [...topics].map(([topic, id]) => [topic, id === null ? null : canonicalId(id)]), ['0badf00d_1']);
}

async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = performance.now() + 2_000;
  while (!check() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}
