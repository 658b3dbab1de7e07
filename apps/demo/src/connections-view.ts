import type { ClientStatus, RealtimeClient, TransportName } from '@app/client';
import { byId, CHANNEL_LABELS, channelClass, el } from './dom';

const CHANNELS: readonly TransportName[] = ['sse', 'socket.io', 'polling'];

const ROLE_TEXT: Record<ClientStatus['role'], string> = {
  starting: 'starting…',
  single: 'this tab connects',
  leader: 'leader tab: holds the connections',
  follower: "follower tab: uses the leader tab's connections",
};

/** The Connections card: a row per channel (switch, state, reconnects, delivered) and this tab's role. */
export function mountConnections(client: RealtimeClient): () => void {
  const rows = byId('channel-rows');
  const role = byId('tab-role');
  const note = byId('channel-note');
  const lastId = byId('last-event-id');
  rows.replaceChildren();

  const cells = new Map<TransportName, { toggle: HTMLInputElement; state: HTMLElement; error: HTMLElement; reconnects: HTMLElement; delivered: HTMLElement }>();
  for (const channel of CHANNELS) {
    const row = el('tr');
    row.dataset.channel = channel;
    const name = el('label', 'channel-name');
    const toggle = el('input');
    toggle.type = 'checkbox';
    toggle.checked = true;
    toggle.setAttribute('aria-label', `use ${CHANNEL_LABELS[channel]}`);
    toggle.addEventListener('change', () => client.setTransports(CHANNELS.filter((name) => cells.get(name)?.toggle.checked)));
    name.append(toggle, el('span', channelClass(channel), CHANNEL_LABELS[channel]));
    const error = el('span', 'channel-error');
    const nameCell = el('td');
    nameCell.append(name, error);
    const state = el('span', 'state state-off', 'off');
    const stateCell = el('td');
    stateCell.append(state);
    const reconnects = el('td', 'num', '0');
    const delivered = el('td', 'num', '0');
    row.append(nameCell, stateCell, reconnects, delivered);
    rows.append(row);
    cells.set(channel, { toggle, state, error, reconnects, delivered });
  }

  const unsubscribe = client.onStatus((status) => {
    role.textContent = ROLE_TEXT[status.role];
    role.dataset.role = status.role;
    lastId.textContent = status.lastEventId ?? '–';
    for (const channel of CHANNELS) {
      const cell = cells.get(channel);
      const info = status.channels[channel];
      if (!cell) continue;
      cell.toggle.checked = info.enabled;
      cell.state.textContent = info.state;
      cell.state.className = `state state-${info.state}`;
      cell.state.dataset.state = info.state;
      cell.reconnects.textContent = String(info.reconnects);
      cell.delivered.textContent = String(info.delivered);
      cell.error.textContent = info.state === 'open' || info.state === 'off' || info.state === 'standby' ? '' : (info.error ?? '');
    }
    const pushEnabled = status.channels.sse.enabled || status.channels['socket.io'].enabled;
    note.textContent =
      status.role === 'follower'
        ? 'Another tab of this user holds the connections and shares them with this one (Web Locks + BroadcastChannel). Close it and this tab takes over.'
        : pushEnabled
          ? 'Every notification arrives once, over whichever channel is first. Polling stands by and runs only while neither SSE nor Socket.IO is open: untick them to try it.'
          : 'No push channel: polling GET /api/notifications.';
  });

  return () => {
    unsubscribe();
    rows.replaceChildren();
  };
}
