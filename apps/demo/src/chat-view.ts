import type { ClientStatus, CursorMoveEvent, DirectChatMessage, PresenceEvent, RealtimeClient, RoomChatMessage, TypingEvent } from '@app/client';
import { byId, el } from './dom';

/** Someone who stopped sending `typing` (closed the tab mid-word) stops showing as typing after this. */
const TYPING_STALE_MS = 6_000;
/** We say "stopped typing" after this long without a keystroke. */
const TYPING_IDLE_MS = 2_500;
/** Cursor moves sent at most this often; the server coalesces to 30 a second anyway. */
const CURSOR_EVERY_MS = 50;

export interface ChatOptions {
  /** The room to join at once (as soon as Socket.IO is open), or null: none until the form asks. */
  room: string | null;
  /** Called with the room this tab is in after a join, and with null after a leave. */
  onRoomChange(room: string | null): void;
}

/** The chat card: join a room, chat, see who types and where their cursors are; direct messages. */
export function mountChat(client: RealtimeClient, userId: string, options: ChatOptions): () => void {
  const roomForm = byId<HTMLFormElement>('room-form');
  const roomInput = byId<HTMLInputElement>('room-id');
  const roomButton = byId<HTMLButtonElement>('room-toggle');
  const membersLine = byId('room-members');
  const pad = byId('cursor-pad');
  const messages = byId('messages');
  const typingLine = byId('typing');
  const chatForm = byId<HTMLFormElement>('chat-form');
  const chatInput = byId<HTMLInputElement>('chat-input');
  const chatSend = byId<HTMLButtonElement>('chat-send');
  const dmForm = byId<HTMLFormElement>('dm-form');
  const dmTo = byId<HTMLInputElement>('dm-to');
  const dmText = byId<HTMLInputElement>('dm-text');

  let room: string | null = null;
  /** The room asked for, until its ack: its events already count (see onRoomSubmit). */
  let joining: string | null = null;
  /** Who came or went in `joining` before the ack, which is newer than the ack's member list. */
  const heard = new Map<string, boolean>();
  const members = new Set<string>();
  const typers = new Map<string, ReturnType<typeof setTimeout>>();
  const cursors = new Map<string, HTMLElement>();
  let typing = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let lastCursorAt = 0;
  /** Unmounted: an ack that comes back later changes nothing (the next user's card may be on screen). */
  let closed = false;

  const say = (text: string, kind: 'mine' | 'theirs' | 'system', from?: string) => {
    const item = el('li', `message ${kind}`);
    if (from) item.append(el('span', 'from', from));
    item.append(text);
    messages.append(item);
    while (messages.childElementCount > 200) messages.firstElementChild?.remove();
    messages.scrollTop = messages.scrollHeight;
  };

  const inRoom = (roomId: string) => roomId === room || roomId === joining;

  const renderMembers = () => {
    if (room === null) {
      membersLine.textContent = joining === null ? 'Not in a room.' : `Joining #${joining}…`;
      return;
    }
    const names = [...members].sort().map((member) => (member === userId ? `${member} (you)` : member));
    membersLine.textContent = `In #${room}: ${names.join(', ')}`;
  };

  const renderTyping = () => {
    const names = [...typers.keys()];
    typingLine.textContent =
      names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…`;
  };

  const setTyping = (next: boolean) => {
    if (room === null || typing === next) return;
    typing = next;
    void client.emit('typing', { roomId: room, isTyping: next });
  };

  const clearRoomState = () => {
    for (const timer of typers.values()) clearTimeout(timer);
    typers.clear();
    for (const cursor of cursors.values()) cursor.remove();
    cursors.clear();
    members.clear();
    heard.clear();
    renderTyping();
  };

  const setRoom = (next: string | null) => {
    room = next;
    roomButton.textContent = next === null ? 'Join' : 'Leave';
    roomInput.disabled = next !== null;
    chatInput.disabled = chatSend.disabled = next === null;
    chatInput.placeholder = next === null ? 'Join a room to chat' : `Message #${next}`;
    renderMembers();
  };

  const join = async (roomId: string) => {
    // The room's events count from before the request goes out: the server joins the socket,
    // announces us, then lists the members, so presence and chat from that moment on can
    // reach this page before the ack does.
    clearRoomState();
    joining = roomId;
    roomInput.value = roomId;
    renderMembers();
    const ack = await client.joinRoom(roomId).finally(() => (joining = null));
    if (closed) return;
    if (!ack.ok) {
      clearRoomState();
      renderMembers();
      return say(`Could not join #${roomId}: ${ack.error}`, 'system');
    }
    for (const member of ack.members) if (heard.get(member) !== false) members.add(member);
    heard.clear();
    setRoom(roomId);
    options.onRoomChange(roomId);
    say(`You joined #${roomId}`, 'system');
  };

  const leave = async () => {
    if (room === null) return;
    const left = room;
    setTyping(false);
    setRoom(null);
    clearRoomState();
    options.onRoomChange(null);
    await client.leaveRoom(left);
    if (!closed) say(`You left #${left}`, 'system');
  };

  const busy = async (action: () => Promise<void>) => {
    roomButton.disabled = true;
    try {
      await action();
    } finally {
      // After an unmount the button is the next user's card's.
      if (!closed) roomButton.disabled = false;
    }
  };

  const onRoomSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    autoJoin = null;
    if (joining !== null) return;
    void busy(() => (room === null ? join(roomInput.value.trim()) : leave()));
  };

  /** The room this tab joins by itself, as soon as Socket.IO is open (until then a join would only wait for its ack). */
  let autoJoin = options.room;
  const onStatus = (status: ClientStatus) => {
    if (autoJoin === null || status.channels['socket.io'].state !== 'open') return;
    const roomId = autoJoin;
    autoJoin = null;
    if (room === null && joining === null) void busy(() => join(roomId));
  };

  const onChatInput = () => {
    clearTimeout(idleTimer);
    if (chatInput.value.trim() === '') return setTyping(false);
    setTyping(true);
    idleTimer = setTimeout(() => setTyping(false), TYPING_IDLE_MS);
  };

  const onChatSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const content = chatInput.value.trim();
    if (room === null || content === '') return;
    const roomId = room;
    chatInput.value = '';
    clearTimeout(idleTimer);
    setTyping(false);
    void client.emit('chat', { roomId, content }).then((ack) => {
      if (ack.ok) say(content, 'mine');
      else say(`Not sent (${ack.error}): ${content}`, 'system');
    });
  };

  const onDmSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const recipientId = dmTo.value.trim();
    const content = dmText.value.trim();
    if (recipientId === '' || content === '') return;
    dmText.value = '';
    void client.emit('chat', { recipientId, content }).then((ack) => {
      if (ack.ok) say(content, 'mine', `to ${recipientId} (direct)`);
      else say(`Direct message not sent (${ack.error})`, 'system');
    });
  };

  const onPointerMove = (event: PointerEvent) => {
    if (room === null) return;
    const now = performance.now();
    if (now - lastCursorAt < CURSOR_EVERY_MS) return;
    lastCursorAt = now;
    const box = pad.getBoundingClientRect();
    // Shared as fractions of the pad, so pads of different sizes agree.
    const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
    client.moveCursor(room, Number(x.toFixed(4)), Number(y.toFixed(4)));
  };

  const onCursor = (move: CursorMoveEvent) => {
    if (!inRoom(move.roomId)) return;
    let cursor = cursors.get(move.userId);
    if (!cursor) {
      cursor = el('span', 'cursor', move.userId);
      cursor.dataset.user = move.userId;
      pad.append(cursor);
      cursors.set(move.userId, cursor);
    }
    const box = pad.getBoundingClientRect();
    cursor.style.transform = `translate(${Math.round(move.x * (box.width - 12))}px, ${Math.round(move.y * (box.height - 14))}px)`;
  };

  const onTyping = (event: TypingEvent) => {
    if (!inRoom(event.roomId)) return;
    clearTimeout(typers.get(event.userId));
    if (event.isTyping) {
      typers.set(
        event.userId,
        setTimeout(() => {
          typers.delete(event.userId);
          renderTyping();
        }, TYPING_STALE_MS),
      );
    } else typers.delete(event.userId);
    renderTyping();
  };

  const onChat = (message: RoomChatMessage | DirectChatMessage) => {
    if ('roomId' in message) {
      if (!inRoom(message.roomId)) return;
      // A message ends the sender's typing, even if their `typing: false` is still on the way.
      clearTimeout(typers.get(message.from));
      typers.delete(message.from);
      renderTyping();
      say(message.content, 'theirs', message.from);
    } else say(message.content, 'theirs', `${message.from} → you (direct)`);
  };

  const onPresence = (event: PresenceEvent) => {
    if (!inRoom(event.roomId) || event.userId === userId) return;
    if (event.roomId === joining) heard.set(event.userId, event.online);
    if (event.online) {
      // A member who reconnected to another instance can be announced again: say it once.
      if (!members.has(event.userId)) say(`${event.userId} joined`, 'system');
      members.add(event.userId);
    } else {
      members.delete(event.userId);
      cursors.get(event.userId)?.remove();
      cursors.delete(event.userId);
      say(`${event.userId} left`, 'system');
    }
    renderMembers();
  };

  roomForm.addEventListener('submit', onRoomSubmit);
  chatInput.addEventListener('input', onChatInput);
  chatForm.addEventListener('submit', onChatSubmit);
  dmForm.addEventListener('submit', onDmSubmit);
  pad.addEventListener('pointermove', onPointerMove);
  const unsubscribe = [
    client.onSocket('chat', onChat),
    client.onSocket('typing', onTyping),
    client.onSocket('cursor-move', onCursor),
    client.onSocket('presence', onPresence),
  ];
  messages.replaceChildren();
  setRoom(null);
  if (options.room !== null) roomInput.value = options.room;
  unsubscribe.push(client.onStatus(onStatus));

  return () => {
    closed = true;
    for (const stop of unsubscribe) stop();
    roomForm.removeEventListener('submit', onRoomSubmit);
    chatInput.removeEventListener('input', onChatInput);
    chatForm.removeEventListener('submit', onChatSubmit);
    dmForm.removeEventListener('submit', onDmSubmit);
    pad.removeEventListener('pointermove', onPointerMove);
    clearTimeout(idleTimer);
    clearRoomState();
    messages.replaceChildren();
    room = joining = autoJoin = null;
    roomInput.disabled = false;
    roomButton.disabled = false;
  };
}
