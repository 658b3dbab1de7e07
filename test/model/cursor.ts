import type { CursorVia } from './client';
import type { Truth, TruthItem } from './truth';

/*
 * What a cursor means for one user, decided from the truth (never from what
 * the gateway said): the contract gives each kind its own answer.
 */
export type CursorClass =
  | { kind: 'none' }
  /** `0`, `0-0`: before everything. */
  | { kind: 'beginning' }
  /** One of the user's own ids, at this index of the accepted sequence. */
  | { kind: 'own'; index: number }
  /** Not a position of this user: a 400/`bad_cursor` in a query or auth, an unknown cursor in the header. */
  | { kind: 'malformed' }
  | { kind: 'unknown'; why: 'ahead' | 'foreign' | 'not-an-id-of-this-user' };

const UINT64_MAX = 18446744073709551615n;

/** `<ms>-<seq>` canonical, or null when it is not a stream id at all. */
export function canonicalId(raw: string): string | null {
  const match = /^(\d{1,20})(?:-(\d{1,20}))?$/.exec(raw);
  if (!match) return null;
  const ms = BigInt(match[1]);
  const seq = BigInt(match[2] ?? '0');
  return ms > UINT64_MAX || seq > UINT64_MAX ? null : `${ms}-${seq}`;
}

export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as !== bs ? (as < bs ? -1 : 1) : 0;
}

export function classify(truth: Truth, user: string, others: string[], cursor: string | null, via: CursorVia | null): CursorClass {
  if (cursor === null) return { kind: 'none' };
  const id = canonicalId(cursor);
  if (id === null) return via === 'header' ? { kind: 'unknown', why: 'not-an-id-of-this-user' } : { kind: 'malformed' };
  if (id === '0-0') return { kind: 'beginning' };
  const index = truth.indexOf(user, id);
  if (index >= 0) return { kind: 'own', index };
  if (others.some((other) => truth.indexOf(other, id) >= 0)) return { kind: 'unknown', why: 'foreign' };
  const items = truth.items(user);
  if (items.length === 0 || compareIds(id, items[items.length - 1].id) > 0) return { kind: 'unknown', why: 'ahead' };
  return { kind: 'unknown', why: 'not-an-id-of-this-user' };
}

export function describeCursor(cursor: string | null, cls: CursorClass): string {
  if (cls.kind === 'none') return 'no cursor';
  const what = cls.kind === 'own' ? `own #${cls.index}` : cls.kind === 'unknown' ? `unknown: ${cls.why}` : cls.kind;
  return `cursor ${JSON.stringify(cursor)} (${what})`;
}

/** `#index seq=n` for messages people read. */
export function label(items: TruthItem[], index: number): string {
  const item = items[index];
  return item ? `#${index} ${item.id} seq=${item.seq}` : `#${index}`;
}
