/** Saved searches: their matching rules (pure) and the store with its anchor-word index. */
export { foldCase, matchesPosting, postingWords, tokenize } from './saved-searches/match-posting';
export { type SavedSearchInput, SavedSearchStore } from './saved-searches/saved-search.store';
/** The job-match pipeline on BullMQ: posting schema, queue and job names, and the module that hosts the worker. */
export { jobPostingSchema, parseJobPosting, POSTING_ID_PATTERN } from './pipeline/job-posting.schema';
export { JOB_POSTED_TYPE, JOBS_TOPIC } from './pipeline/posting.processor';
export { DEFAULT_JOB_OPTIONS, JOB_NAMES, QUEUES } from './pipeline/queues';
export { JobMatchingModule } from './job-matching.module';
