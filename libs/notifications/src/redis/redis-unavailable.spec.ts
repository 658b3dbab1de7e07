import { isRedisUnavailable, RedisUnavailableError } from './redis-unavailable';

describe('isRedisUnavailable', () => {
  it.each([
    ['our own refusal', new RedisUnavailableError('redis is not connected')],
    ['a command Redis did not answer in time (a hung or frozen server)', new Error('Command timed out')],
    ['a closed connection', new Error('Connection is closed.')],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })],
    ['a server still loading its data', new Error('LOADING Redis is loading the dataset in memory')],
  ])('is true for %s', (_, error) => {
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it.each([
    ['a bad command', new Error("ERR wrong number of arguments for 'xadd' command")],
    ['a script error', new Error('ERR Error running script')],
    ['anything that is not an Error', 'Command timed out'],
  ])('is false for %s', (_, error) => {
    expect(isRedisUnavailable(error)).toBe(false);
  });
});
