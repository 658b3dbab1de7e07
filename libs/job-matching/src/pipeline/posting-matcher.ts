import { Injectable } from '@nestjs/common';
import { type JobMatchData, type JobPosting, NOTIFICATION_TYPES, NotificationService } from '@app/notifications';
import { matchesPosting, postingWords } from '../saved-searches/match-posting';
import { SavedSearchStore } from '../saved-searches/saved-search.store';

/** Publishes to this many users at once. */
const PUBLISH_BATCH = 50;

export interface MatchResult {
  candidates: number;
  notifiedUsers: number;
}

/**
 * Matches one posting against every saved search through the index: the cost
 * grows with the posting's words and its candidates, not with the number of
 * saved searches. Each matching user gets exactly one `job-match` per posting;
 * the idempotency key makes a re-run (a retried or re-delivered job) notify no one twice.
 */
@Injectable()
export class PostingMatcher {
  constructor(
    private readonly searches: SavedSearchStore,
    private readonly notifications: NotificationService,
  ) {}

  async match(posting: JobPosting): Promise<MatchResult> {
    const words = postingWords(posting);
    const candidates = await this.searches.getMany(await this.searches.candidateIds(words.all));
    const searchIdsByUser = new Map<string, string[]>();
    for (const search of candidates) {
      if (!matchesPosting(search, posting, words)) continue;
      const ids = searchIdsByUser.get(search.userId);
      if (ids) ids.push(search.id);
      else searchIdsByUser.set(search.userId, [search.id]);
    }
    const users = [...searchIdsByUser];
    for (let i = 0; i < users.length; i += PUBLISH_BATCH) {
      await Promise.all(
        users.slice(i, i + PUBLISH_BATCH).map(([userId, searchIds]) =>
          this.notifications.publish({
            userId,
            type: NOTIFICATION_TYPES.jobMatch,
            data: { jobId: posting.id, title: posting.title, company: posting.company, location: posting.location ?? null, searchIds: searchIds.sort() } satisfies JobMatchData,
            idempotencyKey: `job-match:${posting.id}`,
          }),
        ),
      );
    }
    return { candidates: candidates.length, notifiedUsers: users.length };
  }
}
