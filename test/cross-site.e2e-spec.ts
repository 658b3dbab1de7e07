import fs from 'node:fs';
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Cookie, type Page } from 'playwright-core';
import { LiveConnections } from '../apps/gateway/src/connections/live-connections';
import { closeAfterEach } from './support/close-after-each';
import { engineClose, engineOpen, engineRead, jsonpConnect, jsonpRead, loadImages, openEventSource, readNotifications } from './support/cross-site-page';
import { randomUserId } from './support/prefix';
import { publish } from './support/publish';
import { connectSocket, connected } from './support/socket-client';
import { openSse } from './support/sse-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * Issue 13, finding 1, in Debian's Chromium: a victim signed in to the
 * gateway by its access_token cookie visits an attacker's page, which tries
 * to open, drive and read a socket or stream as the victim. Two attackers:
 * - cross-site (http://localhost:A against the gateway at http://127.0.0.1:G),
 *   with a `SameSite=None` cookie, in a profile that allows third-party
 *   cookies (Chrome's default outside incognito);
 * - same-site (http://127.0.0.1:A, another port of the host, as a sibling
 *   subdomain would be), with a `SameSite=Strict` cookie: SameSite never
 *   protects against a sibling.
 * A premise check proves the browser did send the cookie on the attacker's
 * requests, so the gateway, not the browser, is what refuses. A partner page
 * in CORS_ORIGINS and the gateway's own origin keep working with the cookie.
 */

const CHROMIUM = '/usr/bin/chromium';
const CAP = 4;

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  response: ServerResponse;
}

function blankPageServer(): Promise<http.Server> {
  const server = http.createServer((_, response) => response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

(fs.existsSync(CHROMIUM) ? describe : describe.skip)('a page on another origin cannot use the visitor’s cookie', () => {
  let gateway: TestGateway;
  let attackerServer: http.Server;
  let partnerServer: http.Server;
  let context: BrowserContext;
  let profile: string;
  let partner: string;
  const seen: Seen[] = [];
  const track = closeAfterEach();

  /** What the pages of `origin` asked the gateway (their Referer names them). */
  const from = (origin: string) => seen.filter((entry) => entry.headers.referer?.startsWith(`${origin}/`));

  beforeAll(async () => {
    [attackerServer, partnerServer] = await Promise.all([blankPageServer(), blankPageServer()]);
    partner = `http://localhost:${(partnerServer.address() as AddressInfo).port}`;
    gateway = await startGateway({ env: { CORS_ORIGINS: partner, MAX_CONNECTIONS_PER_USER: String(CAP) } });
    gateway.app.getHttpServer().prependListener('request', (request: http.IncomingMessage, response: ServerResponse) => {
      seen.push({ path: request.url ?? '', headers: request.headers, response });
    });
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rtg-cross-site-'));
    // A regular profile as Chrome ships it: third-party cookies allowed (headless contexts block them).
    fs.mkdirSync(path.join(profile, 'Default'));
    fs.writeFileSync(path.join(profile, 'Default/Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'], timeout: 30_000 });
  }, 60_000);

  beforeEach(() => {
    seen.length = 0;
  });

  afterAll(async () => {
    await context?.close();
    fs.rmSync(profile, { recursive: true, force: true });
    for (const server of [attackerServer, partnerServer]) {
      server.closeAllConnections();
      server.close();
    }
    await gateway?.close();
  }, 30_000);

  /** Signs `victim` in on the gateway's origin: the cookie a login page of the gateway would set. */
  async function signIn(victim: string, sameSite: Cookie['sameSite']): Promise<string> {
    const token = userToken(victim);
    await context.clearCookies();
    // By domain: Chromium keeps a Secure cookie of http://127.0.0.1 (a trustworthy origin) only when set so.
    await context.addCookies([{ name: 'access_token', value: token, domain: '127.0.0.1', path: '/', sameSite, secure: sameSite === 'None', httpOnly: true }]);
    return token;
  }

  async function pageAt(url: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(url);
    return page;
  }

  const attackers: Array<[string, () => string, Cookie['sameSite']]> = [
    ['cross-site', () => `http://localhost:${(attackerServer.address() as AddressInfo).port}`, 'None'],
    ['same-site', () => `http://127.0.0.1:${(attackerServer.address() as AddressInfo).port}`, 'Strict'],
  ];

  describe.each(attackers)('a %s attacker page', (_, attackerOrigin, sameSite) => {
    let victim: string;
    let token: string;
    let page: Page;

    beforeEach(async () => {
      victim = randomUserId('victim');
      token = await signIn(victim, sameSite);
      page = await pageAt(`${attackerOrigin()}/`);
    });

    afterEach(async () => {
      await page.close();
    });

    /** The premise: the browser sent the victim's cookie on every request the attacker made to `path`. */
    const expectCookieSent = (pathPrefix: string) => {
      const requests = from(attackerOrigin()).filter((entry) => entry.path.startsWith(pathPrefix));
      expect(requests.length).toBeGreaterThan(0);
      for (const entry of requests) expect(entry.headers.cookie).toContain(token);
      return requests;
    };

    it('cannot open a socket by JSONP, read the victim’s notifications or chat as the victim', async () => {
      const witnessId = randomUserId('witness');
      const witness = connectSocket(gateway.url, witnessId);
      track(witness);
      await connected(witness);
      const opened = await page.evaluate(jsonpConnect, gateway.url);
      const secret = await publish(gateway.url, victim, 'job-match', { secret: 'for the victim only' });
      const attack = await page.evaluate(jsonpRead, { recipientId: witnessId, content: `sent by the attacker as ${victim}` });
      // The control: a chat sent after the attacker's reaches the witness, so the attacker's had its chance.
      const friend = connectSocket(gateway.url, randomUserId('friend'));
      track(friend);
      await connected(friend);
      expect(await friend.request('chat', { recipientId: witnessId, content: 'control' })).toMatchObject({ ok: true });
      await waitFor(() => witness.eventsNamed<{ content: string }>('chat').some((message) => message.content === 'control'), 'the control chat');
      expectCookieSent('/socket.io/');
      expect({ opened, read: attack.packets.filter((packet) => packet.includes(secret)) }).toEqual({ opened: { loaded: 'error', sid: null }, read: [] });
      expect(attack.packets).toEqual([]);
      // Before the fix, the witness got the attacker's message as a chat from the victim.
      expect(witness.eventsNamed<{ from: string }>('chat').filter((message) => message.from === victim)).toEqual([]);
    });

    it('cannot spend the victim’s connection slots with <img> tags, nor open a stream', async () => {
      const before = gateway.app.get(LiveConnections).size;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, gateway.app.get(LiveConnections).size)), 5);
      try {
        await page.evaluate(loadImages, { url: `${gateway.url}/api/events`, count: 40 });
        const answered = () => from(attackerOrigin()).filter((entry) => entry.path.startsWith('/api/events') && entry.response.headersSent);
        // Opened streams hold the browser's six connections: then the statuses below say what happened.
        await waitFor(() => answered().length >= 40, '40 answers to the <img> requests', 15_000).catch(() => undefined);
        expectCookieSent('/api/events');
        expect(answered().map((entry) => entry.response.statusCode)).toEqual(Array(40).fill(401));
      } finally {
        clearInterval(sampler);
      }
      expect(peak).toBe(before);
      const own = await Promise.all(Array.from({ length: CAP }, () => openSse(gateway.url, '/api/events', { Authorization: `Bearer ${token}` })));
      for (const stream of own) stream.close();
      expect(own.map((stream) => stream.status)).toEqual(Array(CAP).fill(200));
    });

    it('is not authenticated by the cookie on fetch, no-cors fetch, EventSource or WebSocket', async () => {
      await publish(gateway.url, victim, 'job-match', { secret: 'for the victim only' });
      const read = await page.evaluate(readNotifications, gateway.url);
      const stream = await page.evaluate(openEventSource, `${gateway.url}/api/events`);
      const socket = await page.evaluate(engineOpen, { url: gateway.url.replace('http', 'ws'), transport: 'websocket' });
      // no-cors is blocked by the answer's Cross-Origin-Resource-Policy; the rest by CORS and the Origin check.
      expect({ read, stream, socket }).toEqual({ read: { cors: 'blocked', noCors: 'blocked' }, stream: 'error', socket: { connected: false } });
      const answers = expectCookieSent('/api/').map((entry) => `${entry.path} ${entry.response.statusCode}`);
      expect(answers.sort()).toEqual(['/api/events 401', '/api/notifications 401', '/api/notifications 401']);
    });
  });

  describe('pages allowed to use the cookie', () => {
    it('the gateway’s own page reads its notifications and opens a socket by XHR polling', async () => {
      const user = randomUserId('own');
      await signIn(user, 'Strict');
      const page = await pageAt(`${gateway.url}/health`);
      try {
        const id = await publish(gateway.url, user);
        expect(await page.evaluate(readNotifications, gateway.url)).toMatchObject({ cors: expect.stringContaining(id) });
        const sid = await page.evaluate(engineOpen, { url: gateway.url, transport: 'polling' });
        expect(sid).toMatchObject({ connected: true });
        const live = await publish(gateway.url, user);
        const session = { url: gateway.url, sid: sid.sid as string };
        expect(await page.evaluate(engineRead, session)).toContain(live);
        await page.evaluate(engineClose, session);
      } finally {
        await page.close();
      }
    });

    it('a partner in CORS_ORIGINS reads with the cookie cross-site (CORP binds no-cors loads only)', async () => {
      const user = randomUserId('partner');
      await signIn(user, 'None');
      const page = await pageAt(`${partner}/`);
      try {
        const id = await publish(gateway.url, user);
        expect(await page.evaluate(readNotifications, gateway.url)).toMatchObject({ cors: expect.stringContaining(id) });
        expect(await page.evaluate(openEventSource, `${gateway.url}/api/events`)).toBe('open');
        const live = await publish(gateway.url, user);
        await waitFor(() => page.evaluate((expected) => (window as unknown as { received: string[] }).received.includes(expected), live), 'the partner’s EventSource to receive');
        const sid = await page.evaluate(engineOpen, { url: gateway.url, transport: 'polling' });
        expect(sid).toMatchObject({ connected: true });
        await page.evaluate(engineClose, { url: gateway.url, sid: sid.sid as string });
      } finally {
        await page.close();
      }
    });
  });
});
