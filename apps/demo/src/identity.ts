/*
 * Who a tab is and which room it is in, from its URL and its sessionStorage.
 * Pure functions (no DOM): main.ts applies them, identity.spec.ts checks them.
 *
 * - A first visit is a generated guest, `guest-` and four lowercase letters.
 * - `?guest=new` (the "second tab" link) makes the tab a new guest even if it
 *   inherited its opener's sessionStorage; `?user=<id>` opens it as that user.
 * - `?room=<id>` is the room it joins at once; otherwise the room the tab was
 *   last in, otherwise `lobby`.
 * These parameters are read once and then removed from the address bar, so a
 * reload keeps the tab's user and room (sessionStorage), not the link's.
 */

export const DEFAULT_ROOM = 'lobby';
/** The gateway's room ids (the room form's pattern). */
export const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const GUEST_PATTERN = /^guest-[a-z]{4}$/;
/**
 * Where the gateway runs its demo feed, a guest starts with this saved search:
 * every other sample posting mentions TypeScript (apps/gateway/src/demo/demo-feed.ts),
 * so job-match notifications arrive with no typing.
 */
export const STARTER_SEARCH = { keywords: ['TypeScript'] } as const;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** `guest-` and four random lowercase letters, not `avoid` (the user of the tab that opened this one). */
export function newGuestId(random: () => number = Math.random, avoid: string | null = null): string {
  for (;;) {
    let id = 'guest-';
    for (let i = 0; i < 4; i++) id += LETTERS[Math.floor(random() * LETTERS.length) % LETTERS.length];
    if (id !== avoid) return id;
  }
}

/** A user id as the gateway accepts it (1–128 code points, no whitespace or control characters). */
export function isUserId(value: string): boolean {
  return /^[^\p{Cc}\p{Cs}\p{White_Space}]{1,128}$/u.test(value);
}

export interface Launch {
  /** Sign in as this user (a `?user=` link), if any. */
  user: string | null;
  /** Sign in as a new guest (`?guest=new`). */
  newGuest: boolean;
  /** The room to join (a valid `?room=`), or null: the tab's last room, or the default. */
  room: string | null;
  /** The address without the parameters read here: what the address bar shows afterwards. */
  cleanSearch: string;
}

/** What the page's address asks for. */
export function readLaunch(search: string): Launch {
  const params = new URLSearchParams(search);
  const user = params.get('user');
  const room = params.get('room');
  const launch: Launch = {
    user: user !== null && isUserId(user) ? user : null,
    newGuest: params.get('guest') === 'new',
    room: room !== null && ROOM_PATTERN.test(room) ? room : null,
    cleanSearch: '',
  };
  for (const name of ['user', 'guest', 'room']) params.delete(name);
  const rest = params.toString();
  launch.cleanSearch = rest === '' ? '' : `?${rest}`;
  return launch;
}

/** The "open a second tab as another guest" link: the same page, a new guest, the same room. */
export function secondTabHref(room: string | null): string {
  return `/?${new URLSearchParams({ guest: 'new', room: room ?? DEFAULT_ROOM }).toString()}`;
}

/** The room a tab joins when it signs in: the link's, else the one it was last in ('' = it left its room), else the default. */
export function roomToJoin(fromLink: string | null, remembered: string | null): string | null {
  if (fromLink !== null) return fromLink;
  if (remembered === null) return DEFAULT_ROOM;
  return ROOM_PATTERN.test(remembered) ? remembered : null;
}
