import type { DeliveryMeta, Notification, RealtimeClient } from '@app/client';
import { byId, CHANNEL_LABELS, channelClass, el, formatLatency } from './dom';

/** Items kept on screen; the history itself stays on the server. */
const MAX_ITEMS = 200;

/** A notification as one line of title and one of detail, for the feed and the inbox. */
export function describeNotification(notification: Notification): { title: string; detail: string } {
  const data = notification.data as Record<string, unknown>;
  if (notification.type === 'job-match') {
    const location = typeof data.location === 'string' ? data.location : 'no location';
    const searches = Array.isArray(data.searchIds) ? data.searchIds.length : 0;
    return {
      title: `${String(data.title)} at ${String(data.company)}`,
      detail: `${location} · job ${String(data.jobId)} · ${searches} matching search${searches === 1 ? '' : 'es'}`,
    };
  }
  if (notification.type === 'message-received') {
    return { title: `${String(data.from)}: ${String(data.content)}`, detail: 'direct message' };
  }
  const json = JSON.stringify(data);
  return { title: notification.type, detail: json.length > 160 ? `${json.slice(0, 160)}…` : json };
}

/** The live feed: each notification with the channel that delivered it and its latency (receipt − createdAt). */
export function mountFeed(client: RealtimeClient, onLastEventId: (id: string) => void): () => void {
  const list = byId('feed');
  const empty = byId('feed-empty');
  const count = byId('feed-count');
  const clear = byId('feed-clear');
  let total = 0;
  list.replaceChildren();

  const render = () => {
    empty.hidden = list.childElementCount > 0;
    count.textContent = String(total);
  };

  const add = (notification: Notification, meta: DeliveryMeta) => {
    total++;
    onLastEventId(notification.id);
    const { title, detail } = describeNotification(notification);
    const item = el('li', 'feed-item');
    Object.assign(item.dataset, { id: notification.id, type: notification.type, channel: meta.channel });
    if (notification.type === 'job-match') item.dataset.jobId = String((notification.data as { jobId?: unknown }).jobId);

    const line = el('div', 'feed-line');
    const heading = el('span', 'feed-title');
    heading.append(el('span', `type type-${notification.type}`, notification.type), title);
    const metaBox = el('span', 'feed-meta');
    const latency = el('span', 'latency', formatLatency(meta.latencyMs));
    latency.title = 'received − createdAt';
    metaBox.append(el('span', channelClass(meta.channel), CHANNEL_LABELS[meta.channel]), latency);
    line.append(heading, metaBox);

    const when = new Date(notification.createdAt).toLocaleTimeString();
    item.append(line, el('div', 'feed-detail', `${detail} · ${when} · id ${notification.id}`));
    list.prepend(item);
    while (list.childElementCount > MAX_ITEMS) list.lastElementChild?.remove();
    render();
  };

  const stop = [
    client.onNotification(add),
    client.onReset(() => {
      const item = el('li', 'feed-item feed-detail', 'Some older notifications were trimmed from the history before this tab caught up.');
      list.prepend(item);
      render();
    }),
  ];
  const onClear = () => {
    list.replaceChildren();
    render();
  };
  clear.addEventListener('click', onClear);
  render();

  return () => {
    for (const unsubscribe of stop) unsubscribe();
    clear.removeEventListener('click', onClear);
    list.replaceChildren();
    total = 0;
    render();
  };
}
