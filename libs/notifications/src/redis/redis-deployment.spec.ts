import { parseRedisUrl } from './redis-deployment';

describe('parseRedisUrl', () => {
  it('keeps a one-server URL as it is', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
    expect(parseRedisUrl('rediss://:secret@cache.example:6380/2')).toEqual({ kind: 'single', url: 'rediss://:secret@cache.example:6380/2' });
  });

  it('reads the sentinels, the master name and the credentials of a Sentinel URL', () => {
    expect(parseRedisUrl('redis+sentinel://user:p%40ss@10.0.0.1:26379,10.0.0.2,[::1]:26380/my%20master')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      masterName: 'my master',
      username: 'user',
      password: 'p@ss',
    });
  });

  it('reads the seed nodes of a Cluster URL, with or without a password', () => {
    expect(parseRedisUrl('redis+cluster://127.0.0.1:7000,127.0.0.1:7001')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '127.0.0.1', port: 7001 },
      ],
    });
    expect(parseRedisUrl('redis+cluster://:pw@node-a')).toEqual({ kind: 'cluster', nodes: [{ host: 'node-a', port: 6379 }], password: 'pw' });
  });

  it.each([
    ['http://x', /must be a redis:\/\//],
    ['localhost:6379', /must be a redis:\/\//],
    ['redis://', /must/],
    ['redis+sentinel://h:26379', /must end with the master name/],
    ['redis+sentinel://h:26379/', /must end with the master name/],
    ['redis+cluster://h:7000/x', /has no path/],
    ['redis+cluster://h:0', /is not host:port/],
    ['redis+cluster://h:7000,,h:7001', /is not host:port/],
    ['redis+cluster://', /must look like/],
  ])('refuses %j with a reason', (url, reason) => {
    expect(() => parseRedisUrl(url)).toThrow(reason);
  });
});
