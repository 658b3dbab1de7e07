import { compareIds } from './cursor';
import type { Route } from './fleet';
import type { Truth, TruthItem } from './truth';

/*
 * The truth of the inbox (issue 16): every read the schedule made, what it
 * asked, when, and how it was answered; and from the reads and the history
 * Redis retains once the schedule has settled, whether each retained
 * notification must be read. Reads race with concurrent publishes (a queued
 * job runs when it runs) and trims, so the rule works from times the model
 * knows, never from what a gateway said: a read marks an entry it names (an
 * id it lists; with `upTo`, every id <= upTo) when the entry was stored
 * before the read ran, which is certain when the monitor had it before the
 * read was sent, and certainly not so when its publish left after the read
 * was answered; in between either is right. A read answered with an error
 * (503 in an outage, no answer) may or may not have taken effect.
 */

export type ReadRequest = { ids: string[] } | { upTo: string };

export interface InboxRead {
  user: string;
  request: ReadRequest;
  /** What the request names, for the report: "2 own + foreign + made-up", "upTo own-last"... */
  what: string;
  /** `rest`, `socket cN` (a model client of the user), `socket` (a socket of the user's opened for the read). */
  via: string;
  route: Route | null;
  /** performance.now() when the request left (the socket was connected): the read ran after. */
  sentAt: number;
  /** When the answer came: the read had run. */
  answeredAt: number | null;
  outcome: { kind: 'pending' } | { kind: 'ok'; unread: number; readUpTo: string } | { kind: 'error'; error: string };
}

/** What the truth says of one retained notification: read, unread, or either (a race, or a read answered with an error). */
export type ReadStatus = 'read' | 'unread' | 'maybe';

export interface ExpectedInbox {
  /** Each retained id (oldest first) and what it must be. */
  statuses: Array<[string, ReadStatus]>;
  /** The unread count lies in [min, max] (equal unless some status is `maybe`). */
  min: number;
  max: number;
}

export function readsOf(truth: Truth, user: string): InboxRead[] {
  return truth.reads.filter((read) => read.user === user);
}

function names(request: ReadRequest, id: string): boolean {
  return 'ids' in request ? request.ids.includes(id) : compareIds(id, request.upTo) <= 0;
}

/** Whether the entry was stored before the read ran (`before`), after it (`after`), or the model cannot tell. */
function storedRelativeTo(truth: Truth, item: TruthItem, read: InboxRead): 'before' | 'after' | 'either' {
  if (item.seenAt < read.sentAt) return 'before';
  const sentAt = truth.sentAtOf(item);
  if (sentAt !== null && read.answeredAt !== null && sentAt > read.answeredAt) return 'after';
  return 'either';
}

/** What the truth says of the user's retained entry `id`, from every read of the user. */
export function readStatus(truth: Truth, user: string, id: string): ReadStatus {
  const item = truth.items(user)[truth.indexOf(user, id)];
  // An entry the monitor never saw is a ledger finding; here it could be anything.
  if (item === undefined) return 'maybe';
  let status: ReadStatus = 'unread';
  for (const read of readsOf(truth, user)) {
    if (!names(read.request, id)) continue;
    const when = storedRelativeTo(truth, item, read);
    if (when === 'after') continue;
    if (when === 'before' && read.outcome.kind === 'ok') return 'read';
    status = 'maybe';
  }
  return status;
}

/** The expected read state of the user's retained history (`held`: XRANGE of the user's stream, oldest first). */
export function expectedInbox(truth: Truth, user: string, held: string[]): ExpectedInbox {
  const statuses = held.map((id) => [id, readStatus(truth, user, id)] as [string, ReadStatus]);
  const min = statuses.filter(([, status]) => status === 'unread').length;
  return { statuses, min, max: min + statuses.filter(([, status]) => status === 'maybe').length };
}

/**
 * `readUpTo` as the contract defines it right after a read, from the retained ids and their statuses (none `maybe`):
 * the newest retained id below the oldest unread one, or the newest retained id when none is unread; null when
 * there is no such id (then it stays where it was, below every retained id).
 */
export function definedReadUpTo(statuses: Array<[string, ReadStatus]>): string | null {
  const oldestUnread = statuses.findIndex(([, status]) => status !== 'read');
  const below = oldestUnread < 0 ? statuses.length - 1 : oldestUnread - 1;
  return below >= 0 ? statuses[below][0] : null;
}

/** `upTo 1733-0` / `ids [a, b]` and the answer, for a step's line in the report. */
export function describeRead(read: InboxRead): string {
  const asked = 'ids' in read.request ? `ids [${read.request.ids.join(', ')}]` : `upTo ${read.request.upTo}`;
  const { outcome } = read;
  const answer = outcome.kind === 'ok' ? `{unread: ${outcome.unread}, readUpTo: ${outcome.readUpTo}}` : outcome.kind === 'error' ? `error ${outcome.error}` : 'no answer';
  return `${asked} (${read.what}) for ${read.user} @g${read.route?.index ?? '?'} → ${answer}`;
}
