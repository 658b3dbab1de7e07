import request from 'supertest';
import { RedisKeys } from '@app/notifications';
import { DIRECT_CHAT_LIMITS } from '../apps/gateway/src/realtime/direct-chat.limiter';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { type RedisClient, testRedisClient } from './support/redis';
import { connectSocket, connected, type TestSocket } from './support/socket-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * Direct chat is limited per sender user across all its sockets and instances
 * (messages and bytes), per recipient from all senders, and per (sender →
 * recipient) pair, so that no user can flood another's history or fill Redis.
 * Every limit is a bucket that refills continuously, so each assertion allows
 * what refilled while the burst was in flight.
 */

type Ack = { ok: boolean; id?: string; error?: string };

/** The limits docs/api.md promises (Socket.IO, Limits). */
const SENDER = { messages: 30, bytes: 64 * 1024, windowMs: 10_000 };
const RECIPIENT = { messages: 120, windowMs: 60_000 };
const PAIR = { messages: 30, windowMs: 60_000 };

/** What a bucket of `limit` per `windowMs` refills in `elapsedMs` (one more for the rounding of the clocks). */
const refill = (limit: number, windowMs: number, elapsedMs: number) => Math.floor((elapsedMs * limit) / windowMs) + 1;
/** What a full bucket can let through in `elapsedMs`: the burst plus the refill. */
const allowance = (limit: number, windowMs: number, elapsedMs: number) => limit + refill(limit, windowMs, elapsedMs);

