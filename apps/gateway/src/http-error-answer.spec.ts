import { Logger } from '@nestjs/common';
import { InvalidInputError, RedisUnavailableError } from '@app/notifications';
import { ConnectionRefusedError } from './connections/connection-refused.error';
import { httpErrorAnswer } from './http-error-answer';

describe('httpErrorAnswer', () => {
  const log = new Logger('test');

  it('answers Redis being away with 503 and Retry-After: 1', () => {
    expect(httpErrorAnswer(new RedisUnavailableError('down'), log)).toEqual({
      status: 503,
      body: { statusCode: 503, error: 'Service Unavailable', message: 'redis is unavailable, retry later' },
      retryAfterSeconds: 1,
    });
  });

  it.each([
    ['user-limit', 429, 'Too Many Requests', 30],
    ['instance-limit', 429, 'Too Many Requests', 5],
    ['draining', 503, 'Service Unavailable', 1],
  ] as const)('answers a connection refused for %s with %d and its own Retry-After', (refusal, status, error, retryAfterSeconds) => {
    const refused = new ConnectionRefusedError(refusal);
    expect(httpErrorAnswer(refused, log)).toEqual({ status, body: { statusCode: status, error, message: refused.message }, retryAfterSeconds });
  });

  it('sends no Retry-After with bad input', () => {
    expect(httpErrorAnswer(new InvalidInputError('after', 'bad'), log).retryAfterSeconds).toBeNull();
  });
});
