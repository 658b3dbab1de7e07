import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { boolean, ConfigError, type Env, integer, loadNotificationsConfig, type NotificationsConfig, readVariable, TOPIC_GRANT_PATTERN, type Variable } from '@app/notifications';

/** The gateway's start-up configuration: the notifications library's, and what the channels and the edge need. */
export interface GatewayConfig extends NotificationsConfig {
  readonly port: number;
  readonly host: string;
  /** Accept queue of the listening socket; the kernel caps it at net.core.somaxconn. */
  readonly listenBacklog: number;
  readonly jwtSecret: string;
  /** True when no JWT_SECRET was given and a random per-process one is in use. */
  readonly jwtSecretGenerated: boolean;
  readonly internalApiKey: string | null;
  /**
   * Whether `POST /api/dev/token` exists: outside production, and only with a
   * per-process secret (its tokens are trusted nowhere else) or DEV_TOKENS=true.
   */
  readonly devTokens: boolean;
  /** Whether this process posts sample jobs and lobby tips while someone is connected (see DEMO_FEED); never in production. */
  readonly demoFeed: boolean;
  /** Basic-auth password of Bull Board at /admin/queues; null: nobody gets in. */
  readonly adminPassword: string | null;
  readonly sseHeartbeatMs: number;
  readonly sseRetryMs: number;
  readonly workerEmbedded: boolean;
  /** Browser origins allowed to call the HTTP API and open Socket.IO connections cross-origin; empty: same origin only. */
  readonly corsOrigins: readonly string[];
  /** This instance's name behind a proxy: it prefixes Socket.IO session ids so the proxy can route a session's polling requests back here. */
  readonly instanceId: string | null;
  /** Live connections (SSE streams and sockets together) one user may hold on this instance. */
  readonly maxConnectionsPerUser: number;
  /** Live connections this instance accepts in all. */
  readonly maxConnectionsPerInstance: number;
  /** Share of the live connections closed per second on shutdown. */
  readonly drainPercentPerSecond: number;
  /** `open`: any user may join any room id; `claim`: only rooms the token's `rooms` claim lists. */
  readonly roomAccess: 'open' | 'claim';
  /** Topic names and prefixes ending in `*` that every signed-in user may follow. */
  readonly publicTopics: readonly string[];
}

/** The DI token under which the parsed {@link GatewayConfig} is provided. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

const variables = {
  PORT: { schema: integer(0, 65535), fallback: '3000' },
  HOST: { schema: z.string().min(1, 'must not be empty'), fallback: '0.0.0.0' },
  // Node's own default, 511, overflows when a neighbour's whole drain lands here: the kernel then
  // drops handshakes and a proxy's connect times out. The kernel caps the value at somaxconn (as Go does).
  LISTEN_BACKLOG: { schema: integer(1, 65535), fallback: '65535' },
  SSE_HEARTBEAT_MS: { schema: integer(10, 3_600_000), fallback: '15000' },
  SSE_RETRY_MS: { schema: integer(0, 3_600_000), fallback: '3000' },
  WORKER_EMBEDDED: { schema: boolean, fallback: 'true' },
  CORS_ORIGINS: {
    schema: z
      .string()
      .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s,]+$/, 'must be a comma-separated list of origins like https://app.example.com'))),
    fallback: '',
  },
  INSTANCE_ID: { schema: z.string().regex(/^([a-z0-9][a-z0-9-]{0,31})?$/, 'must be 1-32 of a-z 0-9 - (or empty)'), fallback: '' },
  MAX_CONNECTIONS_PER_USER: { schema: integer(1, 1_000_000), fallback: '32' },
  MAX_CONNECTIONS_PER_INSTANCE: { schema: integer(1, 10_000_000), fallback: '20000' },
  // At least 15%/s: at most 7 waves, the last 6 s after SIGTERM, leaving the worker and Redis 3.5 s of the 10 s deadline.
  DRAIN_PERCENT_PER_SECOND: { schema: integer(15, 100), fallback: '25' },
  DEV_TOKENS: { schema: boolean, fallback: 'false' },
  DEMO_FEED: { schema: boolean, fallback: 'false' },
  ROOM_ACCESS: { schema: z.enum(['open', 'claim'], { error: 'must be open or claim' }), fallback: 'open' },
} as const;

function read<K extends keyof typeof variables>(env: Env, name: K): z.output<(typeof variables)[K]['schema']> {
  return readVariable(env, name, variables[name] as Variable) as z.output<(typeof variables)[K]['schema']>;
}

const topicGrants = z
  .string()
  .transform((value) => value.split(',').map((grant) => grant.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(TOPIC_GRANT_PATTERN, 'must be a comma-separated list of topic names or prefixes ending in * (like jobs.*)')));

/**
 * PUBLIC_TOPICS, read apart from the others: set but empty means no public
 * topic at all, where every other variable falls back to its default.
 */
