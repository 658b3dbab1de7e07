import { Injectable, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { InvalidInputError, NotFoundError } from '../errors';
import { RedisConnections } from '../redis/redis-connections';
import { RedisKeys } from '../redis/redis-keys';
import { anchorWord } from './match-posting';
import type { SavedSearch } from './saved-search';

export type SavedSearchInput = Pick<SavedSearch, 'keywords' | 'location' | 'remote' | 'minSalary'>;

/** Redis commands per call when a posting has many words or many candidates. */
const CHUNK = 500;
/** Keeps a user's job-match `searchIds` far below the 64 KiB data limit. */
export const MAX_SAVED_SEARCHES_PER_USER = 100;

/*
 * The cap is checked and the search written in one step: with a check and then
 * a MULTI, concurrent creates all passed the check and a user ended up with
 * more than the cap.
 * KEYS: user's searches, searches by id, index set of the anchor   ARGV: id, json, cap
 * Returns 1 when stored, 0 when the user already has `cap` searches.
 */
const CREATE_SCRIPT = `
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`;

type ScriptedRedis = Redis & {
  rtgCreateSavedSearch(userKey: string, byIdKey: string, indexKey: string, id: string, json: string, cap: number): Promise<number>;
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
 * A search and its index entry are written in one script (with the cap) and
 * removed in one MULTI.
 */
@Injectable()
export class SavedSearchStore implements OnModuleInit {
  constructor(
    private readonly redis: RedisConnections,
    private readonly keys: RedisKeys,
  ) {}

  onModuleInit(): void {
    this.redis.command.defineCommand('rtgCreateSavedSearch', { numberOfKeys: 3, lua: CREATE_SCRIPT });
  }

  async create(userId: string, input: SavedSearchInput): Promise<SavedSearch> {
    const anchor = anchorWord(input.keywords);
    const empty = input.keywords.findIndex((keyword) => anchorWord([keyword]) === null);
    if (anchor === null || empty >= 0) throw new InvalidInputError('keywords', `keywords.${Math.max(empty, 0)} has no word in it`);
    this.redis.assertConnected({ subscriber: false });
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
    const stored = await (this.redis.command as ScriptedRedis).rtgCreateSavedSearch(
      this.keys.userSavedSearches(userId),
      this.keys.savedSearchesById(),
      this.keys.searchIndex(anchor),
      search.id,
      json,
      MAX_SAVED_SEARCHES_PER_USER,
    );
    if (stored !== 1) throw new InvalidInputError('body', `a user can keep at most ${MAX_SAVED_SEARCHES_PER_USER} saved searches`);
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
    await exec(
      this.redis.command
        .multi()
        .hdel(this.keys.userSavedSearches(userId), id)
        .hdel(this.keys.savedSearchesById(), id)
        .srem(this.keys.searchIndex(anchor), id),
    );
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
