import { InvalidInputError } from './errors';
import { MAX_JSON_DEPTH } from './json-shape';
import { assertNotificationInput, compareNotificationIds, isUserId, MAX_DATA_BYTES, parseNotificationId, USER_ID_RULE } from './notification';

const valid = { userId: 'user-1', type: 'job-match', data: { jobId: 42 } };

function invalidField(input: unknown): string {
  try {
    assertNotificationInput(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).name).toBe('InvalidInputError');
    return (error as InvalidInputError).field;
  }
  throw new Error(`assertNotificationInput(${JSON.stringify(input)}) did not throw`);
}

describe('assertNotificationInput', () => {
  it('passes valid input through', () => {
    expect(assertNotificationInput(valid)).toEqual({ ...valid, idempotencyKey: undefined });
    expect(assertNotificationInput({ ...valid, idempotencyKey: 'order-7' })).toEqual({ ...valid, idempotencyKey: 'order-7' });
  });

  it('returns only the known fields', () => {
    const result = assertNotificationInput({ ...valid, extra: true });
    expect(Object.keys(result).sort()).toEqual(['data', 'idempotencyKey', 'type', 'userId']);
  });

  it.each([[null], [undefined], ['text'], [42], [[valid]]])('rejects body %j', (body) => {
    expect(invalidField(body)).toBe('body');
  });

  it.each([
    [''],
    ['u'.repeat(129)],
    ['🚀'.repeat(129)],
    ['has space'],
    ['tab\t'],
    ['new\nline'],
    ['bell\u0007'],
    ['del\u007f'],
    ['next-line\u0085'],
    ['no-break\u00a0space'],
    ['ideographic\u3000space'],
    ['line\u2028separator'],
    ['lone-high\ud83d'],
    ['\ude80lone-low'],
    [undefined],
    [7],
  ])('rejects userId %j', (userId) => {
    expect(invalidField({ ...valid, userId })).toBe('userId');
    expect(isUserId(userId)).toBe(false);
  });

  // Counted in code points: 128 emoji are 256 UTF-16 units.
  it.each([['u'.repeat(128)], ['🚀'.repeat(128)], ['ü-用户-x-🚀'], ['Ωμέγα'], ['é'], ['👩\u200d👩\u200d👧'], ['e\u0301'], ['user@example.com'], ['a:b'], ['!~']])(
    'accepts userId %j',
    (userId) => {
      expect(assertNotificationInput({ ...valid, userId }).userId).toBe(userId);
      expect(isUserId(userId)).toBe(true);
    },
  );

  it('says what a user id is when it refuses one', () => {
    expect(() => assertNotificationInput({ ...valid, userId: 'a\u0007b' })).toThrow(`userId ${USER_ID_RULE}`);
    expect(USER_ID_RULE).not.toMatch(/printable|ASCII/);
  });

  it.each([['Job-match'], ['JOB'], ['.leading-dot'], ['a'.repeat(65)], [''], ['has space'], ['-x'], [undefined], [1]])(
    'rejects type %j',
    (type) => {
      expect(invalidField({ ...valid, type })).toBe('type');
    },
  );

  it.each([['job-match'], ['a.b_c-1'], ['0'], ['a'.repeat(64)]])('accepts type %j', (type) => {
    expect(assertNotificationInput({ ...valid, type }).type).toBe(type);
  });

  it.each([[null], [[1, 2]], ['string'], [5], [undefined]])('rejects data %j', (data) => {
    expect(invalidField({ ...valid, data })).toBe('data');
  });

  it('limits serialized data to 64 KiB', () => {
    expect(MAX_DATA_BYTES).toBe(65536);
    // {"x":"..."} has 8 bytes of overhead.
    const atLimit = { x: 'a'.repeat(MAX_DATA_BYTES - 8) };
    expect(Buffer.byteLength(JSON.stringify(atLimit))).toBe(MAX_DATA_BYTES);
    expect(assertNotificationInput({ ...valid, data: atLimit }).data).toBe(atLimit);

    const overLimit = { x: 'a'.repeat(MAX_DATA_BYTES - 7) };
    expect(invalidField({ ...valid, data: overLimit })).toBe('data');
  });

  it('counts bytes, not characters', () => {
    // 'é' is 2 bytes in UTF-8: half as many characters exceed the limit.
    const data = { x: 'é'.repeat((MAX_DATA_BYTES - 8) / 2 + 1) };
    expect(JSON.stringify(data).length).toBeLessThan(MAX_DATA_BYTES);
    expect(invalidField({ ...valid, data })).toBe('data');
  });

  it.each([[''], ['with space'], ['k'.repeat(129)], [5], [null]])('rejects idempotencyKey %j', (idempotencyKey) => {
    expect(invalidField({ ...valid, idempotencyKey })).toBe('idempotencyKey');
  });

  it('reports the first bad field with a message naming it', () => {
    try {
      assertNotificationInput({ userId: '', type: 'BAD', data: null });
      throw new Error('did not throw');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).field).toBe('userId');
      expect((error as InvalidInputError).message).toContain('userId');
    }
  });
});