function readPublicTopics(env: Env): readonly string[] {
  const raw = env.PUBLIC_TOPICS ?? 'jobs.*';
  const parsed = topicGrants.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`PUBLIC_TOPICS: ${parsed.error.issues[0].message} (got ${JSON.stringify(raw)})`);
  return Object.freeze(parsed.data);
}

/**
 * Parses and validates every variable of the contract, applying defaults.
 * Throws {@link ConfigError} on the first bad one; nothing else reads `process.env`.
 */
export function loadGatewayConfig(env: Env): GatewayConfig {
  const notifications = loadNotificationsConfig(env);
  const { production } = notifications;

  const jwtSecret = env.JWT_SECRET;
  if (jwtSecret !== undefined && jwtSecret !== '' && production && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET: must be at least 32 characters when NODE_ENV=production');
  }
  if ((jwtSecret === undefined || jwtSecret === '') && production) {
    throw new ConfigError('JWT_SECRET: is required when NODE_ENV=production');
  }

  const internalApiKey = env.INTERNAL_API_KEY === undefined || env.INTERNAL_API_KEY === '' ? null : env.INTERNAL_API_KEY;
  if (internalApiKey !== null && production && internalApiKey.length < 16) {
    throw new ConfigError('INTERNAL_API_KEY: must be at least 16 characters when NODE_ENV=production');
  }

  // Dev tokens signed with a real secret would let anyone sign in as anyone: never in production.
  const devTokensOptIn = read(env, 'DEV_TOKENS');
  if (devTokensOptIn && production) {
    throw new ConfigError(`DEV_TOKENS: must not be true when NODE_ENV=production (got ${JSON.stringify(env.DEV_TOKENS)})`);
  }

  // Sample postings reach real users' saved searches: a local trial only.
  const demoFeed = read(env, 'DEMO_FEED');
  if (demoFeed && production) {
    throw new ConfigError(`DEMO_FEED: must not be true when NODE_ENV=production (got ${JSON.stringify(env.DEMO_FEED)})`);
  }

  const adminPassword = env.ADMIN_PASSWORD === undefined || env.ADMIN_PASSWORD === '' ? null : env.ADMIN_PASSWORD;
  if (adminPassword !== null && production && adminPassword.length < 16) {
    throw new ConfigError('ADMIN_PASSWORD: must be at least 16 characters when NODE_ENV=production');
  }
  // Its own credential: a publisher holding the internal key must not get the board's delete buttons too.
  if (adminPassword !== null && adminPassword === internalApiKey) {
    throw new ConfigError('ADMIN_PASSWORD: must differ from INTERNAL_API_KEY');
  }

  return Object.freeze({
    ...notifications,
    port: read(env, 'PORT'),
    host: read(env, 'HOST'),
    listenBacklog: read(env, 'LISTEN_BACKLOG'),
    jwtSecret: jwtSecret || randomBytes(32).toString('base64url'),
    jwtSecretGenerated: !jwtSecret,
    internalApiKey,
    devTokens: !production && (!jwtSecret || devTokensOptIn),
    demoFeed,
    adminPassword,
    sseHeartbeatMs: read(env, 'SSE_HEARTBEAT_MS'),
    sseRetryMs: read(env, 'SSE_RETRY_MS'),
    workerEmbedded: read(env, 'WORKER_EMBEDDED'),
    corsOrigins: Object.freeze(read(env, 'CORS_ORIGINS')),
    instanceId: read(env, 'INSTANCE_ID') || null,
    maxConnectionsPerUser: read(env, 'MAX_CONNECTIONS_PER_USER'),
    maxConnectionsPerInstance: read(env, 'MAX_CONNECTIONS_PER_INSTANCE'),
    drainPercentPerSecond: read(env, 'DRAIN_PERCENT_PER_SECOND'),
    roomAccess: read(env, 'ROOM_ACCESS'),
    publicTopics: readPublicTopics(env),
  });
}
