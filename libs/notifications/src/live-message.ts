import { type InboxState, inboxStateOf } from './inbox/inbox-state';
import { NotificationEnvelope } from './notification-envelope';

/*
 * The live message: what the append script publishes on a stream's channel and
 * the fan-out reads. `<id> <type> <notification JSON>`: the id and the type
 * are read without parsing the JSON (neither holds a space: ids are stream
 * ids, types match TYPE_PATTERN), and the JSON is sent to clients as it is.
 * `body` is the stored notification JSON without its opening `{` and its id
 * (see NotificationEnvelope.fromStored), so the script adds both.
 *
 * On a user's channel the message also carries the read state after it:
 * `<live message>\n<unread> <readUpTo> <version>`, and a read publishes the
 * state alone, as `@ <unread> <readUpTo> <version>` (inbox.scripts.ts).
 *
 * The Lua function and decodeLiveMessage are the one encode/decode pair; the
 * tests pin the bytes, and one runs the real script, so a change to either
 * side fails there first.
 */
export const LIVE_MESSAGE_LUA = `
local function live_message(id, type, body)
  return id .. ' ' .. type .. ' {"id":"' .. id .. '",' .. body
end
`;

/** What the Lua function above builds, in TypeScript: for tests and tools. */
export function encodeLiveMessage(id: string, type: string, body: string): string {
  return `${id} ${type} {"id":"${id}",${body}`;
}

/** What the append script adds to a user's live message: the read state after the append. */
export function encodeInboxSuffix(state: InboxState): string {
  return `\n${state.unread} ${state.readUpTo} ${state.version}`;
}

/** A live message that is a read state alone (a read), not an entry. */
export function isInboxMessage(message: string): boolean {
  return message.charCodeAt(0) === 64; // '@': an entry's message starts with its id, a digit
}

/** The envelope of a live message of the stream named `streamName` (the channel says whose it is). */
export function decodeLiveMessage(message: string, streamName: string): NotificationEnvelope {
  const idEnd = message.indexOf(' ');
  const typeEnd = message.indexOf(' ', idEnd + 1);
  if (idEnd <= 0 || typeEnd <= idEnd + 1) throw new Error(`not a live message: ${JSON.stringify(message.slice(0, 80))}`);
  // The JSON ends with "}"; anything else ends the read state after it.
  const jsonEnd = message.charCodeAt(message.length - 1) === 125 ? message.length : message.lastIndexOf('\n');
  return new NotificationEnvelope(message.slice(0, idEnd), message.slice(idEnd + 1, typeEnd), streamName, message.slice(typeEnd + 1, jsonEnd));
}

/** The read state a live message carries (`@ ...` or after an entry), or null if it carries none. */
export function decodeInboxState(message: string): InboxState | null {
  const start = isInboxMessage(message) ? 2 : message.charCodeAt(message.length - 1) === 125 ? -1 : message.lastIndexOf('\n') + 1;
  if (start <= 0) return null;
  const [unread, readUpTo, version] = message.slice(start).split(' ');
  if (version === undefined) throw new Error(`not a read state: ${JSON.stringify(message.slice(start, start + 80))}`);
  return inboxStateOf(unread, readUpTo, version);
}
