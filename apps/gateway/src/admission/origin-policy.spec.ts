import type { IncomingHttpHeaders } from 'node:http';
import { cookieMayAuthenticate, corsOptions, handshakeOriginAllowed, isAllowedOrigin } from './origin-policy';

const HOST = 'gw.example:3000';
const PARTNER = 'https://app.partner.example';

describe('cookieMayAuthenticate', () => {
  const counts = (headers: IncomingHttpHeaders) => cookieMayAuthenticate({ host: HOST, ...headers }, [PARTNER]);

  it.each<[string, boolean, IncomingHttpHeaders]>([
    ['the gateway’s own Origin', true, { origin: 'http://gw.example:3000' }],
    ['its own Origin over TLS (behind a proxy)', true, { origin: 'https://gw.example:3000' }],
    ['an Origin in CORS_ORIGINS', true, { origin: PARTNER, 'sec-fetch-site': 'cross-site' }],
    ['a foreign Origin', false, { origin: 'https://evil.example' }],
    ['a foreign Origin claiming same-origin in Sec-Fetch-Site', false, { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }],
    ['a sibling Origin not listed', false, { origin: 'http://gw.example:4000', 'sec-fetch-site': 'same-site' }],
    ['Origin: null', false, { origin: 'null' }],
    ['an Origin that is no URL', false, { origin: 'gw.example:3000' }],
    ['Sec-Fetch-Site: same-origin without Origin', true, { 'sec-fetch-site': 'same-origin' }],
    ['Sec-Fetch-Site: same-site without Origin', false, { 'sec-fetch-site': 'same-site' }],
    ['Sec-Fetch-Site: cross-site without Origin', false, { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: none on a navigation (typed URL, bookmark)', true, { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' }],
    ['Sec-Fetch-Site: none on anything else', false, { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'no-cors' }],
    ['an unknown Sec-Fetch-Site', false, { 'sec-fetch-site': 'same-origin, cross-site' }],
    ['neither Origin nor Sec-Fetch-Site', false, {}],
  ])('%s → %s', (_, expected, headers) => {
    expect(counts(headers)).toBe(expected);
  });
});

describe('isAllowedOrigin', () => {
  it('compares the host and port with Host, default ports included', () => {
    expect(isAllowedOrigin('https://gw.example', 'gw.example:443', [])).toBe(true);
    expect(isAllowedOrigin('http://gw.example', 'gw.example:80', [])).toBe(true);
    expect(isAllowedOrigin('http://GW.example', 'gw.EXAMPLE', [])).toBe(true);
    expect(isAllowedOrigin('http://gw.example:8080', 'gw.example', [])).toBe(false);
  });

  it('never matches without a Host, or for a scheme that is not HTTP', () => {
    expect(isAllowedOrigin('http://gw.example', undefined, [])).toBe(false);
    expect(isAllowedOrigin('chrome-extension://gw.example', 'gw.example', [])).toBe(false);
    expect(isAllowedOrigin('file://', '', [])).toBe(false);
  });

  it('takes CORS_ORIGINS entries as written', () => {
    expect(isAllowedOrigin(PARTNER, HOST, [PARTNER])).toBe(true);
    expect(isAllowedOrigin(`${PARTNER}:443`, HOST, [PARTNER])).toBe(false);
  });
});

describe('handshakeOriginAllowed', () => {
  it('lets through no Origin (not a browser), the gateway’s own and a listed one; nothing else', () => {
    expect(handshakeOriginAllowed({ host: HOST }, [])).toBe(true);
    expect(handshakeOriginAllowed({ host: HOST, origin: 'http://gw.example:3000' }, [])).toBe(true);
    expect(handshakeOriginAllowed({ host: HOST, origin: PARTNER }, [PARTNER])).toBe(true);
    expect(handshakeOriginAllowed({ host: HOST, origin: 'https://evil.example' }, [PARTNER])).toBe(false);
    expect(handshakeOriginAllowed({ host: HOST, origin: 'null' }, [])).toBe(false);
  });
});

describe('corsOptions', () => {
  it('allows the listed origins with credentials, and nothing at all without a list', () => {
    expect(corsOptions([PARTNER])).toEqual({ origin: [PARTNER], credentials: true });
    expect(corsOptions([])).toBeNull();
  });
});
