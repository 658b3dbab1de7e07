import http from 'node:http';
import request from 'supertest';
import WebSocket from 'ws';
import { LiveConnections } from '../apps/gateway/src/connections/live-connections';
import { closeAfterEach } from './support/close-after-each';
import { randomUserId } from './support/prefix';
import { connectSocket, connected } from './support/socket-client';
import { openSse } from './support/sse-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';

/*
 * The contract's "Cookies are ambient" rule, header by header, without a
 * browser (test/cross-site.e2e-spec.ts plays the same attacks in Chromium):
 * the access_token cookie counts only when Origin, or failing it
 * Sec-Fetch-Site, says the request comes from the gateway's own page or from
 * CORS_ORIGINS; Engine.IO's JSONP polling is refused on every request; tokens
 * in Authorization, auth.token and ?access_token are not ambient and work as
 * before. Each row is checked on SSE, REST polling and the Socket.IO handshake.
 */

const PARTNER = 'https://app.partner.example';
const CAP = 3;

type Verdict = 'counts' | 'ignored' | 'refused';

describe('the access_token cookie counts only from allowed origins', () => {
  let gateway: TestGateway;
  const track = closeAfterEach();

  beforeAll(async () => {
    gateway = await startGateway({ env: { CORS_ORIGINS: PARTNER, MAX_CONNECTIONS_PER_USER: String(CAP) } });
  });

  afterAll(async () => {
    await gateway.close();
  });

  /** What a handshake with these headers (and no auth.token) ends in: 'connected' or the connect_error message. */
  const handshake = (userId: string, headers: Record<string, string>): Promise<string> => {
    const client = connectSocket(gateway.url, userId, { auth: {}, extraHeaders: headers });
    track(client);
    client.socket.io.opts.reconnection = false;
    return connected(client).then(
      () => 'connected',
      (error: Error) => error.message,
    );
  };

  // `ignored`: the cookie is not a credential, so the request has none (401, unauthorized).
  // `refused`: a foreign Origin, which the Socket.IO server refuses before any credential.
  const rows: Array<[string, (gatewayUrl: string) => Record<string, string>, Verdict]> = [
    ['no Origin, no Sec-Fetch-Site (not a browser request from our page)', () => ({}), 'ignored'],
    ['no Origin, Sec-Fetch-Site: cross-site', () => ({ 'Sec-Fetch-Site': 'cross-site' }), 'ignored'],
    ['no Origin, Sec-Fetch-Site: same-site (a sibling subdomain)', () => ({ 'Sec-Fetch-Site': 'same-site' }), 'ignored'],
    ['Origin: null', () => ({ Origin: 'null' }), 'refused'],
    ['a foreign Origin', () => ({ Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' }), 'refused'],
    ['a foreign Origin claiming Sec-Fetch-Site: same-origin', () => ({ Origin: 'https://evil.example', 'Sec-Fetch-Site': 'same-origin' }), 'refused'],
    ['the gateway’s own Origin', (url) => ({ Origin: url, 'Sec-Fetch-Site': 'same-origin' }), 'counts'],
    ['Sec-Fetch-Site: same-origin (a same-origin GET has no Origin)', () => ({ 'Sec-Fetch-Site': 'same-origin' }), 'counts'],
    ['an Origin in CORS_ORIGINS', () => ({ Origin: PARTNER, 'Sec-Fetch-Site': 'cross-site' }), 'counts'],
  ];

  describe.each(rows)('cookie with %s', (_, headersFor, verdict) => {
    const cookieRequest = (userId: string) => ({ Cookie: `theme=dark; access_token=${userToken(userId)}`, ...headersFor(gateway.url) });
    const httpStatus = verdict === 'counts' ? 200 : 401;

    it(`SSE → ${httpStatus}`, async () => {
      const stream = await openSse(gateway.url, '/api/events', cookieRequest(randomUserId()));
      stream.close();
      expect(stream.status).toBe(httpStatus);
      expect(stream.headers['cross-origin-resource-policy']).toBe('same-origin');
    });

    it(`REST GET /api/notifications → ${httpStatus}`, async () => {
      const response = await request(gateway.url).get('/api/notifications').set(cookieRequest(randomUserId()));
      expect(response.status).toBe(httpStatus);
    });

    it(`Socket.IO handshake → ${verdict === 'counts' ? 'connected' : verdict === 'ignored' ? 'unauthorized' : 'refused'}`, async () => {
      const outcome = await handshake(randomUserId(), cookieRequest(randomUserId()));
      if (verdict === 'counts') expect(outcome).toBe('connected');
      else if (verdict === 'ignored') expect(outcome).toBe('unauthorized');
      else expect(outcome).not.toMatch(/^(connected|unauthorized)$/);
    });
  });

  it('a top-level navigation the user started (Sec-Fetch-Site: none) counts on HTTP, nothing else with `none` does', async () => {
    const token = userToken(randomUserId());
    const typed = { Cookie: `access_token=${token}`, 'Sec-Fetch-Site': 'none', 'Sec-Fetch-Mode': 'navigate' };
    expect((await request(gateway.url).get('/api/notifications').set(typed)).status).toBe(200);
    expect((await request(gateway.url).get('/api/notifications').set({ ...typed, 'Sec-Fetch-Mode': 'no-cors' })).status).toBe(401);
  });

  it('a state-changing request rides the cookie only from an allowed origin', async () => {
    const victim = randomUserId('victim');
    const cookie = `access_token=${userToken(victim)}`;
    const post = (headers: Record<string, string>) => request(gateway.url).post('/api/saved-searches').set({ Cookie: cookie, ...headers }).send({ keywords: ['go'] });
    expect((await post({ 'Sec-Fetch-Site': 'same-site', Origin: 'http://127.0.0.1:1' })).status).toBe(401);
    expect((await post({})).status).toBe(401);
    expect((await post({ Origin: gateway.url, 'Sec-Fetch-Site': 'same-origin' })).status).toBe(201);
    const listed = await request(gateway.url).get('/api/saved-searches').set('Authorization', `Bearer ${userToken(victim)}`);
    expect(listed.body.items).toHaveLength(1);
  });

  it('an ignored cookie costs no connection slot: the user still opens all of theirs', async () => {
    const victim = randomUserId('victim');
    const before = gateway.app.get(LiveConnections).size;
    for (let i = 0; i < CAP * 3; i++) {
      const stream = await openSse(gateway.url, '/api/events', { Cookie: `access_token=${userToken(victim)}`, 'Sec-Fetch-Site': 'same-site' });
      stream.close();
      expect(stream.status).toBe(401);
    }
    expect(gateway.app.get(LiveConnections).size).toBe(before);
    const own = await Promise.all(Array.from({ length: CAP }, () => openSse(gateway.url, '/api/events', { Authorization: `Bearer ${userToken(victim)}` })));
    for (const stream of own) stream.close();
    expect(own.map((stream) => stream.status)).toEqual(Array(CAP).fill(200));
  });

  describe('tokens that are not ambient work from any client, with or without browser headers', () => {
    it.each([
      ['no browser headers', {}],
      ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
    ])('Authorization, ?access_token and auth.token, %s', async (_, extra: Record<string, string>) => {
      const userId = randomUserId();
      const token = userToken(userId);
      const byHeader = await openSse(gateway.url, '/api/events', { Authorization: `Bearer ${token}`, ...extra });
      const byQuery = await openSse(gateway.url, `/api/events?access_token=${token}`, extra);
      for (const stream of [byHeader, byQuery]) stream.close();
      expect([byHeader.status, byQuery.status]).toEqual([200, 200]);
      expect((await request(gateway.url).get('/api/notifications').set({ Authorization: `Bearer ${token}`, ...extra })).status).toBe(200);
      expect((await request(gateway.url).get(`/api/notifications?access_token=${token}`).set(extra)).status).toBe(200);
      const byAuth = connectSocket(gateway.url, userId, { extraHeaders: extra });
      track(byAuth);
      await connected(byAuth);
      expect(await handshake(userId, { Authorization: `Bearer ${token}`, ...extra })).toBe('connected');
    });

    it('an ignored cookie does not hide ?access_token behind it', async () => {
      const token = userToken(randomUserId());
      const response = await request(gateway.url).get(`/api/notifications?access_token=${token}`).set({ Cookie: 'access_token=not-a-jwt', 'Sec-Fetch-Site': 'cross-site' });
      expect(response.status).toBe(200);
    });
  });

  describe('Engine.IO', () => {
    const engineGet = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
        http
          .get(`${gateway.url}/socket.io/?EIO=4&transport=polling${path}`, { headers }, (response) => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (body += chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
          })
          .on('error', reject);
      });

    it.each([
      ['with no credential', {}],
      ['from the gateway’s own page with its cookie', { Origin: 'ORIGIN', Cookie: 'access_token=TOKEN' }],
      ['with a Bearer token', { Authorization: 'Bearer TOKEN' }],
    ])('refuses a JSONP handshake (?j=) %s with 403, never a script', async (_, template: Record<string, string>) => {
      const token = userToken(randomUserId());
      const headers = Object.fromEntries(Object.entries(template).map(([name, value]) => [name, value.replace('ORIGIN', gateway.url).replace('TOKEN', token)]));
      for (const j of ['0', '', '12']) {
        const answer = await engineGet(`&j=${j}`, headers);
        expect(answer.status).toBe(403);
        expect(answer.headers['content-type']).toBe('application/json');
        expect(JSON.parse(answer.body)).toEqual({ code: 4, message: expect.stringMatching(/JSONP/) });
        expect(answer.body).not.toContain('___eio');
      }
    });

    it('refuses ?j= on a session opened without it too, and keeps nosniff and CORP on every answer', async () => {
      const open = await engineGet('');
      expect(open.status).toBe(200);
      expect(open.headers['x-content-type-options']).toBe('nosniff');
      expect(open.headers['cross-origin-resource-policy']).toBe('same-origin');
      const sid = (JSON.parse(open.body.slice(1)) as { sid: string }).sid;
      const jsonp = await engineGet(`&sid=${encodeURIComponent(sid)}&j=0`);
      expect(jsonp.status).toBe(403);
      expect(jsonp.headers['x-content-type-options']).toBe('nosniff');
      const unknown = await engineGet('&sid=nope');
      expect(unknown.status).toBe(400);
      expect(unknown.headers['cross-origin-resource-policy']).toBe('same-origin');
    });

    it('sends nosniff and CORP on the WebSocket upgrade as well', async () => {
      const upgrade = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const ws = new WebSocket(`${gateway.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
        ws.once('upgrade', (response) => {
          resolve(response);
          ws.close();
        });
        ws.once('error', reject);
      });
      expect(upgrade.headers['x-content-type-options']).toBe('nosniff');
      expect(upgrade.headers['cross-origin-resource-policy']).toBe('same-origin');
    });
  });
});
