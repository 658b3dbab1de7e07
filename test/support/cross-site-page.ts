/*
 * What a page does in test/cross-site.e2e-spec.ts, as functions for Playwright's
 * page.evaluate: each is serialized and runs in the browser, so it may use
 * nothing from this module's scope. State that spans two calls lives on
 * `window`. An attacker's page and the allowed pages use the same functions.
 */

type JsonpState = { base: string; packets: string[]; sid: string | null };
type JsonpWindow = Window & { ___eio: Array<(payload: string) => void>; jsonp: JsonpState };

/** Engine.IO's JSONP handshake by <script> tag, then CONNECT by a no-cors form POST: what a cross-site page can do without reading a response. */
export async function jsonpConnect(gatewayUrl: string): Promise<{ loaded: string; sid: string | null }> {
  const w = window as unknown as JsonpWindow;
  const state: JsonpState = { base: `${gatewayUrl}/socket.io/?EIO=4&transport=polling&j=0`, packets: [], sid: null };
  w.jsonp = state;
  w.___eio = [(payload) => state.packets.push(...payload.split('\x1e'))];
  const load = (src: string) =>
    new Promise<string>((resolve) => {
      const script = document.createElement('script');
      script.src = `${src}&t=${Math.random()}`;
      script.onload = () => resolve('loaded');
      script.onerror = () => resolve('error');
      document.head.append(script);
    });
  const loaded = await load(state.base);
  const open = state.packets.find((packet) => packet.startsWith('0{'));
  if (open === undefined) return { loaded, sid: null };
  state.sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
  await fetch(`${state.base}&sid=${state.sid}`, { method: 'POST', mode: 'no-cors', credentials: 'include', body: new URLSearchParams({ d: '40' }) });
  await load(`${state.base}&sid=${state.sid}`);
  return { loaded, sid: state.sid };
}

/** On a JSONP session: chat as its user, then read what the server has for it by <script> tag. */
export async function jsonpRead(chat: { recipientId: string; content: string }): Promise<{ packets: string[] }> {
  const state = (window as unknown as JsonpWindow).jsonp;
  if (state.sid === null) return { packets: state.packets };
  const sessionUrl = `${state.base}&sid=${state.sid}`;
  await fetch(sessionUrl, { method: 'POST', mode: 'no-cors', credentials: 'include', body: new URLSearchParams({ d: `42${JSON.stringify(['chat', chat])}` }) });
  await new Promise((resolve) => {
    const script = document.createElement('script');
    script.src = `${sessionUrl}&t=${Math.random()}`;
    script.onload = script.onerror = resolve;
    document.head.append(script);
  });
  return { packets: state.packets };
}

/** `count` <img> tags on `url`, each with its own query so that none is served from another. */
export function loadImages({ url, count }: { url: string; count: number }): void {
  for (let i = 0; i < count; i++) {
    const image = document.createElement('img');
    image.src = `${url}?types=job-match,t${i}`;
    document.body.append(image);
  }
}

/** GET /api/notifications with credentials, as a CORS fetch (status and body, or `blocked`) and as a no-cors one. */
export async function readNotifications(gatewayUrl: string): Promise<{ cors: string; noCors: string }> {
  const url = `${gatewayUrl}/api/notifications`;
  const cors = await fetch(url, { credentials: 'include' }).then(
    async (response) => `${response.status} ${await response.text()}`,
    () => 'blocked',
  );
  const noCors = await fetch(url, { mode: 'no-cors', credentials: 'include' }).then(
    async (response) => `${response.type} ${response.status} ${await response.text()}`.trim(),
    () => 'blocked',
  );
  return { cors, noCors };
}

/** An EventSource with credentials: `open` or `error`; the ids of its job-match events gather in `window.received`. */
export function openEventSource(url: string): Promise<string> {
  return new Promise((resolve) => {
    const w = window as unknown as { received: string[] };
    w.received = [];
    const source = new EventSource(url, { withCredentials: true });
    source.addEventListener('job-match', (event) => w.received.push((JSON.parse((event as MessageEvent<string>).data) as { id: string }).id));
    source.onopen = () => resolve('open');
    source.onerror = () => {
      source.close();
      resolve('error');
    };
  });
}

/** A bare Socket.IO client with the cookie only (no auth.token): connected or not, and its session id. */
export async function engineOpen({ url, transport }: { url: string; transport: string }): Promise<{ connected: boolean; sid?: string }> {
  if (transport === 'websocket') {
    return new Promise((resolve) => {
      const ws = new WebSocket(`${url}/socket.io/?EIO=4&transport=websocket`);
      ws.onmessage = (event) => {
        const packet = String(event.data);
        if (packet.startsWith('0{')) ws.send('40');
        else if (packet.startsWith('40') || packet.startsWith('44')) {
          resolve({ connected: packet.startsWith('40') });
          ws.close();
        }
      };
      ws.onerror = ws.onclose = () => resolve({ connected: false });
    });
  }
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  const open = await fetch(base, { credentials: 'include' }).then(
    (response) => response.text(),
    () => '',
  );
  if (!open.startsWith('0{')) return { connected: false };
  const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
  await fetch(`${base}&sid=${sid}`, { method: 'POST', credentials: 'include', body: '40' });
  const answer = await (await fetch(`${base}&sid=${sid}`, { credentials: 'include' })).text();
  return answer.startsWith('40') ? { connected: true, sid } : { connected: false };
}

/** The next packets of a polling session, as text. */
export async function engineRead({ url, sid }: { url: string; sid: string }): Promise<string> {
  const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { credentials: 'include' });
  return response.text();
}

/** Ends a polling session with a close packet: otherwise the server's shutdown waits 30 s for its next poll. */
export async function engineClose({ url, sid }: { url: string; sid: string }): Promise<void> {
  await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', credentials: 'include', body: '1' });
}
