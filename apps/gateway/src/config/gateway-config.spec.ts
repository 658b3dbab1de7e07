import { ConfigError } from '@app/notifications';
import { loadGatewayConfig } from './gateway-config';

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadGatewayConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadGatewayConfig(${JSON.stringify(env)}) did not throw`);
}

describe('loadGatewayConfig', () => {
  describe('defaults', () => {
    const config = loadGatewayConfig({});

    it('uses the documented default for every variable', () => {
      expect(config.nodeEnv).toBe('development');
      expect(config.production).toBe(false);
      expect(config.port).toBe(3000);
      expect(config.host).toBe('0.0.0.0');
      expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
      expect(config.redisKeyPrefix).toBe('rtg');
      expect(config.sseHeartbeatMs).toBe(15000);
      expect(config.sseRetryMs).toBe(3000);
      expect(config.historyMaxPerUser).toBe(1000);
      expect(config.workerEmbedded).toBe(true);
      expect(config.internalApiKey).toBeNull();
    });

    it('generates a random JWT secret when none is given', () => {
      expect(config.jwtSecretGenerated).toBe(true);
      expect(typeof config.jwtSecret).toBe('string');
      // 32 random bytes in base64url.
      expect(config.jwtSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(loadGatewayConfig({}).jwtSecret).not.toBe(config.jwtSecret);
    });

    it('treats empty strings as unset', () => {
      const empty = loadGatewayConfig({
        PORT: '',
        HOST: '',
        REDIS_URL: '',
        REDIS_KEY_PREFIX: '',
        SSE_HEARTBEAT_MS: '',
        SSE_RETRY_MS: '',
        HISTORY_MAX_PER_USER: '',
        WORKER_EMBEDDED: '',
        JWT_SECRET: '',
        INTERNAL_API_KEY: '',
      });
      expect(empty.port).toBe(3000);
      expect(empty.host).toBe('0.0.0.0');
      expect(empty.redisUrl).toBe('redis://127.0.0.1:6379');
      expect(empty.redisKeyPrefix).toBe('rtg');
      expect(empty.sseHeartbeatMs).toBe(15000);
      expect(empty.sseRetryMs).toBe(3000);
      expect(empty.historyMaxPerUser).toBe(1000);
      expect(empty.workerEmbedded).toBe(true);
      expect(empty.jwtSecretGenerated).toBe(true);
      expect(empty.internalApiKey).toBeNull();
    });
  });

  it('parses given values', () => {
    const config = loadGatewayConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      REDIS_URL: 'rediss://cache.example:6380/2',
      REDIS_KEY_PREFIX: 'app-test.1',
      SSE_HEARTBEAT_MS: '500',
      SSE_RETRY_MS: '0',
      HISTORY_MAX_PER_USER: '50',
      WORKER_EMBEDDED: 'false',
      JWT_SECRET: 'short-is-fine-outside-production',
      INTERNAL_API_KEY: 'key',
    });
    expect(config.port).toBe(8080);
    expect(config.host).toBe('127.0.0.1');
    expect(config.redisUrl).toBe('rediss://cache.example:6380/2');
    expect(config.redisKeyPrefix).toBe('app-test.1');
    expect(config.sseHeartbeatMs).toBe(500);
    expect(config.sseRetryMs).toBe(0);
    expect(config.historyMaxPerUser).toBe(50);
    expect(config.workerEmbedded).toBe(false);
    expect(config.jwtSecret).toBe('short-is-fine-outside-production');
    expect(config.jwtSecretGenerated).toBe(false);
    expect(config.internalApiKey).toBe('key');
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('reads WORKER_EMBEDDED=%s as %s', (raw, expected) => {
    expect(loadGatewayConfig({ WORKER_EMBEDDED: raw }).workerEmbedded).toBe(expected);
  });

  it('allows PORT=0 and the port range bounds', () => {
    expect(loadGatewayConfig({ PORT: '0' }).port).toBe(0);
    expect(loadGatewayConfig({ PORT: '65535' }).port).toBe(65535);
  });

  it.each([
    ['PORT', '-1'],
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '65536'],
    ['PORT', '80.5'],
    ['REDIS_URL', 'not-a-url'],
    ['REDIS_URL', 'http://x'],
    ['SSE_HEARTBEAT_MS', '-5'],
    ['SSE_RETRY_MS', '1.5'],
    ['HISTORY_MAX_PER_USER', '0'],
    ['WORKER_EMBEDDED', 'maybe'],
    ['REDIS_KEY_PREFIX', 'bad prefix'],
    // A colon would let one prefix be the start of another's keys.
    ['REDIS_KEY_PREFIX', 'rtg:live'],
    ['PORT', '1\n2'],
    ['CORS_ORIGINS', 'app.example.com'],
    ['CORS_ORIGINS', 'https://ok.example.com, *'],
    ['DEV_TOKENS', 'yes'],
    ['DEMO_FEED', 'on'],
  ])('rejects %s=%j with a one-line ConfigError naming it', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.name).toBe('ConfigError');
    expect(error.message.startsWith(`${name}:`)).toBe(true);
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain(`(got ${JSON.stringify(value)})`);
  });

  it('reads CORS_ORIGINS as a list of origins, empty by default', () => {
    expect(loadGatewayConfig({}).corsOrigins).toEqual([]);
    expect(loadGatewayConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
  });

  it('reads the fleet variables: INSTANCE_ID, the connection caps, the drain pace and the accept queue', () => {
    const defaults = loadGatewayConfig({});
    expect(defaults).toMatchObject({ instanceId: null, maxConnectionsPerUser: 32, maxConnectionsPerInstance: 20000, drainPercentPerSecond: 25, listenBacklog: 65535 });
    const given = loadGatewayConfig({ INSTANCE_ID: 'g-2', MAX_CONNECTIONS_PER_USER: '4', MAX_CONNECTIONS_PER_INSTANCE: '100', DRAIN_PERCENT_PER_SECOND: '100', LISTEN_BACKLOG: '511' });
    expect(given).toMatchObject({ instanceId: 'g-2', maxConnectionsPerUser: 4, maxConnectionsPerInstance: 100, drainPercentPerSecond: 100, listenBacklog: 511 });
  });

  it.each([
    ['INSTANCE_ID', 'G1'],
    ['INSTANCE_ID', 'g1.east'],
    ['MAX_CONNECTIONS_PER_USER', '0'],
    ['MAX_CONNECTIONS_PER_INSTANCE', '-1'],
    // Below 15%/s the last wave would leave too late for the 10 s shutdown deadline.
    ['DRAIN_PERCENT_PER_SECOND', '14'],
    ['DRAIN_PERCENT_PER_SECOND', '101'],
    ['LISTEN_BACKLOG', '0'],
    ['LISTEN_BACKLOG', '65536'],
  ])('refuses %s=%p, naming it', (name, value) => {
    expect(() => loadGatewayConfig({ [name]: value })).toThrow(new RegExp(`^${name}: `));
  });

  it('reads ROOM_ACCESS: open by default, or claim', () => {
    expect(loadGatewayConfig({}).roomAccess).toBe('open');
    expect(loadGatewayConfig({ ROOM_ACCESS: 'claim' }).roomAccess).toBe('claim');
    expect(configError({ ROOM_ACCESS: 'closed' }).message).toBe('ROOM_ACCESS: must be open or claim (got "closed")');
  });

  it('reads TOPIC_HISTORY_MAX and PUBLIC_TOPICS: jobs.* by default, none when set empty', () => {
    expect(loadGatewayConfig({})).toMatchObject({ topicHistoryMax: 1000, publicTopics: ['jobs.*'] });
    expect(loadGatewayConfig({ TOPIC_HISTORY_MAX: '5', PUBLIC_TOPICS: ' news , scores.* ' })).toMatchObject({ topicHistoryMax: 5, publicTopics: ['news', 'scores.*'] });
    expect(loadGatewayConfig({ PUBLIC_TOPICS: '' }).publicTopics).toEqual([]);
    expect(configError({ TOPIC_HISTORY_MAX: '0' }).message).toBe('TOPIC_HISTORY_MAX: must be at least 1 (got "0")');
    expect(configError({ PUBLIC_TOPICS: 'Jobs.*' }).message).toMatch(/^PUBLIC_TOPICS: must be a comma-separated list of topic names or prefixes ending in \* .*\(got "Jobs\.\*"\)$/);
    expect(configError({ PUBLIC_TOPICS: 'jobs*.x' }).message).toMatch(/^PUBLIC_TOPICS: /);
  });

  describe('DEV_TOKENS: POST /api/dev/token only where its tokens cannot be trusted elsewhere, or by opt-in', () => {
    it.each([
      [{}, true],
      [{ NODE_ENV: 'staging' }, true],
      [{ JWT_SECRET: 'a-real-secret' }, false],
      [{ JWT_SECRET: 'a-real-secret', NODE_ENV: 'staging' }, false],
      [{ JWT_SECRET: 'a-real-secret', NODE_ENV: 'prod' }, false],
      [{ JWT_SECRET: 'a-real-secret', DEV_TOKENS: 'false' }, false],
      [{ JWT_SECRET: 'a-real-secret', DEV_TOKENS: 'true' }, true],
      [{ JWT_SECRET: 'a-real-secret', DEV_TOKENS: '1', NODE_ENV: 'staging' }, true],
      [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }, false],
      [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), DEV_TOKENS: 'false' }, false],
    ])('%j → devTokens %s', (env, expected) => {
      expect(loadGatewayConfig(env).devTokens).toBe(expected);
    });

    it.each([['true'], ['1']])('refuses DEV_TOKENS=%s with NODE_ENV=production in one line', (value) => {
      const error = configError({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), DEV_TOKENS: value });
      expect(error.message).toBe(`DEV_TOKENS: must not be true when NODE_ENV=production (got "${value}")`);
    });
  });

  describe('DEMO_FEED: sample postings and lobby tips, by opt-in, never in production', () => {
    it.each([
      [{}, false],
      [{ DEMO_FEED: 'false' }, false],
      [{ DEMO_FEED: 'true' }, true],
      [{ DEMO_FEED: '1', JWT_SECRET: 'a-real-secret', NODE_ENV: 'staging' }, true],
    ])('%j → demoFeed %s', (env, expected) => {
      expect(loadGatewayConfig(env).demoFeed).toBe(expected);
    });

    it('refuses DEMO_FEED=true with NODE_ENV=production in one line', () => {
      const error = configError({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), DEMO_FEED: 'true' });
      expect(error.message).toBe('DEMO_FEED: must not be true when NODE_ENV=production (got "true")');
    });
  });

  describe('ADMIN_PASSWORD', () => {
    it('is unset by default, and read as given', () => {
      expect(loadGatewayConfig({}).adminPassword).toBeNull();
      expect(loadGatewayConfig({ ADMIN_PASSWORD: '' }).adminPassword).toBeNull();
      expect(loadGatewayConfig({ ADMIN_PASSWORD: 'short is fine outside production' }).adminPassword).toBe('short is fine outside production');
    });

    it('must differ from INTERNAL_API_KEY', () => {
      expect(configError({ INTERNAL_API_KEY: 'same-value', ADMIN_PASSWORD: 'same-value' }).message).toBe(
        'ADMIN_PASSWORD: must differ from INTERNAL_API_KEY',
      );
    });

    it('must be at least 16 characters when NODE_ENV=production', () => {
      const production = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) };
      expect(configError({ ...production, ADMIN_PASSWORD: 'p'.repeat(15) }).message).toBe(
        'ADMIN_PASSWORD: must be at least 16 characters when NODE_ENV=production',
      );
      expect(loadGatewayConfig({ ...production, ADMIN_PASSWORD: 'p'.repeat(16) }).adminPassword).toBe('p'.repeat(16));
    });
  });

  it('gives a readable reason for a bad value', () => {
    expect(configError({ PORT: '70000' }).message).toBe('PORT: must be at most 65535 (got "70000")');
    expect(configError({ PORT: 'abc' }).message).toBe('PORT: must be a whole number (got "abc")');
    expect(configError({ WORKER_EMBEDDED: 'maybe' }).message).toBe('WORKER_EMBEDDED: must be true or false (got "maybe")');
    expect(configError({ REDIS_URL: 'http://x' }).message).toBe('REDIS_URL: must be a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL (got "http://x")');
    expect(configError({ REDIS_URL: 'redis+sentinel://h:26379' }).message).toMatch(/^REDIS_URL: must end with the master name/);
    expect(configError({ REDIS_URL: 'redis+cluster://h:99999' }).message).toBe('REDIS_URL: "h:99999" is not host:port (got "redis+cluster://h:99999")');
    expect(configError({ REDIS_REPLICA_ACKS: '-1' }).message).toBe('REDIS_REPLICA_ACKS: must be at least 0 (got "-1")');
  });

  describe('production', () => {
    const secret32 = 'x'.repeat(32);

    it('requires JWT_SECRET', () => {
      const error = configError({ NODE_ENV: 'production' });
      expect(error.message.startsWith('JWT_SECRET:')).toBe(true);
      expect(error.message).not.toContain('\n');
      expect(configError({ NODE_ENV: 'production', JWT_SECRET: '' }).message.startsWith('JWT_SECRET:')).toBe(true);
    });

    it('rejects a JWT_SECRET shorter than 32 characters', () => {
      const error = configError({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(31) });
      expect(error.message.startsWith('JWT_SECRET:')).toBe(true);
      expect(error.message).not.toContain('\n');
    });

    it('accepts a JWT_SECRET of 32 or more characters', () => {
      const config = loadGatewayConfig({ NODE_ENV: 'production', JWT_SECRET: secret32 });
      expect(config.production).toBe(true);
      expect(config.nodeEnv).toBe('production');
      expect(config.jwtSecret).toBe(secret32);
      expect(config.jwtSecretGenerated).toBe(false);
      expect(loadGatewayConfig({ NODE_ENV: 'production', JWT_SECRET: 'y'.repeat(64) }).jwtSecret).toBe('y'.repeat(64));
    });

    it('rejects a short INTERNAL_API_KEY', () => {
      const error = configError({ NODE_ENV: 'production', JWT_SECRET: secret32, INTERNAL_API_KEY: 'short' });
      expect(error.message.startsWith('INTERNAL_API_KEY:')).toBe(true);
      expect(loadGatewayConfig({ NODE_ENV: 'production', JWT_SECRET: secret32, INTERNAL_API_KEY: 'k'.repeat(16) }).internalApiKey).toBe(
        'k'.repeat(16),
      );
    });
  });

  it('returns a frozen object', () => {
    const config = loadGatewayConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(3000);
  });
});
