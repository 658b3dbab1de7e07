/**
 * A user's read state as every connection of the user is told it. `version`
 * orders states: it grows with every change (see INBOX_LUA's next_version), so
 * a connection that hears two states out of order keeps the newer one. It
 * never reaches a client: the wire payload is {@link InboxPayload}.
 */
export interface InboxState {
  /** The user's retained notifications that are not read: exact. */
  readonly unread: number;
  /** The newest id below which everything is read ("0-0" at first). */
  readonly readUpTo: string;
  readonly version: number;
}

/** `inbox` on SSE and Socket.IO, and the answer of the inbox routes. */
export interface InboxPayload {
  unread: number;
  readUpTo: string;
}

/** The state of a user who has never had a notification. */
export const EMPTY_INBOX: InboxState = { unread: 0, readUpTo: '0-0', version: 0 };

/**
 * A user's changes closer together than this reach a connection as one
 * `inbox` (a posting that matches three of a user's searches is one badge
 * update); the last state of a burst always goes out at the end of it.
 */
export const INBOX_COALESCE_MS = 40;

/** What a read asks for: these ids, or everything up to (and including) an id. */
export type MarkReadRequest = { readonly ids: readonly string[] } | { readonly upTo: string };

export function inboxPayload(state: InboxState): InboxPayload {
  return { unread: state.unread, readUpTo: state.readUpTo };
}

/** The state from the three fields the scripts return: unread, readUpTo, version. */
export function inboxStateOf(unread: number | string, readUpTo: string, version: number | string): InboxState {
  return { unread: Number(unread), readUpTo, version: Number(version) };
}
