import { createRealtimeClient, type RealtimeClient, readJwtClaims } from '@app/client';
import { ApiError, createSavedSearch, devToken, listSavedSearches } from './api';
import { mountChat } from './chat-view';
import { mountConnections } from './connections-view';
import { byId, el } from './dom';
import { mountFeed } from './feed-view';
import { DEFAULT_ROOM, GUEST_PATTERN, newGuestId, readLaunch, roomToJoin, secondTabHref, STARTER_SEARCH } from './identity';
import { mountInbox } from './inbox-view';
import { mountJobBoard } from './job-board-view';
import { mountJobs } from './jobs-view';

/*
 * The demo page. Where the gateway mints dev tokens (the default outside
 * production), a first visit signs the tab in as a generated guest at once and
 * joins the room `lobby`; "Switch user" changes the tab's user, and "Open a
 * second tab as another guest" gives a second user in the same room with one
 * click. Without dev tokens the page explains how to get a user token and
 * takes it pasted. Every card then works through one RealtimeClient from
 * libs/client. The gateway serves this page at GET / from dist/demo.
 */

const devTokensEnabled = document.querySelector('meta[name="rtg-dev-tokens"]')?.getAttribute('content') !== 'disabled';
/** The gateway posts sample jobs (DEMO_FEED): a guest then starts with a saved search they match. */
const demoFeedEnabled = document.querySelector('meta[name="rtg-demo-feed"]')?.getAttribute('content') === 'enabled';
/** sessionStorage: each tab is its own user, a reload keeps it. */
const SESSION_USER = 'rtg-demo:user';
/** The room the tab is in ('' once it left its room): the next sign-in of the tab joins it again. */
const SESSION_ROOM = 'rtg-demo:room';
/** Set by "Sign out": a reload then stays signed out instead of making up a guest. */
const SIGNED_OUT = 'rtg-demo:signed-out';
const lastIdKey = (userId: string) => `rtg-demo:last-event-id:${userId}`;
const cryptoRandom = () => crypto.getRandomValues(new Uint32Array(1))[0] / 2 ** 32;

interface Session {
  userId: string;
  client: RealtimeClient;
  unmount: Array<() => void>;
}

let session: Session | null = null;

function showError(message: string, target: 'signin-error' | 'switch-error' = 'signin-error'): void {
  const error = byId(target);
  error.textContent = message;
  error.hidden = message === '';
}

/** Before the first sign-in of a visit: a line saying who the tab becomes, and no forms to fill in meanwhile. */
function showSigningIn(userId: string | null): void {
  const status = byId('welcome-status');
  status.textContent = userId === null ? '' : `Signing in as ${userId}…`;
  status.hidden = userId === null;
  byId('devtoken-signin').hidden = userId !== null || !devTokensEnabled;
  byId('token-signin').hidden = userId !== null;
}

function rememberedRoom(): string | null {
  return roomToJoin(null, sessionStorage.getItem(SESSION_ROOM));
}

/** The try-it strip under the header: who this tab is, and the link to a second guest in the same room. */
function renderTryout(): void {
  const strip = byId('tryout');
  strip.hidden = session === null || !devTokensEnabled;
  if (session === null) return;
  const text = byId('tryout-text');
  const guest = GUEST_PATTERN.test(session.userId);
  text.replaceChildren('You are ', el('strong', undefined, session.userId), guest ? ', a guest made up for this tab.' : ' in this tab.');
  const room = rememberedRoom() ?? DEFAULT_ROOM;
  byId<HTMLAnchorElement>('second-tab').href = secondTabHref(room);
  byId('tryout-room').textContent = `#${room}`;
}

function onRoomChange(room: string | null): void {
  sessionStorage.setItem(SESSION_ROOM, room ?? '');
  renderTryout();
}

function endSession(): void {
  if (session === null) return;
  for (const unmount of session.unmount) unmount();
  session.client.close();
  session = null;
}

function signIn(userId: string, token: string, refresh: (() => Promise<string>) | undefined): void {
  endSession();
  showError('');
  showError('', 'switch-error');
  showSigningIn(null);
  sessionStorage.removeItem(SIGNED_OUT);
  const client = createRealtimeClient({
    token,
    getToken: refresh,
    // Resume where this tab left off (a reload), else replay the retained history: the feed starts full.
    lastEventId: sessionStorage.getItem(lastIdKey(userId)) ?? '0',
    pollIntervalMs: 2_000,
  });
  session = {
    userId,
    client,
    unmount: [
      mountConnections(client),
      mountInbox(client),
      mountFeed(client, (id) => sessionStorage.setItem(lastIdKey(userId), id)),
      mountChat(client, userId, { room: rememberedRoom(), onRoomChange }),
      mountJobs(client),
      mountJobBoard(client),
    ],
  };
  byId('session-user').textContent = userId;
  byId('session').hidden = false;
  byId('welcome').hidden = true;
  byId('app').hidden = false;
  renderTryout();
  document.title = `${userId} · realtime-gateway demo`;
}

function signOut(): void {
  endSession();
  setSwitchOpen(false);
  sessionStorage.removeItem(SESSION_USER);
  sessionStorage.setItem(SIGNED_OUT, '1');
  byId('session').hidden = true;
  byId('welcome').hidden = false;
  byId('app').hidden = true;
  renderTryout();
  showSigningIn(null);
  document.title = 'realtime-gateway · live demo';
}

