import type { JobPosting, RealtimeClient, SavedSearch, SavedSearchRequest } from '@app/client';
import { ApiError, createSavedSearch, deleteSavedSearch, listSavedSearches, postJob } from './api';
import { byId, CHANNEL_LABELS, el, formatLatency, setStatus } from './dom';

/** After this long without its job-match, the page explains why there may be none. */
const MATCH_PATIENCE_MS = 8_000;

const list = (text: string) =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');

function describeSearch(search: SavedSearch): string {
  const parts = [search.keywords.map((keyword) => `“${keyword}”`).join(' + ')];
  if (search.location) parts.push(`in ${search.location}`);
  if (search.remote) parts.push('remote');
  if (search.minSalary !== undefined) parts.push(`≥ ${search.minSalary.toLocaleString()}`);
  return parts.join(' · ');
}

function errorText(error: unknown): string {
  if (error instanceof ApiError && error.status === 401 && /X-Api-Key|INTERNAL_API_KEY/.test(error.message)) {
    return `401: ${error.message}. Posting jobs is for internal services: enter the key the gateway runs with (npm start prints the one it made up for this run: INTERNAL_API_KEY=…).`;
  }
  if (error instanceof ApiError) return `${error.status}: ${error.message}`;
  return `The gateway did not answer (${error instanceof Error ? error.message : String(error)}).`;
}

/** The saved-search card and the post-a-job card, which waits for its job-match to show up. */
export function mountJobs(client: RealtimeClient): () => void {
  const searchForm = byId<HTMLFormElement>('search-form');
  const searches = byId('searches');
  const searchStatus = byId('search-status');
  const jobForm = byId<HTMLFormElement>('job-form');
  const jobStatus = byId('job-status');
  const value = (id: string) => byId<HTMLInputElement | HTMLTextAreaElement>(id).value.trim();
  const checked = (id: string) => byId<HTMLInputElement>(id).checked;
  /** The posting whose job-match the card waits for; the timer runs from the 202 on. */
  let waitingFor: { jobId: string; timer?: ReturnType<typeof setTimeout> } | null = null;
  let closed = false;

  const stopWaiting = () => {
    clearTimeout(waitingFor?.timer);
    waitingFor = null;
  };

  const renderSearch = (search: SavedSearch) => {
    const item = el('li');
    item.dataset.id = search.id;
    const remove = el('button', 'ghost small', 'Delete');
    remove.type = 'button';
    remove.addEventListener('click', () => {
      void client
        .getToken()
        .then((token) => deleteSavedSearch(token, search.id))
        .then(
          () => item.remove(),
          (error: unknown) => setStatus(searchStatus, errorText(error), 'bad'),
        );
    });
    item.append(el('span', '', describeSearch(search)), remove);
    return item;
  };

  void client
    .getToken()
    .then(listSavedSearches)
    .then(
      ({ items }) => !closed && searches.replaceChildren(...items.map(renderSearch)),
      (error: unknown) => !closed && setStatus(searchStatus, errorText(error), 'bad'),
    );

  const onSearchSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const request: SavedSearchRequest = { keywords: list(value('search-keywords')) };
    if (value('search-location') !== '') request.location = value('search-location');
    if (checked('search-remote')) request.remote = true;
    if (value('search-salary') !== '') request.minSalary = Number(value('search-salary'));
    void client
      .getToken()
      .then((token) => createSavedSearch(token, request))
      .then(
        (search) => {
          searches.prepend(renderSearch(search));
          setStatus(searchStatus, 'Saved. A posting with every keyword brings a job-match into the feed.', 'ok');
        },
        (error: unknown) => setStatus(searchStatus, errorText(error), 'bad'),
      );
  };

  const onJobSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const posting: JobPosting = {
      id: `demo-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
      title: value('job-title'),
      company: value('job-company'),
      remote: checked('job-remote'),
    };
    if (value('job-location') !== '') posting.location = value('job-location');
    if (value('job-description') !== '') posting.description = value('job-description');
    if (list(value('job-tags')).length > 0) posting.tags = list(value('job-tags'));
    if (value('job-salary') !== '') posting.salary = Number(value('job-salary'));
    // Wait for the job-match before the request goes out: the job id is the posting id, and the
    // embedded worker's match can reach this page before the 202 does (issue 12).
    const jobId = posting.id;
    stopWaiting();
    waitingFor = { jobId };
    setStatus(jobStatus, `Posting ${jobId}…`);
    postJob(value('job-key'), posting).then(
      () => {
        // Not waiting any more: its match is already shown, or a newer posting owns the card.
        if (waitingFor?.jobId !== jobId) return;
        waitingFor.timer = setTimeout(() => {
          if (waitingFor?.jobId !== jobId) return;
          setStatus(jobStatus, `No job-match for ${jobId} yet: does one of your saved searches match it? Every keyword must occur in the title, description or tags.`);
        }, MATCH_PATIENCE_MS);
        setStatus(jobStatus, `Posted ${jobId} (202 Accepted). The worker is matching it…`);
      },
      (error: unknown) => {
        // A match that already arrived shows the posting went through: keep saying so.
        if (waitingFor?.jobId !== jobId) return;
        stopWaiting();
        setStatus(jobStatus, errorText(error), 'bad');
      },
    );
  };

  const stopMatches = client.on('job-match', (notification, meta) => {
    if (waitingFor === null || notification.data.jobId !== waitingFor.jobId) return;
    stopWaiting();
    const text = `job-match for ${notification.data.jobId} arrived over ${CHANNEL_LABELS[meta.channel]}, ${formatLatency(meta.latencyMs)} after it was published.`;
    setStatus(jobStatus, text, 'ok');
    jobStatus.append(' ', el('span', 'muted', 'It is at the top of the feed.'));
  });

  searchForm.addEventListener('submit', onSearchSubmit);
  jobForm.addEventListener('submit', onJobSubmit);
  return () => {
    closed = true;
    stopMatches();
    stopWaiting();
    searchForm.removeEventListener('submit', onSearchSubmit);
    jobForm.removeEventListener('submit', onJobSubmit);
    searches.replaceChildren();
    setStatus(searchStatus, '');
    setStatus(jobStatus, '');
  };
}
