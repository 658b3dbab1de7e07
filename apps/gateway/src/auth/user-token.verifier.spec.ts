import { JwtService } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { UnauthorizedError } from '@app/notifications';
import { MAX_ROOM_GRANTS, UserTokenVerifier, VERIFIED_TOKENS_KEPT } from './user-token.verifier';

describe('UserTokenVerifier', () => {
  const jwt = new JwtService({ secret: createSecretKey(Buffer.from('a-test-secret-of-enough-length-!!')), signOptions: { algorithm: 'HS256' } });
  let verifier: UserTokenVerifier;
  let checks: jest.SpyInstance;

  beforeEach(() => {
    verifier = new UserTokenVerifier(jwt);
    checks = jest.spyOn(jwt, 'verify');
  });

  afterEach(() => {
    checks.mockRestore();
    jest.useRealTimers();
  });

  it.each([['ü-用户-x-🚀'], ['Ωμέγα'], ['🚀'.repeat(128)], ['👩\u200d👩\u200d👧-e\u0301']])('takes the Unicode sub %j as the user id', (sub) => {
    expect(verifier.verify(jwt.sign({ sub }, { expiresIn: 60 })).id).toBe(sub);
  });

  it.each([[''], ['a\u0007b'], ['a\nb'], ['a b'], ['a\u00a0b'], ['🚀'.repeat(129)], ['a\ud83db'], [42]])('refuses the sub %j', (sub) => {
    expect(() => verifier.verify(jwt.sign({ sub }, { expiresIn: 60 }))).toThrow(UnauthorizedError);
  });

  it('reads the rooms claim: room ids and prefixes ending in *', () => {
    const rooms = ['team-1', 'team-*', '*', 'a'.repeat(64), `${'b'.repeat(63)}*`];
    expect(verifier.verify(jwt.sign({ sub: 'u1', rooms }, { expiresIn: 60 })).rooms).toEqual(rooms);
    expect(verifier.verify(jwt.sign({ sub: 'u1' }, { expiresIn: 60 })).rooms).toEqual([]);
  });

  it.each([
    ['a string', 'team-1'],
    ['an object', { 'team-1': true }],
    ['a number in the list', ['team-1', 7]],
    ['a room id with a colon', ['user:u2']],
    ['a star inside', ['te*m']],
    ['a room id over 64 characters', ['x'.repeat(65)]],
    [`more than ${MAX_ROOM_GRANTS} entries`, Array.from({ length: MAX_ROOM_GRANTS + 1 }, (_, i) => `r${i}`)],
  ])('grants no room for a malformed rooms claim (%s), yet keeps the identity', (_label, rooms) => {
    const user = verifier.verify(jwt.sign({ sub: 'u1', rooms }, { expiresIn: 60 }));
    expect(user).toMatchObject({ id: 'u1', rooms: [] });
  });

  it('checks a token once, then answers it from memory until it expires', () => {
    const token = verifier.sign('u1', 60);
    const first = verifier.verify(token);
    expect(first.id).toBe('u1');
    expect(verifier.verify(token)).toBe(first);
    expect(checks).toHaveBeenCalledTimes(1);
  });

  it('refuses a remembered token once its exp has passed', () => {
    jest.useFakeTimers({ now: Date.now() });
    const token = verifier.sign('u1', 2);
    verifier.verify(token);
    jest.setSystemTime(Date.now() + 2_000);
    expect(() => verifier.verify(token)).toThrow(UnauthorizedError);
  });

  it('never remembers a token that failed, so one not yet valid passes once it is', () => {
    jest.useFakeTimers({ now: Date.now() });
    const token = jwt.sign({ sub: 'u1' }, { notBefore: 5, expiresIn: 60 });
    expect(() => verifier.verify(token)).toThrow(UnauthorizedError);
    jest.setSystemTime(Date.now() + 5_000);
    expect(verifier.verify(token).id).toBe('u1');
  });

  it('does not let a token with another signature hit a remembered one', () => {
    const token = verifier.sign('u1', 60);
    verifier.verify(token);
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${'A'.repeat(43)}`;
    expect(() => verifier.verify(forged)).toThrow(UnauthorizedError);
  });

  it(`keeps at most ${VERIFIED_TOKENS_KEPT} tokens, forgetting the oldest first`, () => {
    const first = verifier.sign('u0', 60);
    verifier.verify(first);
    for (let i = 1; i <= VERIFIED_TOKENS_KEPT; i++) verifier.verify(jwt.sign({ sub: `u${i}` }, { expiresIn: 60 }));
    checks.mockClear();
    verifier.verify(first);
    expect(checks).toHaveBeenCalledTimes(1);
  });
});
