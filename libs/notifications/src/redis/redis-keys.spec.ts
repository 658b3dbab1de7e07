import calculateSlot from 'cluster-key-slot';
import { RedisKeys, userTag } from './redis-keys';

const hashTag = (key: string): string | null => {
  // Redis Cluster hashes the part between the first '{' and the next '}' (if non-empty).
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return null;
  return key.slice(open + 1, close);
};

describe('RedisKeys', () => {
  const keys = new RedisKeys('rtg');

  it('builds the documented key shapes', () => {
    expect(keys.prefix).toBe('rtg');
    expect(keys.userStream('u1')).toBe('rtg:history:{u1}');
    expect(keys.idempotency('u1', 'k1')).toBe('rtg:idempotency:{u1}:k1');
    expect(keys.userChannel('u1')).toBe('rtg:live:{u1}');
    expect(keys.allKeysPattern()).toBe('rtg:*');
  });

  it.each([['rtg'], ['test:run-1'], ['a.b_c']])('starts every key of prefix %j with the prefix and a colon', (prefix) => {
    const k = new RedisKeys(prefix);
    for (const key of [k.userStream('u'), k.idempotency('u', 'key'), k.userChannel('u'), k.allKeysPattern()]) {
      expect(key.startsWith(`${prefix}:`)).toBe(true);
    }
  });

  it.each([['u1'], ['user@example.com'], ['a:b'], ['12345'], ['ü-用户-x-🚀'], ['👩\u200d👩\u200d👧']])(
    'puts the stream and idempotency keys of %j in one hash slot',
    (userId) => {
      const streamTag = hashTag(keys.userStream(userId));
      expect(streamTag).toBe(userId);
      expect(hashTag(keys.idempotency(userId, 'k'))).toBe(streamTag);
      expect(hashTag(keys.idempotency(userId, 'other-key'))).toBe(streamTag);
    },
  );

  it('puts a room\'s members, each instance\'s sockets in it and its presence grace keys in one hash slot', () => {
    const tag = hashTag(keys.roomMembers('team-1'));
    expect(tag).toBe('team-1');
    expect(hashTag(keys.roomSockets('team-1', 'g1.abc'))).toBe(tag);
    expect(hashTag(keys.presenceGrace('team-1', 'u1'))).toBe(tag);
    expect(keys.roomSockets('team-1', 'g1.abc')).not.toBe(keys.roomSockets('team-1', 'g2.abc'));
  });

  it('never gives two (user, idempotency key) pairs one key, whatever braces, colons and escapes they hold', () => {
    const users = ['a', 'a}', 'a}:b', 'a}:b}:c', '}:', '{a}', 'a%7D', 'a:b'];
    const idempotencyKeys = ['c', 'b}:c', ':c', '}:c', 'c}', '%7D', '%', '%25', 'b%7D:c', 'job-match:j1'];
    const produced = new Set<string>();
    for (const userId of users) for (const key of idempotencyKeys) produced.add(keys.idempotency(userId, key));
    expect(produced.size).toBe(users.length * idempotencyKeys.length);
    expect(keys.idempotency('a', 'b}:c')).not.toBe(keys.idempotency('a}:b', 'c'));
  });

  it('keeps idempotency keys without `%` or `}` as they were stored before', () => {
    expect(keys.idempotency('u1', 'job-match:j-1.x_y')).toBe('rtg:idempotency:{u1}:job-match:j-1.x_y');
  });

  it('gives different users different hash tags', () => {
    expect(hashTag(keys.userStream('a'))).not.toBe(hashTag(keys.userStream('b')));
  });

  const oddIds = ['u1', 'a:b', 'live:x', 'user@example.com', '{tag}', '}x', '{', '}', '{}', 'a}b{c', 'ü-用户-x-🚀', 'Ωμέγα', '🚀'.repeat(128)];

  it.each(oddIds.map((id) => [id]))('puts every key and the live channel of %j in one cluster slot', (userId) => {
    const slot = calculateSlot(keys.userStream(userId));
    for (const key of [
      keys.trimmedWatermark(userId),
      keys.idempotency(userId, 'k}{'),
      keys.userChannel(userId),
      keys.userSavedSearches(userId),
      keys.directChatSent(userId, 'bytes'),
      keys.directChatReceived(userId),
      keys.directChatPair('x}', userId),
    ]) {
      expect(calculateSlot(key)).toBe(slot);
    }
  });

  it('gives every user a channel and a stream of their own, braces or not', () => {
    const ids = [...oddIds, 'a', 'a}', 'a%7D', 'a}:b', '}:'];
    expect(new Set(ids.map((id) => keys.userChannel(id))).size).toBe(ids.length);
    expect(new Set(ids.map((id) => keys.userStream(id))).size).toBe(ids.length);
  });

  it('tags an id with braces by its hash, and an id without by itself', () => {
    expect(userTag('u1')).toBe('{u1}');
    expect(userTag('a}b')).toMatch(/^\{[0-9a-f]{40}\}:a%7Db$/);
    expect(hashTag(keys.userStream('a}b'))).toMatch(/^[0-9a-f]{40}$/);
  });

  it('never produces the same key or channel under two prefixes (prefixes hold no colon)', () => {
    const prefixes = ['rtg', 'rtg2', 'rtg-test', 'rtg.live', 'rtg_notifications', 'other'];
    const users = ['u1', 'u2', 'a:b', 'notifications:{u1}', '}x'];
    const owner = new Map<string, string>();
    for (const prefix of prefixes) {
      const k = new RedisKeys(prefix);
      const produced = new Set<string>();
      for (const userId of users) {
        produced.add(k.userStream(userId));
        produced.add(k.idempotency(userId, 'key'));
        produced.add(k.idempotency(userId, 'key:2'));
        produced.add(k.trimmedWatermark(userId));
        produced.add(k.userChannel(userId));
      }
      for (const key of produced) {
        expect(owner.get(key) ?? prefix).toBe(prefix);
        owner.set(key, prefix);
      }
    }
    expect(owner.size).toBe(prefixes.length * users.length * 5);
  });

  it('gives the same user different channels under different prefixes', () => {
    const prefixes = ['rtg', 'rtg2', 'rtg-test', 'other'];
    const channels = prefixes.map((prefix) => new RedisKeys(prefix).userChannel('u1'));
    expect(new Set(channels).size).toBe(prefixes.length);
  });
});

describe('RedisKeys of direct chat limits', () => {
  const keys = new RedisKeys('rtg');

  it.each([['u1'], ['a:b'], ['ü-用户-x-🚀'], ['}x'], ['{tag}']])('keeps the sender buckets of %j in the sender slot and the recipient buckets in the recipient slot', (userId) => {
    const slotOf = (key: string) => hashTag(key);
    const own = slotOf(keys.userStream(userId));
    expect(slotOf(keys.directChatSent(userId, 'messages'))).toBe(own);
    expect(slotOf(keys.directChatSent(userId, 'bytes'))).toBe(own);
    expect(slotOf(keys.directChatReceived(userId))).toBe(own);
    expect(slotOf(keys.directChatPair('someone-else', userId))).toBe(own);
  });

  it('never gives two (sender, recipient) pairs one key, whatever braces and colons the ids hold', () => {
    const ids = ['a', 'b', 'a}', 'a}:b', 'b}:a', '}:', ':', '{a}', 'a%7D', '%'];
    const produced = new Set<string>();
    for (const sender of ids) for (const recipient of ids) produced.add(keys.directChatPair(sender, recipient));
    expect(produced.size).toBe(ids.length * ids.length);
  });
});