/**
 * A guest with no saved search gets the starter one before connecting, so the
 * jobs card lists it; once per tab and guest, so one deleted stays deleted. Best effort.
 */
async function giveStarterSearch(userId: string, token: string): Promise<void> {
  const given = `rtg-demo:starter-search:${userId}`;
  if (!demoFeedEnabled || !GUEST_PATTERN.test(userId) || sessionStorage.getItem(given) !== null) return;
  try {
    if ((await listSavedSearches(token)).items.length === 0) await createSavedSearch(token, { keywords: [...STARTER_SEARCH.keywords] });
    sessionStorage.setItem(given, '1');
  } catch {
    // The page works without it: the guest can save a search by hand.
  }
}

async function signInWithDevToken(userId: string, errors: 'signin-error' | 'switch-error' = 'signin-error'): Promise<boolean> {
  try {
    const token = await devToken(userId);
    await giveStarterSearch(userId, token);
    sessionStorage.setItem(SESSION_USER, userId);
    signIn(userId, token, () => devToken(userId));
    return true;
  } catch (error) {
    if (session === null) showSigningIn(null);
    showError(
      error instanceof ApiError && error.status === 404
        ? 'POST /api/dev/token is disabled on this gateway (NODE_ENV=production, or JWT_SECRET without DEV_TOKENS=true): sign in with a user token instead.'
        : `Could not sign in as ${userId}: ${error instanceof Error ? error.message : String(error)}`,
      errors,
    );
    return false;
  }
}

function signInWithToken(token: string): void {
  const sub = readJwtClaims(token)?.sub;
  if (typeof sub !== 'string') return showError('That is not a user token: a JWT whose sub is the user id.');
  // No getToken: when this token expires the connections end, and the page asks for a new one.
  signIn(sub, token, undefined);
}

// "Switch user": a panel under the header's button, closed by a click elsewhere or Escape.
const switchRoot = byId('switch');
const switchToggle = byId<HTMLButtonElement>('switch-toggle');
const switchPanel = byId('switch-panel');

function setSwitchOpen(open: boolean): void {
  switchPanel.hidden = !open;
  switchToggle.setAttribute('aria-expanded', String(open));
  if (!open) showError('', 'switch-error');
  else if (devTokensEnabled) byId('switch-user-id').focus();
}

switchToggle.addEventListener('click', () => setSwitchOpen(Boolean(switchPanel.hidden)));
const closeSwitch = (event: Event) => {
  if (switchPanel.hidden) return;
  if (event instanceof KeyboardEvent ? event.key === 'Escape' : !event.composedPath().includes(switchRoot)) setSwitchOpen(false);
};
document.addEventListener('click', closeSwitch);
document.addEventListener('keydown', closeSwitch);

byId<HTMLFormElement>('switch-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>('switch-user-id');
  const userId = input.value.trim();
  if (userId === '') return;
  void signInWithDevToken(userId, 'switch-error').then((ok) => {
    if (!ok) return;
    input.value = '';
    setSwitchOpen(false);
  });
});

byId('new-guest').addEventListener('click', () => {
  void signInWithDevToken(newGuestId(cryptoRandom, session?.userId ?? null), 'switch-error').then((ok) => ok && setSwitchOpen(false));
});

byId('signout').addEventListener('click', signOut);

byId<HTMLFormElement>('signin').addEventListener('submit', (event) => {
  event.preventDefault();
  const userId = byId<HTMLInputElement>('user-id').value.trim();
  if (userId !== '') void signInWithDevToken(userId);
});

byId('guest-signin').addEventListener('click', () => void signInWithDevToken(newGuestId(cryptoRandom)));

byId<HTMLFormElement>('token-signin').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = byId<HTMLInputElement>('token-input').value.trim();
  if (token !== '') signInWithToken(token);
});

// The address may ask for a user, a new guest or a room (the second-tab link does): read it once,
// then drop it from the address bar, so that a reload keeps this tab's user rather than making another.
const launch = readLaunch(location.search);
if (launch.room !== null) sessionStorage.setItem(SESSION_ROOM, launch.room);
if (location.search !== launch.cleanSearch) history.replaceState(history.state, '', `${location.pathname}${launch.cleanSearch}${location.hash}`);

if (!devTokensEnabled) {
  // No guests here: the page explains how to get a user token, and takes it pasted.
  byId('devtoken-note').hidden = false;
  byId('devtoken-signin').hidden = true;
  byId('switch-form').hidden = true;
  byId('new-guest').hidden = true;
  byId('switch-hint').textContent = "Sign out, then paste another user's token.";
  byId('token-label').textContent = 'Paste a user token (JWT)';
} else {
  // A first visit is a new guest; a reload keeps the tab's user (and resumes its feed after the last id it showed).
  const remembered = sessionStorage.getItem(SESSION_USER);
  const userId =
    launch.user ??
    (launch.newGuest ? newGuestId(cryptoRandom, remembered) : (remembered ?? (sessionStorage.getItem(SIGNED_OUT) === null ? newGuestId(cryptoRandom) : null)));
  if (userId !== null) {
    showSigningIn(userId);
    void signInWithDevToken(userId);
  }
}
