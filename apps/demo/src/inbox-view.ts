import { compareEventIds, type InboxState, type Notification, type RealtimeClient } from '@app/client';
import { listNotifications } from './api';
import { byId, el, listen, setStatus } from './dom';
import { describeNotification } from './feed-view';

/** Notifications the panel lists, the newest first. */
const SHOWN = 8;
const SVG = 'http://www.w3.org/2000/svg';

function bellIcon(): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  for (const d of ['M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9', 'M13.73 21a2 2 0 0 1-3.46 0']) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

/**
 * The bell in the header: the unread count of `client.inbox` (the same in every
 * tab of the user, and on every device), and a panel with the latest
 * notifications, the unread ones marked. A click on one marks it read; "Mark
 * all read" marks everything up to the newest notification this tab has seen.
 */
export function mountInbox(client: RealtimeClient): () => void {
  const root = el('div', 'inbox');
  const bell = el('button', 'bell');
  Object.assign(bell, { type: 'button', id: 'inbox-bell', title: 'Inbox' });
  bell.setAttribute('aria-expanded', 'false');
  bell.setAttribute('aria-controls', 'inbox-panel');
  const badge = el('span', 'badge');
  badge.id = 'inbox-badge';
  bell.append(bellIcon(), badge);

  const panel = el('section', 'inbox-panel');
  panel.id = 'inbox-panel';
  panel.setAttribute('aria-label', 'Inbox');
  panel.hidden = true;
  const summary = el('span', 'muted small');
  summary.id = 'inbox-summary';
  const markAll = el('button', 'ghost small', 'Mark all read');
  Object.assign(markAll, { type: 'button', id: 'inbox-mark-all' });
  const head = el('div', 'inbox-head');
  const title = el('span', 'inbox-heading');
  title.append(el('strong', undefined, 'Inbox'), summary);
  head.append(title, markAll);
  const list = el('ol', 'inbox-list');
  list.id = 'inbox-list';
  const empty = el('p', 'muted small inbox-empty', 'Nothing yet: notifications show here as they arrive.');
  const status = el('p', 'status small');
  status.setAttribute('role', 'status');
  panel.append(head, list, empty, status);
  root.append(bell, panel);
  byId('switch').before(root);

  /** Newest first: the shown ones and one more, whose id is where a read of their flags starts after. */
  let recent: Notification[] = [];
  /** Read above `readUpTo` (here, in another tab, on another device): from this tab's clicks and `GET /api/notifications`. */
  const readIds = new Set<string>();
  let state: InboxState | null = null;
  let flagsTimer: ReturnType<typeof setTimeout> | null = null;

  const isRead = (notification: Notification) => readIds.has(notification.id) || (state !== null && compareEventIds(notification.id, state.readUpTo) <= 0);

  const row = (notification: Notification) => {
    const read = isRead(notification);
    const item = el('li', `inbox-item ${read ? 'read' : 'unread'}`);
    Object.assign(item.dataset, { id: notification.id, read: String(read) });
    const open = el('button', 'inbox-open');
    open.type = 'button';
    const { title: text } = describeNotification(notification);
    open.append(el('span', 'inbox-title', text), el('span', 'inbox-detail', `${notification.type} · ${new Date(notification.createdAt).toLocaleTimeString()}`));
    open.title = read ? 'Read' : 'Unread: click to mark it read';
    item.append(open);
    return item;
  };

  const render = () => {
    if (state === null) delete bell.dataset.unread;
    else bell.dataset.unread = String(state.unread);
    badge.textContent = state === null ? '' : state.unread > 99 ? '99+' : String(state.unread);
    badge.hidden = !state?.unread;
    bell.setAttribute('aria-label', state === null ? 'Inbox' : `Inbox: ${state.unread} unread`);
    summary.textContent = state === null ? '' : `${state.unread} unread`;
    markAll.disabled = !state?.unread;
    list.replaceChildren(...recent.slice(0, SHOWN).map(row));
    empty.hidden = recent.length > 0;
  };

  /** While the panel is open, which of the shown ones are read (another tab may have read one above readUpTo). */
  const readFlags = () => {
    if (panel.hidden || flagsTimer !== null) return;
    flagsTimer = setTimeout(async () => {
      flagsTimer = null;
      try {
        const page = await listNotifications(await client.getToken(), recent[SHOWN]?.id ?? null, 200);
        for (const entry of page.items) if (entry.read) readIds.add(entry.id);
        render();
      } catch {
        // The flags stay as the read position says; the next change asks again.
      }
    }, 100);
  };

  const setOpen = (open: boolean) => {
    panel.hidden = !open;
    bell.setAttribute('aria-expanded', String(open));
    setStatus(status, '');
    if (open) readFlags();
  };
  const failed = (error: unknown) => setStatus(status, `Could not mark read: ${error instanceof Error ? error.message : String(error)}`, 'bad');

  const onDocument = (event: Event) => {
    if (panel.hidden) return;
    // The path as dispatched: a click on a row re-renders the list, so its target may be detached by now.
    if (event instanceof KeyboardEvent ? event.key === 'Escape' : !event.composedPath().includes(root)) setOpen(false);
  };
  document.addEventListener('click', onDocument);
  document.addEventListener('keydown', onDocument);

  const stop = [
    client.inbox.onChange((next) => {
      state = next;
      render();
      readFlags();
    }),
    client.onNotification((notification) => {
      recent = [notification, ...recent].slice(0, SHOWN + 1);
      render();
    }),
    listen(bell, 'click', () => setOpen(Boolean(panel.hidden))),
    listen(markAll, 'click', () => {
      setStatus(status, '');
      client.inbox.markAllRead().then(() => render(), failed);
    }),
    listen(list, 'click', (event) => {
      const item = (event.target as Element).closest<HTMLElement>('.inbox-item');
      const id = item?.dataset.id;
      if (!id || item.dataset.read === 'true') return;
      readIds.add(id);
      render();
      client.inbox.markRead([id]).catch((error: unknown) => {
        readIds.delete(id);
        render();
        failed(error);
      });
    }),
  ];
  render();

  return () => {
    for (const unsubscribe of stop) unsubscribe();
    document.removeEventListener('click', onDocument);
    document.removeEventListener('keydown', onDocument);
    if (flagsTimer !== null) clearTimeout(flagsTimer);
    root.remove();
  };
}
