import { isRedisUnavailable, RedisUnavailableError } from './redis-unavailable';

/** What ioredis rejects with for an error reply (redis-errors' ReplyError). */
const replyError = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

describe('isRedisUnavailable', () => {
  it.each([
    ['our own refusal', new RedisUnavailableError('redis is not connected')],
    ['a command Redis did not answer in time (a hung or frozen server)', new Error('Command timed out')],
    ['a closed connection', new Error('Connection is closed.')],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })],
    ['a server still loading its data', replyError('LOADING Redis is loading the dataset in memory')],
    ['a write to a replica during a failover', replyError("READONLY You can't write against a read only replica.")],
    ['a cluster without a primary for the slot', replyError('CLUSTERDOWN The cluster is down')],
    ['a slot being moved', replyError('TRYAGAIN Multiple keys request during rehashing of slot')],
    ['too few replicas', replyError('NOREPLICAS Not enough good replicas to write.')],
    ['a command given up after its retries', Object.assign(new Error('Reached the max retries per request limit (which is 2).'), { name: 'MaxRetriesPerRequestError' })],
    ['a cluster that lost every node', Object.assign(new Error('Failed to refresh slots cache.'), { name: 'ClusterAllFailedError' })],
    ['a cluster command redirected until ioredis gave up', new Error('Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down')],
    ['a connection with no offline queue', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
  ])('is true for %s', (_, error) => {
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it.each([
    ['a bad command', replyError("ERR wrong number of arguments for 'xadd' command")],
    ['a script error', replyError('ERR Error running script')],
    ['a reply that merely mentions a closed connection', replyError('ERR Connection is closed. says the script')],
    ['a wrong type', replyError('WRONGTYPE Operation against a key holding the wrong kind of value')],
    ['anything that is not an Error', 'Command timed out'],
  ])('is false for %s', (_, error) => {
    expect(isRedisUnavailable(error)).toBe(false);
  });
});
