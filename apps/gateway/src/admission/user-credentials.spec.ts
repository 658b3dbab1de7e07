import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { bearerToken, type CredentialSources, forgetRequestCredentials, readUserToken } from './user-credentials';

const SAME_ORIGIN: IncomingHttpHeaders = { host: 'gw.example', 'sec-fetch-site': 'same-origin' };
const read = (sources: Partial<CredentialSources>) => readUserToken({ headers: {}, ...sources }, []);

describe('readUserToken', () => {
  it('takes the first source present: auth.token, Authorization, the cookie, then ?access_token', () => {
    const all = { authToken: 'auth', headers: { ...SAME_ORIGIN, authorization: 'Bearer header', cookie: 'access_token=cookie' }, queryToken: 'query' };
    expect(read(all)).toBe('auth');
    expect(read({ ...all, authToken: undefined })).toBe('header');
    expect(read({ ...all, authToken: undefined, headers: { ...SAME_ORIGIN, cookie: 'access_token=cookie' } })).toBe('cookie');
    expect(read({ queryToken: 'query' })).toBe('query');
    expect(read({})).toBeNull();
  });

  it('lets the cookie count only from an allowed origin, then reads the next source', () => {
    const headers = { host: 'gw.example', origin: 'https://evil.example', cookie: 'access_token=cookie' };
    expect(read({ headers })).toBeNull();
    expect(read({ headers, queryToken: 'query' })).toBe('query');
    expect(readUserToken({ headers }, ['https://evil.example'])).toBe('cookie');
  });

  it('finds the access_token cookie among others, decoded', () => {
    expect(read({ headers: { ...SAME_ORIGIN, cookie: 'a=1; access_token=a%2Eb.c; b="2"' } })).toBe('a.b.c');
  });

  it.each([[''], [['a', 'b']], [42], [{ token: 'x' }], [null]])('takes %j as no token in auth or the query', (value) => {
    expect(read({ authToken: value, queryToken: value })).toBeNull();
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer  abc ', 'abc'],
    ['Basic abc', null],
    ['Bearer a b', null],
    ['Bearer', null],
    [undefined, null],
  ])('%j → %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe('forgetRequestCredentials', () => {
  it('drops the credential headers, their raw copies in any case, and ?access_token, and keeps the rest', () => {
    const request = {
      headers: { cookie: 'access_token=t; theme=dark', authorization: 'Bearer t', 'proxy-authorization': 'Basic x', 'last-event-id': '1-0', host: 'gw' },
      rawHeaders: ['Host', 'gw', 'AUTHORIZATION', 'Bearer t', 'Cookie', 'access_token=t; theme=dark', 'Last-Event-ID', '1-0', 'proxy-authorization', 'Basic x'],
      url: '/api/events?types=job-match&access_token=t',
    } as unknown as IncomingMessage;
    forgetRequestCredentials(request);
    expect({ headers: request.headers, rawHeaders: request.rawHeaders, url: request.url }).toEqual({
      headers: { 'last-event-id': '1-0', host: 'gw' },
      rawHeaders: ['Host', 'gw', 'Last-Event-ID', '1-0'],
      url: '/api/events?types=job-match',
    });
  });

  it('leaves the headers of a request that came without a credential as they were', () => {
    const rawHeaders = ['Host', 'gw', 'Last-Event-ID', '1-0'];
    const request = { headers: { host: 'gw', 'last-event-id': '1-0' }, rawHeaders: [...rawHeaders], url: '/api/events' } as unknown as IncomingMessage;
    forgetRequestCredentials(request);
    expect({ headers: request.headers, rawHeaders: request.rawHeaders }).toEqual({ headers: { host: 'gw', 'last-event-id': '1-0' }, rawHeaders });
  });

  it.each([
    ['/api/events?types=job-match', '/api/events?types=job-match'],
    ['/api/events?access%5Ftoken=t&types=a', '/api/events?types=a'],
    ['/api/events?types=a%2Cb&access_token=t', '/api/events?types=a%2Cb'],
    ['/api/events?types=a%2Cb', '/api/events?types=a%2Cb'],
    ['/api/events?access_token=t', '/api/events'],
  ])('rewrites %s to %s', (url, forgotten) => {
    const request = { headers: {}, rawHeaders: [], url } as unknown as IncomingMessage;
    forgetRequestCredentials(request);
    expect(request.url).toBe(forgotten);
  });
});
