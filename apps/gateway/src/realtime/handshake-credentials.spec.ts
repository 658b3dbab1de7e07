import { dropHandshakeCredentials } from './handshake-credentials';

describe('dropHandshakeCredentials', () => {
  it('drops the cookie, authorization headers, auth.token and the access_token query, and keeps the rest', () => {
    const handshake = {
      headers: { cookie: 'access_token=t; theme=dark', authorization: 'Bearer t', 'proxy-authorization': 'Basic x', 'user-agent': 'ua', origin: 'https://app.example.com' },
      auth: { token: 't', lastEventId: '1-0' },
      query: { access_token: 't', EIO: '4', transport: 'websocket' },
      url: '/socket.io/?EIO=4&access_token=t&transport=websocket',
    };
    dropHandshakeCredentials(handshake);
    expect(handshake).toEqual({
      headers: { 'user-agent': 'ua', origin: 'https://app.example.com' },
      auth: { lastEventId: '1-0' },
      query: { EIO: '4', transport: 'websocket' },
      url: '/socket.io/?EIO=4&transport=websocket',
    });
  });

  it.each([
    ['/socket.io/?access_token=t', '/socket.io/'],
    ['/socket.io/?EIO=4', '/socket.io/?EIO=4'],
    ['/socket.io/', '/socket.io/'],
  ])('rewrites the url %j as %j', (url, expected) => {
    const handshake = { headers: {}, auth: {}, query: {}, url };
    dropHandshakeCredentials(handshake);
    expect(handshake.url).toBe(expected);
  });
});
