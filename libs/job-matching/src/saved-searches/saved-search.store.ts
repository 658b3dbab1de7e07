import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { InvalidInputError, isRedisUnavailable, NOTIFICATIONS_CONFIG, NotFoundError, type NotificationsConfig, RedisConnections, RedisKeys, type SavedSearch } from '@app/notifications';
import { mergeLegacyMatchIndex } from './legacy-index';
import { anchorWord } from './match-posting';

export type SavedSearchInput = Pick<SavedSearch, 'keywords' | 'location' | 'remote' | 'minSalary'>;

/** Redis commands per call when a posting has many words or many candidates. */
const CHUNK = 500;
/** Keeps a user's job-match `searchIds` far below the 64 KiB data limit. */
export const MAX_SAVED_SEARCHES_PER_USER = 100;

/*
 * The cap is checked and the search written in one step: with a check and then
 * a write, concurrent creates all passed the check and a user ended up with
 * more than the cap. The matcher's index lives in another slot (see
 * RedisKeys.savedSearchesById), written right after.
 * KEYS: user's searches   ARGV: id, json, cap
 * Returns 1 when stored, 0 when the user already has `cap` searches.
 */
const CREATE_SCRIPT = `
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

type ScriptedRedis = Redis & {
  rtgCreateSavedSearch(userKey: string, id: string, json: string, cap: number): Promise<number>;
};

/** As stored: the search plus the word it is indexed under, so a later tokenizer change cannot orphan the entry. */
type StoredSearch = SavedSearch & { anchor?: string };

function withoutAnchor({ anchor: _, ...search }: StoredSearch): SavedSearch {
  return search;
}

/**
 * Saved searches in Redis, with the inverted index the matcher reads: each
 * search sits in the set of one of its words, so a posting's candidates are
 * the union of the sets of its words, whatever the total number of searches.
 * A user's searches live in the user's slot and the index in one slot of its
 * own, so no command spans slots on a cluster: a create writes the user's
 * hash (with the cap) and then the index, and takes the first back if the
 * second fails; a delete takes the index entry out first, so a search is
 * never matched once its delete has answered.
 */
@Injectable()
export class SavedSearchStore implements OnModuleInit {
  private readonly log = new Logger(SavedSearchStore.name);

  constructor(
    private readonly redis: RedisConnections,
    private readonly keys: RedisKeys,
    @Inject(NOTIFICATIONS_CONFIG) private readonly config: NotificationsConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.redis.command.defineCommand('rtgCreateSavedSearch', { numberOfKeys: 1, lua: CREATE_SCRIPT });
    if (this.config.redis.kind === 'cluster') return;
    try {
      const moved = await mergeLegacyMatchIndex(this.redis.command as Redis, this.keys);
      if (moved > 0) this.log.log(`moved ${moved} saved search(es) into the {match} slot`);
    } catch (error) {
      // Redis down at start-up: the next start merges them; nothing is deleted before it is copied.
      if (!isRedisUnavailable(error)) throw error;
      this.log.warn(`could not check for saved searches under the old keys yet: ${(error as Error).message}`);
    }
  }

  async create(userId: string, input: SavedSearchInput): Promise<SavedSearch> {
    const anchor = anchorWord(input.keywords);
    const empty = input.keywords.findIndex((keyword) => anchorWord([keyword]) === null);
    if (anchor === null || empty >= 0) throw new InvalidInputError('keywords', `keywords.${Math.max(empty, 0)} has no word in it`);
    this.redis.assertConnected();
    const search: SavedSearch = {
      id: randomUUID(),
      userId,
      keywords: input.keywords,
      ...(input.location !== undefined ? { location: input.location } : {}),
      ...(input.remote !== undefined ? { remote: input.remote } : {}),
      ...(input.minSalary !== undefined ? { minSalary: input.minSalary } : {}),
      createdAt: new Date().toISOString(),
    };
    const json = JSON.stringify({ ...search, anchor } satisfies StoredSearch);
    const userKey = this.keys.userSavedSearches(userId);
    const stored = await (this.redis.command as ScriptedRedis).rtgCreateSavedSearch(userKey, search.id, json, MAX_SAVED_SEARCHES_PER_USER);
    if (stored !== 1) throw new InvalidInputError('body', `a user can keep at most ${MAX_SAVED_SEARCHES_PER_USER} saved searches`);
    try {
      await exec(this.redis.command.multi().hset(this.keys.savedSearchesById(), search.id, json).sadd(this.keys.searchIndex(anchor), search.id));
    } catch (error) {
      // Not indexed: the create answers an error, so it must not stay listed either.
      await this.redis.command.hdel(userKey, search.id).catch(() => undefined);
      throw error;
    }
    return search;
  }

  async list(userId: string): Promise<SavedSearch[]> {
    const all = await this.redis.command.hvals(this.keys.userSavedSearches(userId));
    return all
      .map((json) => withoutAnchor(JSON.parse(json) as StoredSearch))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Removes one of the user's searches; NotFoundError if the user has no search with that id. */
  async delete(userId: string, id: string): Promise<void> {
    const json = await this.redis.command.hget(this.keys.userSavedSearches(userId), id);
    if (json === null) throw new NotFoundError('no such saved search');
    const search = JSON.parse(json) as StoredSearch;
    const anchor = search.anchor ?? (anchorWord(search.keywords) as string);
    await exec(this.redis.command.multi().srem(this.keys.searchIndex(anchor), id).hdel(this.keys.savedSearchesById(), id));
    await this.redis.command.hdel(this.keys.userSavedSearches(userId), id);
  }

  /** Ids of the searches indexed under any of these words. */
  async candidateIds(words: Iterable<string>): Promise<string[]> {
    const keys = [...words].map((word) => this.keys.searchIndex(word));
    const ids = new Set<string>();
    for (let i = 0; i < keys.length; i += CHUNK) {
      for (const id of await this.redis.command.sunion(...keys.slice(i, i + CHUNK))) ids.add(id);
    }
    return [...ids];
  }

  /** The searches with these ids (ones deleted meanwhile are skipped). */
  async getMany(ids: readonly string[]): Promise<SavedSearch[]> {
    const searches: SavedSearch[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      for (const json of await this.redis.command.hmget(this.keys.savedSearchesById(), ...ids.slice(i, i + CHUNK))) {
        if (json !== null) searches.push(withoutAnchor(JSON.parse(json) as StoredSearch));
      }
    }
    return searches;
  }
}

async function exec(transaction: ReturnType<RedisConnections['command']['multi']>): Promise<void> {
  const results = await transaction.exec();
  const failure = results?.find(([error]) => error !== null);
  if (results === null || failure) throw failure?.[0] ?? new Error('redis transaction was discarded');
}
