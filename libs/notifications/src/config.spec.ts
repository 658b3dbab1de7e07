import { ConfigError, integer, loadNotificationsConfig, loadOrExit, readVariable } from './config';

describe('loadNotificationsConfig', () => {
  it('uses the documented defaults', () => {
    expect(loadNotificationsConfig({})).toEqual({
      nodeEnv: 'development',
      production: false,
      redisUrl: 'redis://127.0.0.1:6379',
      redis: expect.objectContaining({ kind: 'single' }),
      redisKeyPrefix: 'rtg',
      queuePrefix: 'rtg',
      redisReplicaAcks: 0,
      historyMaxPerUser: 1000,
      topicHistoryMax: 1000,
    });
  });

  it('reads the library variables and braces the queue prefix on a cluster, so that a queue keeps to one slot', () => {
    const config = loadNotificationsConfig({
      NODE_ENV: 'production',
      REDIS_URL: 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001',
      REDIS_KEY_PREFIX: 'app-1',
      REDIS_REPLICA_ACKS: '1',
      HISTORY_MAX_PER_USER: '50',
      TOPIC_HISTORY_MAX: '20',
    });
    expect(config).toMatchObject({ production: true, redisKeyPrefix: 'app-1', queuePrefix: '{app-1}', redisReplicaAcks: 1, historyMaxPerUser: 50, topicHistoryMax: 20 });
    expect(config.redis.kind).toBe('cluster');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("asks nothing of an app's own variables: a job-matcher in production needs no JWT_SECRET", () => {
    expect(() => loadNotificationsConfig({ NODE_ENV: 'production', PORT: 'not a port' })).not.toThrow();
  });

  it.each([
    ['REDIS_URL', 'http://x', 'must be a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL'],
    ['REDIS_KEY_PREFIX', 'a:b', 'must be 1-64 of A-Z a-z 0-9 . _ - (no colon)'],
    ['REDIS_REPLICA_ACKS', '17', 'must be at most 16'],
    ['HISTORY_MAX_PER_USER', '0', 'must be at least 1'],
    ['TOPIC_HISTORY_MAX', 'many', 'must be a whole number'],
  ])('refuses %s=%p in one line that names it', (name, value, reason) => {
    expect(() => loadNotificationsConfig({ [name]: value })).toThrow(new ConfigError(`${name}: ${reason} (got ${JSON.stringify(value)})`));
  });
});

describe('readVariable', () => {
  const variable = { schema: integer(1, 10), fallback: '3' };

  it('reads an empty value as unset', () => {
    expect(readVariable({ N: '' }, 'N', variable)).toBe(3);
    expect(readVariable({}, 'N', variable)).toBe(3);
    expect(readVariable({ N: '7' }, 'N', variable)).toBe(7);
  });
});

describe('loadOrExit', () => {
  it('returns what loads, and lets an error that is not about configuration through', () => {
    expect(loadOrExit(() => 42)).toBe(42);
    expect(() =>
      loadOrExit(() => {
        throw new TypeError('a bug');
      }),
    ).toThrow(TypeError);
  });
});
