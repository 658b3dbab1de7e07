import { createRealtimeClient, type RealtimeClient, readJwtClaims } from '@app/client';
import { ApiError, devToken } from './api';
import { mountChat } from './chat-view';
import { mountConnections } from './connections-view';
import { byId } from './dom';
import { mountFeed } from './feed-view';
import { mountInbox } from './inbox-view';
import { mountJobBoard } from './job-board-view';
import { mountJobs } from './jobs-view';

/*
 * The demo page: sign in with a dev token (or a pasted JWT), then every card
 * works through one RealtimeClient from libs/client. The gateway serves this
 * page at GET / from dist/demo.
 */

const devTokensEnabled = document.querySelector('meta[name="rtg-dev-tokens"]')?.getAttribute('content') !== 'disabled';
const SESSION_USER = 'rtg-demo:user';
const lastIdKey = (userId: string) => `rtg-demo:last-event-id:${userId}`;

interface Session {
  client: RealtimeClient;
  unmount: Array<() => void>;
}

let session: Session | null = null;

function showError(message: string): void {
  const error = byId('signin-error');
  error.textContent = message;
  error.hidden = message === '';
}

function signIn(userId: string, token: string, refresh: (() => Promise<string>) | undefined): void {
  signOut();
  showError('');
  const client = createRealtimeClient({
    token,
    getToken: refresh,
    // Resume where this tab left off (a reload), else replay the retained history: the feed starts full.
    lastEventId: sessionStorage.getItem(lastIdKey(userId)) ?? '0',
    pollIntervalMs: 2_000,
  });
  session = {
    client,
    unmount: [
      mountConnections(client),
      mountInbox(client),
      mountFeed(client, (id) => sessionStorage.setItem(lastIdKey(userId), id)),
      mountChat(client, userId),
      mountJobs(client),
      mountJobBoard(client),
    ],
  };
  byId('session-user').textContent = userId;
  byId('signin').hidden = true;
  byId('session').hidden = false;
  byId('welcome').hidden = true;
  byId('app').hidden = false;
  document.title = `${userId} · realtime-gateway demo`;
}

function signOut(): void {
  if (session === null) return;
  for (const unmount of session.unmount) unmount();
  session.client.close();
  session = null;
  sessionStorage.removeItem(SESSION_USER);
  byId('signin').hidden = !devTokensEnabled;
  byId('session').hidden = true;
  byId('welcome').hidden = false;
  byId('app').hidden = true;
  document.title = 'realtime-gateway · live demo';
}

async function signInWithDevToken(userId: string): Promise<void> {
  try {
    const token = await devToken(userId);
    sessionStorage.setItem(SESSION_USER, userId);
    signIn(userId, token, () => devToken(userId));
  } catch (error) {
    showError(
      error instanceof ApiError && error.status === 404
        ? 'POST /api/dev/token is disabled on this gateway (NODE_ENV=production, or JWT_SECRET without DEV_TOKENS=true): sign in with a user token instead.'
        : `Could not get a dev token: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function signInWithToken(token: string): void {
  const sub = readJwtClaims(token)?.sub;
  if (typeof sub !== 'string') return showError('That is not a user token: a JWT whose sub is the user id.');
  // No getToken: when this token expires the connections end, and the page asks for a new one.
  signIn(sub, token, undefined);
}

byId<HTMLFormElement>('signin').addEventListener('submit', (event) => {
  event.preventDefault();
  const userId = byId<HTMLInputElement>('user-id').value.trim();
  if (userId !== '') void signInWithDevToken(userId);
});

byId<HTMLFormElement>('token-signin').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = byId<HTMLInputElement>('token-input').value.trim();
  if (token !== '') signInWithToken(token);
});

byId('signout').addEventListener('click', signOut);

if (!devTokensEnabled) {
  byId('devtoken-note').hidden = false;
  byId('devtoken-intro').hidden = true;
  byId('signin').hidden = true;
  byId('token-label').textContent = 'Sign in with a user token (JWT)';
}

// A reload keeps the tab signed in (and resumes its feed after the last id it showed).
const remembered = sessionStorage.getItem(SESSION_USER);
if (devTokensEnabled && remembered) void signInWithDevToken(remembered);
