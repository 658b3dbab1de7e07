import { LIVE_MESSAGE_LUA } from './live-message';
import { INBOX_LUA } from './inbox/inbox.scripts';
import { TAKE_BUCKETS_LUA } from './rate-limit/rate-limiter';

/* The Lua scripts of NotificationStore: a stream's history (a user's or a topic's), its trim watermark and live channel. */

export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/**
 * A user's history is deleted a day after its newest notification: an id that
 * nobody ever reads (a typo, a probe, direct chats to made-up ids) must not
 * keep its keys for good. A cursor into a history that expired is then an
 * unknown cursor (see resumePoint).
 */
export const HISTORY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * A topic's history is deleted a week after its newest event: a feed that is
 * quiet for a weekend keeps its replay, and the topics of finished matches or
 * imports do not stay for good.
 */
export const TOPIC_HISTORY_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/*
 * Store and publish in one script: the XADD that assigns the id and the SPUBLISH
 * that fans it out are atomic, so every instance sees a user's live
 * notifications in stream order, and a subscriber that reads the stream after
 * subscribing can merge the two by id without a gap. An idempotency key is
 * checked and recorded in the same step, so a retried publish stores nothing.
 * Before trimming, the newest id about to be trimmed is recorded: XADD MAXLEN
 * does not update the stream's max-deleted-entry-id, and a resume point older
 * than that id has lost notifications. Rate buckets of the recipient (direct
 * chat) are taken in the same step, so nothing over a limit is ever stored,
 * and a duplicate costs no budget. The expiry is set last: SET on the
 * watermark clears it, and every append renews it.
 *
 * A user's notification is unread until read (inbox.scripts.ts): it joins the
 * unread set, the trimmed ones leave it, and the new state rides on the live
 * message, after a newline the notification JSON never holds.
 *
 * The live channel is in the user's slot too, as a cluster requires of a
 * script's SPUBLISH; the message is built by live_message (live-message.ts).
 *
 * KEYS: stream, trimmed-watermark [, idempotency] [, unread, inbox-state] [, bucket...]   (all in the stream's slot)
 * ARGV: maxlen, type, body, channel, idempotency-ttl, history-ttl-ms, has-idempotency (0|1), has-inbox (0|1) [, bucket triples]
 * body is the notification JSON without its opening "{" and its id.
 * Returns {id, 0}, {first id, 1} for a duplicate, or {'', 2} when over a bucket.
 */
export const APPEND_SCRIPT = `${TAKE_BUCKETS_LUA}${LIVE_MESSAGE_LUA}${INBOX_LUA}
local idempotent = tonumber(ARGV[7])
local inbox = tonumber(ARGV[8])
if idempotent == 1 then
  local previous = redis.call('GET', KEYS[3])
  if previous then return {previous, 1} end
end
local unread, state = KEYS[3 + idempotent], KEYS[4 + idempotent]
local buckets = 3 + idempotent + 2 * inbox
if #KEYS >= buckets and not take_buckets(buckets, 9) then return {'', 2} end
local max = tonumber(ARGV[1])
local length = redis.call('XLEN', KEYS[1])
local last_trimmed = nil
if length >= max then
  local trimmed = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', length - max + 1)
  last_trimmed = trimmed[#trimmed][1]
  redis.call('SET', KEYS[2], last_trimmed)
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', max, '*', 't', ARGV[2], 'n', ARGV[3])
if idempotent == 1 then redis.call('SET', KEYS[3], id, 'EX', ARGV[5]) end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
local message = live_message(id, ARGV[2], ARGV[3])
if inbox == 1 then
  if last_trimmed then redis.call('ZREMRANGEBYLEX', unread, '-', '[' .. pad_id(last_trimmed)) end
  redis.call('ZADD', unread, 0, pad_id(id))
  local version = next_version(state)
  redis.call('PEXPIRE', unread, ARGV[6])
  redis.call('PEXPIRE', state, ARGV[6])
  message = message .. '\\n' .. redis.call('ZCARD', unread) .. ' ' .. (redis.call('HGET', state, 'r') or '0-0') .. ' ' .. version
end
redis.call('SPUBLISH', ARGV[4], message)
return {id, 0}
`;

/*
 * The newest id in the stream, the newest id trimmed from it, and for each
 * cursor in ARGV whether the stream holds it (see resumePoint); for a user,
 * then the read state as of the same step (unread, readUpTo, version).
 * KEYS: stream, trimmed-watermark [, unread, inbox-state]   ARGV: cursors
 */
export const POSITION_SCRIPT = `${INBOX_LUA}
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = '0-0'
if #newest > 0 then last = newest[1][1] end
local reply = {last, redis.call('GET', KEYS[2]) or '0-0'}
for i = 1, #ARGV do
  reply[i + 2] = #redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i], 'COUNT', 1)
end
if #KEYS == 4 then
  local state = inbox_state(KEYS[3], KEYS[4])
  for i = 1, 3 do reply[#reply + 1] = state[i] end
end
return reply
`;

/*
 * A page of history after a cursor, read together with what decides whether
 * the cursor still holds: the trim watermark and the newest id in the same
 * atomic step, so a trim between the two cannot slip a gap past the reader.
 * Given a user's unread set, also whether each entry is read (1) or not (0).
 * KEYS: stream, trimmed-watermark [, unread]   ARGV: after ('-' = the oldest retained), count, check ('1': report whether after exists)
 */
export const READ_SCRIPT = `${INBOX_LUA}
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = '0-0'
if #newest > 0 then last = newest[1][1] end
local exists = 0
if ARGV[3] == '1' then exists = #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1], 'COUNT', 1) end
local start = ARGV[1]
if start ~= '-' then start = '(' .. start end
-- An exclusive start at the largest id has no successor: Redis refuses it, and nothing can follow it anyway.
local entries = redis.pcall('XRANGE', KEYS[1], start, '+', 'COUNT', ARGV[2])
if entries.err then entries = {} end
local read = {}
if #KEYS == 3 then
  for i = 1, #entries do
    if redis.call('ZSCORE', KEYS[3], pad_id(entries[i][1])) then read[i] = 0 else read[i] = 1 end
  end
end
return {last, redis.call('GET', KEYS[2]) or '0-0', exists, entries, read}
`;
