/*
 * Seeds saved searches through the library's own store, from the bench
 * process: the same Redis writes as `POST /api/saved-searches` (the per-user
 * cap checked in the same step, the matcher's index written after), without a
 * million HTTP calls. Many creates in flight on one connection: ioredis writes
 * them back to back, so Redis, not the round trip, bounds the rate.
 */
import { type SavedSearchInput, SavedSearchStore } from '@app/job-matching';
import { loadNotificationsConfig, RedisConnections, RedisKeys } from '@app/notifications';
import { appEnv, inParallel } from './support';

const SEED_CONCURRENCY = 512;

export interface SavedSearchSeeder {
  /** Creates `count` searches: the i-th for `userOf(i)`, with `searchOf(i)`. */
  seed(count: number, userOf: (i: number) => string, searchOf: (i: number) => SavedSearchInput, onProgress?: (done: number) => void): Promise<void>;
  close(): Promise<void>;
}

export async function openSavedSearchSeeder(prefix: string): Promise<SavedSearchSeeder> {
  const config = loadNotificationsConfig(appEnv(prefix));
  const connections = new RedisConnections(config);
  const store = new SavedSearchStore(connections, new RedisKeys(prefix), config);
  await store.onModuleInit();
  return {
    seed: (count, userOf, searchOf, onProgress) =>
      inParallel(count, SEED_CONCURRENCY, async (i) => void (await store.create(userOf(i), searchOf(i))), onProgress),
    close: () => connections.onApplicationShutdown(),
  };
}
