import type { DeliveryMeta, JobPostedData, RealtimeClient, TopicEvent } from '@app/client';
import { byId, CHANNEL_LABELS, channelClass, el, formatLatency, setStatus } from './dom';

/** The topic every accepted posting is published to, as `job-posted`. */
const JOBS_TOPIC = 'jobs.new';
/** Postings kept on the board; older ones fall off the bottom. */
const MAX_POSTINGS = 20;

/** `remote · Berlin · #backend #redis`: what the card says under the title. */
function describePosting({ location, remote, tags }: JobPostedData): string {
  const parts = [typeof location === 'string' ? location : 'no location'];
  if (remote === true) parts.push('remote');
  if (Array.isArray(tags) && tags.length > 0) parts.push(tags.map((tag) => `#${String(tag)}`).join(' '));
  return parts.join(' · ');
}

/**
 * The live job board: every posting accepted by the gateway, newest first, as
 * it is published to `jobs.new`. Any user may follow that topic (PUBLIC_TOPICS),
 * so every open tab of every user sees a posting the moment it is accepted,
 * whoever posted it and whether or not it matches their saved searches.
 */
export function mountJobBoard(client: RealtimeClient): () => void {
  const list = byId('job-board');
  const empty = byId('job-board-empty');
  const status = byId('job-board-status');
  list.replaceChildren();

  const render = () => {
    empty.hidden = list.childElementCount > 0;
  };

  const add = (event: TopicEvent<JobPostedData>, meta: DeliveryMeta) => {
    // Other services may publish other types to the topic: the board shows postings only.
    if (event.type !== 'job-posted') return;
    const posting = event.data;
    const item = el('li', 'feed-item');
    Object.assign(item.dataset, { id: event.id, jobId: String(posting.jobId), channel: meta.channel });

    const line = el('div', 'feed-line');
    const metaBox = el('span', 'feed-meta');
    const latency = el('span', 'latency', formatLatency(meta.latencyMs));
    latency.title = 'received − createdAt';
    metaBox.append(el('span', channelClass(meta.channel), CHANNEL_LABELS[meta.channel]), latency);
    line.append(el('span', 'feed-title', `${String(posting.title)} at ${String(posting.company)}`), metaBox);

    const when = new Date(event.createdAt).toLocaleTimeString();
    item.append(line, el('div', 'feed-detail', `${describePosting(posting)} · ${when} · job ${String(posting.jobId)}`));
    list.prepend(item);
    while (list.childElementCount > MAX_POSTINGS) list.lastElementChild?.remove();
    render();
  };

  const unsubscribe = client.subscribe<JobPostedData>(JOBS_TOPIC, add, {
    onError: (error) => setStatus(status, `The gateway refused the topic ${JOBS_TOPIC} (${error}): its PUBLIC_TOPICS or your token's topics claim must grant it.`, 'bad'),
  });
  render();

  return () => {
    unsubscribe();
    list.replaceChildren();
    setStatus(status, '');
    render();
  };
}
