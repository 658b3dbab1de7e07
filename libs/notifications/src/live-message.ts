import { NotificationEnvelope } from './notification-envelope';

/*
 * The live message: what the append script publishes on a stream's channel and
 * the fan-out reads. `<id> <type> <notification JSON>`: the id and the type
 * are read without parsing the JSON (neither holds a space: ids are stream
 * ids, types match TYPE_PATTERN), and the JSON is sent to clients as it is.
 * `body` is the stored notification JSON without its opening `{` and its id
 * (see NotificationEnvelope.fromStored), so the script adds both.
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

/** The envelope of a live message of the stream named `streamName` (the channel says whose it is). */
export function decodeLiveMessage(message: string, streamName: string): NotificationEnvelope {
  const idEnd = message.indexOf(' ');
  const typeEnd = message.indexOf(' ', idEnd + 1);
  if (idEnd <= 0 || typeEnd <= idEnd + 1) throw new Error(`not a live message: ${JSON.stringify(message.slice(0, 80))}`);
  return new NotificationEnvelope(message.slice(0, idEnd), message.slice(idEnd + 1, typeEnd), streamName, message.slice(typeEnd + 1));
}
