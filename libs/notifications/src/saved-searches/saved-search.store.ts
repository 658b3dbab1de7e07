import { Injectable } from '@nestjs/common';
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

/** As stored: the search plus the word it is indexed under, so a later tokenizer change cannot orphan the entry. */
type StoredSearch = SavedSearch & { anchor?: string };

function withoutAnchor({ anchor: _, ...search }: StoredSearch): SavedSearch {
  return search;
}

/**
 * Saved searches in Redis, with the inverted index the matcher reads: each
 * search sits in the set of one of its words, so a posting's candidates are
 * the union of the sets of its words, whatever the total number of searches.
 * A search and its index entry are written and removed in one MULTI.
 */
@Injectable()
export class SavedSearchStore {
  constructor(
    private readonly redis: RedisConnections,
    private readonly keys: RedisKeys,
  ) {}

  async create(userId: string, input: SavedSearchInput): Promise<SavedSearch> {
    const anchor = anchorWord(input.keywords);
    const empty = input.keywords.findIndex((keyword) => anchorWord([keyword]) === null);
    if (anchor === null || empty >= 0) throw new InvalidInputError('keywords', `keywords.${Math.max(empty, 0)} has no word in it`);
    this.redis.assertConnected({ subscriber: false });
    if ((await this.redis.command.hlen(this.keys.userSavedSearches(userId))) >= MAX_SAVED_SEARCHES_PER_USER) {
      throw new InvalidInputError('body', `a user can keep at most ${MAX_SAVED_SEARCHES_PER_USER} saved searches`);
    }
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
    await exec(
      this.redis.command
        .multi()
        .hset(this.keys.userSavedSearches(userId), search.id, json)
        .hset(this.keys.savedSearchesById(), search.id, json)
        .sadd(this.keys.searchIndex(anchor), search.id),
    );
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