describe('direct chat limits', () => {
  let gateway: TestGateway;
  let second: TestGateway;
  let redis: RedisClient;
  let keys: RedisKeys;
  const clients: TestSocket[] = [];

  const connect = async (userId: string, target = gateway) => {
    const client = connectSocket(target.url, userId);
    clients.push(client);
    await connected(client);
    return client;
  };
  const historyLength = (userId: string) => redis.xlen(keys.userStream(userId));
  /** Sends every message at once and times the burst: the acks in order. */
  const burst = async (sends: Array<[TestSocket, string, string]>) => {
    const started = Date.now();
    const acks = await Promise.all(sends.map(([client, recipientId, content]) => client.request<Ack>('chat', { recipientId, content })));
    return { acks, elapsedMs: Date.now() - started };
  };
  const accepted = (acks: Ack[]) => acks.filter((ack) => ack.ok).length;

  beforeAll(async () => {
    gateway = await startGateway();
    second = await startGateway({ sharedPrefix: gateway.config.redisKeyPrefix });
    redis = testRedisClient();
    keys = new RedisKeys(gateway.config.redisKeyPrefix);
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    redis.disconnect();
    await second.close();
    await gateway.close();
  });

  it('holds a sender with six sockets on two instances to the sender limit in total, and stores nothing it refused', async () => {
    const sender = randomUserId('dm-sender');
    const sockets: TestSocket[] = [];
    for (let i = 0; i < 6; i++) sockets.push(await connect(sender, i % 2 === 0 ? gateway : second));
    // Each to a recipient of its own: only the sender's limit is in play.
    const recipients = Array.from({ length: 90 }, () => randomUserId('dm-rcpt'));
    const { acks, elapsedMs } = await burst(recipients.map((recipient, i) => [sockets[i % sockets.length], recipient, `hello ${i}`]));

    for (const ack of acks) if (!ack.ok) expect(ack).toEqual({ ok: false, error: 'rate_limited' });
    expect(accepted(acks)).toBeGreaterThanOrEqual(SENDER.messages);
    expect(accepted(acks)).toBeLessThanOrEqual(allowance(SENDER.messages, SENDER.windowMs, elapsedMs));
    const stored = await Promise.all(recipients.map(historyLength));
    expect(stored).toEqual(acks.map((ack) => (ack.ok ? 1 : 0)));
  });

  it('holds a sender to the byte limit with 4000-character messages, counting UTF-8 bytes', async () => {
    const ascii = await connect(randomUserId('dm-bytes'));
    const long = 'x'.repeat(4000);
    const first = await burst(Array.from({ length: 25 }, (_, i) => [ascii, randomUserId(`dm-rcpt${i}`), long] as [TestSocket, string, string]));
    expect(accepted(first.acks)).toBeGreaterThanOrEqual(Math.floor(SENDER.bytes / 4000));
    expect(accepted(first.acks)).toBeLessThanOrEqual(allowance(Math.floor(SENDER.bytes / 4000), SENDER.windowMs, first.elapsedMs));
    expect(accepted(first.acks)).toBeLessThan(SENDER.messages);

    // 4000 emoji are 16,000 bytes: four of them fill the same budget.
    const emoji = await connect(randomUserId('dm-bytes'));
    const wide = '😀'.repeat(4000);
    const wider = await burst(Array.from({ length: 10 }, (_, i) => [emoji, randomUserId(`dm-rcpt${i}`), wide] as [TestSocket, string, string]));
    expect(accepted(wider.acks)).toBeGreaterThanOrEqual(Math.floor(SENDER.bytes / 16_000));
    expect(accepted(wider.acks)).toBeLessThanOrEqual(allowance(Math.floor(SENDER.bytes / 16_000), SENDER.windowMs, wider.elapsedMs));
  });

  it('holds many senders on two instances to the recipient limit, and the recipient gets exactly what was accepted', async () => {
    const recipient = randomUserId('dm-popular');
    const inbox = await connect(recipient);
    const senders: TestSocket[] = [];
    for (let i = 0; i < 8; i++) senders.push(await connect(randomUserId('dm-fan'), i % 2 === 0 ? gateway : second));
    // 20 each: under every sender's own limit and under the pair limit, 160 in all.
    const { acks, elapsedMs } = await burst(Array.from({ length: 160 }, (_, i) => [senders[i % senders.length], recipient, `hi ${i}`]));

    expect(accepted(acks)).toBeGreaterThanOrEqual(RECIPIENT.messages);
    expect(accepted(acks)).toBeLessThanOrEqual(allowance(RECIPIENT.messages, RECIPIENT.windowMs, elapsedMs));
    expect(await historyLength(recipient)).toBe(accepted(acks));
    const ids = acks.filter((ack) => ack.ok).map((ack) => ack.id);
    await waitFor(() => ids.every((id) => inbox.eventsNamed('chat').some((chat) => chat.id === id)) || null, 'every accepted chat', 10_000);
    expect(inbox.eventsNamed('chat')).toHaveLength(ids.length);
  });

  it('holds one sender to the pair limit, so that others can still reach the recipient', async () => {
    const victim = randomUserId('dm-victim');
    const abuserId = randomUserId('dm-abuser');
    const abuser = await connect(abuserId);
    const first = await burst(Array.from({ length: PAIR.messages }, (_, i) => [abuser, victim, `spam ${i}`] as [TestSocket, string, string]));
    expect(accepted(first.acks)).toBe(PAIR.messages);
    // What ten seconds do to the sender's own buckets, and not to the pair's.
    await redis.del(keys.directChatSent(abuserId, 'messages'), keys.directChatSent(abuserId, 'bytes'));
    // Another socket of the abuser: the first one's own flood bucket is nearly empty.
    const another = await connect(abuserId);
    const again = await burst(Array.from({ length: 12 }, (_, i) => [another, victim, `more spam ${i}`] as [TestSocket, string, string]));
    expect(accepted(again.acks)).toBeLessThanOrEqual(refill(PAIR.messages, PAIR.windowMs, first.elapsedMs + again.elapsedMs));
    expect(await another.request('chat', { recipientId: randomUserId('dm-other'), content: 'elsewhere' })).toMatchObject({ ok: true });

    const friend = await connect(randomUserId('dm-friend'));
    expect(await friend.request('chat', { recipientId: victim, content: 'are you ok?' })).toMatchObject({ ok: true });
    expect(await historyLength(victim)).toBe(accepted(first.acks) + accepted(again.acks) + 1);
  });

  it("keeps the recipient's job-match through a flood of direct chats larger than the history, from 55 senders", async () => {
    // A history of 200 (the gateways keep 1000): a flood past it is 220 chats, not 1,100, which a
    // loaded two-core machine could not all ack within the client's 5 s (a soak run saw that).
    const small = await startGateway({ sharedPrefix: gateway.config.redisKeyPrefix, env: { HISTORY_MAX_PER_USER: '200' } });
    try {
      const history = small.config.historyMaxPerUser;
      expect(history).toBeGreaterThan(DIRECT_CHAT_LIMITS.recipient.messages);
      const victim = randomUserId('dm-flooded');
      const jobMatch = await publish(small.url, victim, 'job-match', { jobId: 'j-keep' });
      const senders: TestSocket[] = [];
      for (let i = 0; i < 55; i++) senders.push(await connect(randomUserId('dm-flooder'), small));
      const { acks } = await burst(Array.from({ length: history + 20 }, (_, i) => [senders[i % senders.length], victim, `flood ${i}`]));
      expect(accepted(acks)).toBeLessThan(history);

      const polled = await request(small.url).get('/api/notifications?limit=1').set('Authorization', `Bearer ${userToken(victim)}`);
      expect(polled.status).toBe(200);
      expect(polled.body.items[0]).toMatchObject({ id: jobMatch, type: 'job-match', data: { jobId: 'j-keep' } });
    } finally {
      for (const client of clients.splice(0)) client.close();
      await small.close();
    }
  });
});
