import { z } from 'zod';
import { DEFAULT_REDIS_URL, parseRedisUrl, type RedisDeployment } from './redis/redis-deployment';

/**
 * What the notifications library reads of the environment, parsed once by
 * {@link loadNotificationsConfig}. An app's own configuration extends it
 * (the gateway's GatewayConfig); the job-matcher needs nothing more.
 */
export interface NotificationsConfig {
  readonly nodeEnv: string;
  readonly production: boolean;
  readonly redisUrl: string;
  /** The deployment REDIS_URL names: one server, Sentinel or Cluster. */
  readonly redis: RedisDeployment;
  readonly redisKeyPrefix: string;
  /** BullMQ's `prefix`: the key prefix, in braces on a cluster so that a queue's keys share a slot. */
  readonly queuePrefix: string;
  /** Replicas that must hold a notification before its publish answers 202 (Redis WAIT); 0: none. */
  readonly redisReplicaAcks: number;
  readonly historyMaxPerUser: number;
  /** Events each topic keeps for replay. */
  readonly topicHistoryMax: number;
}

/** A bad variable: the message is one line that names it. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The DI token under which the parsed {@link NotificationsConfig} (or an app's extension of it) is provided. */
export const NOTIFICATIONS_CONFIG = Symbol('NOTIFICATIONS_CONFIG');

export type Env = Record<string, string | undefined>;

/** One variable: the schema its raw value must pass, and the raw value that stands in when it is unset or empty. */
export interface Variable<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  readonly fallback: string;
}

/** A whole number in [min, max]. */
export const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/** `true`, `false`, `1` or `0`. */
export const boolean = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

/** A variable's value, or a {@link ConfigError} naming it; an empty value counts as unset. */
export function readVariable<S extends z.ZodType>(env: Env, name: string, { schema, fallback }: Variable<S>): z.output<S> {
  const raw = env[name] === undefined || env[name] === '' ? fallback : env[name];
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`${name}: ${parsed.error.issues[0].message} (got ${JSON.stringify(raw)})`);
  }
  return parsed.data;
}

const redisUrl = z.string().transform((value, context) => {
  try {
    return { url: value, deployment: parseRedisUrl(value) };
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const variables = {
  REDIS_URL: { schema: redisUrl, fallback: DEFAULT_REDIS_URL },
  REDIS_REPLICA_ACKS: { schema: integer(0, 16), fallback: '0' },
  REDIS_KEY_PREFIX: {
    // No ':' in the prefix: it ends at the first ':' of every key, so no two prefixes can build the same key.
    schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 of A-Z a-z 0-9 . _ - (no colon)'),
    fallback: 'rtg',
  },
  HISTORY_MAX_PER_USER: { schema: integer(1, 1_000_000), fallback: '1000' },
  TOPIC_HISTORY_MAX: { schema: integer(1, 1_000_000), fallback: '1000' },
} as const;

function read<K extends keyof typeof variables>(env: Env, name: K): z.output<(typeof variables)[K]['schema']> {
  return readVariable(env, name, variables[name] as Variable) as z.output<(typeof variables)[K]['schema']>;
}

/**
 * Parses and validates the library's variables, applying defaults. Throws
 * {@link ConfigError} on the first bad one; nothing else reads `process.env`.
 */
export function loadNotificationsConfig(env: Env): NotificationsConfig {
  const nodeEnv = env.NODE_ENV || 'development';
  const redis = read(env, 'REDIS_URL');
  const redisKeyPrefix = read(env, 'REDIS_KEY_PREFIX');
  return Object.freeze({
    nodeEnv,
    production: nodeEnv === 'production',
    redisUrl: redis.url,
    redis: redis.deployment,
    redisKeyPrefix,
    queuePrefix: redis.deployment.kind === 'cluster' ? `{${redisKeyPrefix}}` : redisKeyPrefix,
    redisReplicaAcks: read(env, 'REDIS_REPLICA_ACKS'),
    historyMaxPerUser: read(env, 'HISTORY_MAX_PER_USER'),
    topicHistoryMax: read(env, 'TOPIC_HISTORY_MAX'),
  });
}

/** For entry points: what `load` parses, or one line `invalid configuration: VAR: reason` on stderr and exit code 1. */
export function loadOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`invalid configuration: ${error.message}\n`);
    process.exit(1);
  }
}
