/*
 * The Lua of the inbox: a user's read state beside their history, in their
 * hash slot. The unread notifications are a sorted set of their ids, every
 * score 0 and each id zero-padded (`pad_id`), so lexical order is id order:
 * `unread` is ZCARD (exact, O(1)), a read of ids is a ZREM each (an id that is
 * not the user's is simply not a member), a read "up to" one id is one
 * ZREMRANGEBYLEX, and a trim removes the trimmed ids the same way. The state
 * hash holds `r`, the newest id below which everything is read, and `v`, the
 * version that orders the states connections are told.
 *
 * Every change publishes the new state on the user's live channel, so every
 * instance tells every connection of the user: the append script appends it
 * to the notification's live message, a read publishes `@ <unread> <readUpTo>
 * <version>` (see live-message.ts).
 */
export const INBOX_LUA = `
local function pad_id(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return string.rep('0', 20 - #ms) .. ms .. '-' .. string.rep('0', 20 - #seq) .. seq
end
local function unpad_id(member)
  local ms, seq = string.match(member, '^0*(%d+)-0*(%d+)$')
  return ms .. '-' .. seq
end
-- Grows with every change, and past a clock in microseconds: a state hash that
-- expired with its history starts again above every version told before.
local function next_version(state)
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
  local version = string.format('%.0f', math.max(tonumber(redis.call('HGET', state, 'v') or '0') + 1, now))
  redis.call('HSET', state, 'v', version)
  return version
end
local function inbox_state(unread, state)
  local fields = redis.call('HMGET', state, 'r', 'v')
  return {redis.call('ZCARD', unread), fields[1] or '0-0', fields[2] or '0'}
end
`;

/*
 * Marks notifications read, by ids or up to an id, then moves `r` to the
 * newest retained id below the oldest unread one (or the newest id when none
 * is unread), never back. Nothing is written for a user with no history, nor
 * when nothing changed; a change renews the keys to expire with the history.
 * KEYS: history, unread, state   ARGV: channel, 'ids' | 'upTo', id...
 * Returns {unread, readUpTo, version}.
 */
export const MARK_READ_SCRIPT = `${INBOX_LUA}
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return inbox_state(KEYS[2], KEYS[3]) end
local changed = 0
if ARGV[2] == 'upTo' then
  local newest = redis.call('XREVRANGE', KEYS[1], ARGV[3], '-', 'COUNT', 1)
  if #newest > 0 then changed = redis.call('ZREMRANGEBYLEX', KEYS[2], '-', '[' .. pad_id(newest[1][1])) end
else
  for i = 3, #ARGV do changed = changed + redis.call('ZREM', KEYS[2], pad_id(ARGV[i])) end
end
local read_up_to = redis.call('HGET', KEYS[3], 'r') or '0-0'
local oldest_unread = redis.call('ZRANGE', KEYS[2], 0, 0)
local below
if #oldest_unread == 0 then
  below = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
else
  below = redis.call('XREVRANGE', KEYS[1], '(' .. unpad_id(oldest_unread[1]), '-', 'COUNT', 1)
end
if #below > 0 and pad_id(below[1][1]) > pad_id(read_up_to) then
  read_up_to = below[1][1]
  redis.call('HSET', KEYS[3], 'r', read_up_to)
  changed = changed + 1
end
if changed == 0 then return inbox_state(KEYS[2], KEYS[3]) end
local version = next_version(KEYS[3])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
local unread = redis.call('ZCARD', KEYS[2])
redis.call('SPUBLISH', ARGV[1], '@ ' .. unread .. ' ' .. read_up_to .. ' ' .. version)
return {unread, read_up_to, version}
`;

/* KEYS: unread, state. Returns {unread, readUpTo, version}. */
export const INBOX_STATE_SCRIPT = `${INBOX_LUA}
return inbox_state(KEYS[1], KEYS[2])
`;