describe('parseNotificationId', () => {
  it.each([
    ['1732190000000-5', '1732190000000-5'],
    ['123', '123-0'],
    ['0', '0-0'],
    ['0-0', '0-0'],
    ['007-01', '7-1'],
    ['18446744073709551615-18446744073709551615', '18446744073709551615-18446744073709551615'],
  ])('normalizes %j to %j', (input, expected) => {
    expect(parseNotificationId(input)).toBe(expected);
  });

  it.each([
    ['abc'],
    ['1-2-3'],
    [''],
    ['-1'],
    [' 1-0'],
    ['1-0 '],
    ['1-'],
    ['1.5'],
    ['+1'],
    ['18446744073709551616'],
    ['1-18446744073709551616'],
    ['99999999999999999999-0'],
    ['123456789012345678901'],
  ])('rejects %j', (input) => {
    expect(parseNotificationId(input)).toBeNull();
  });
});

describe('compareNotificationIds', () => {
  it('orders by ms, then by seq, numerically', () => {
    expect(compareNotificationIds('9-0', '10-0')).toBe(-1);
    expect(compareNotificationIds('10-0', '9-0')).toBe(1);
    expect(compareNotificationIds('10-2', '10-10')).toBe(-1);
    expect(compareNotificationIds('10-10', '10-2')).toBe(1);
    expect(compareNotificationIds('10-9', '11-0')).toBe(-1);
    expect(compareNotificationIds('2-99', '10-0')).toBe(-1);
    expect(compareNotificationIds('5-3', '5-4')).toBe(-1);
  });

  it('returns 0 for equal ids', () => {
    expect(compareNotificationIds('10-2', '10-2')).toBe(0);
    expect(compareNotificationIds('0-0', '0-0')).toBe(0);
  });

  it('puts 0-0 before everything', () => {
    for (const id of ['0-1', '1-0', '10-0', '18446744073709551615-18446744073709551615']) {
      expect(compareNotificationIds('0-0', id)).toBe(-1);
      expect(compareNotificationIds(id, '0-0')).toBe(1);
    }
  });

  describe('against BigInt ordering of random ids', () => {
    // Deterministic xorshift so a failure is reproducible.
    let state = 0x9e3779b9;
    const next = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    const randomPart = (): bigint => {
      switch (next() % 4) {
        case 0:
          return BigInt(next() % 12); // tiny values: many ties and 1-vs-2 digit cases
        case 1:
          return BigInt(next() % 100_000);
        case 2:
          return BigInt(1_700_000_000_000 + (next() % 1000));
        default:
          return ((BigInt(next()) << 32n) | BigInt(next())) & 0xffffffffffffffffn;
      }
    };
    const parts = Array.from({ length: 400 }, () => [randomPart(), randomPart()] as const);
    const ids = parts.map(([ms, seq]) => `${ms}-${seq}`);
    const bigintCompare = (a: string, b: string): number => {
      const [msA, seqA] = a.split('-').map(BigInt);
      const [msB, seqB] = b.split('-').map(BigInt);
      if (msA !== msB) return msA < msB ? -1 : 1;
      return seqA === seqB ? 0 : seqA < seqB ? -1 : 1;
    };

    it('ids are canonical', () => {
      for (const id of ids) expect(parseNotificationId(id)).toBe(id);
    });

    it('sorts exactly like BigInt comparison', () => {
      expect([...ids].sort(compareNotificationIds)).toEqual([...ids].sort(bigintCompare));
    });

    it('agrees with BigInt on every pair and is antisymmetric', () => {
      const sample = ids.slice(0, 120);
      let mismatches = 0;
      for (const a of sample) {
        for (const b of sample) {
          const forward = compareNotificationIds(a, b);
          const backward = compareNotificationIds(b, a);
          if (Math.sign(forward) !== bigintCompare(a, b) || Math.sign(forward) !== -Math.sign(backward)) mismatches++;
        }
      }
      expect(mismatches).toBe(0);
    });
  });
});

describe('assertNotificationInput on data no code should walk', () => {
  const nested = (depth: number) => {
    let value: Record<string, unknown> = {};
    for (let i = 1; i < depth; i++) value = { k: value };
    return value;
  };

  it('accepts data nested MAX_JSON_DEPTH deep', () => {
    expect(() => assertNotificationInput({ ...valid, data: nested(MAX_JSON_DEPTH) })).not.toThrow();
  });

  it('refuses deeper data as an InvalidInputError naming data, even past what JSON.stringify survives', () => {
    expect(invalidField({ ...valid, data: nested(MAX_JSON_DEPTH + 1) })).toBe('data');
    expect(invalidField({ ...valid, data: nested(100_000) })).toBe('data');
  });

  it('refuses data with a __proto__, constructor or prototype key at any level (prototype poisoning)', () => {
    expect(invalidField({ ...valid, data: JSON.parse('{"a":{"__proto__":{"isAdmin":true}}}') })).toBe('data');
    expect(invalidField({ ...valid, data: { list: [{ constructor: 'Bob' }] } })).toBe('data');
    expect(invalidField({ ...valid, data: { prototype: 1 } })).toBe('data');
    expect(() => assertNotificationInput({ ...valid, data: { toString: 'fine', name: 'Bob' } })).not.toThrow();
  });
});
