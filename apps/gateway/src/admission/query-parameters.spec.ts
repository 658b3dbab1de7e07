import { InvalidInputError } from '@app/notifications';
import { optionalString, queryOf, refuseUnknownParameters } from './query-parameters';

describe('queryOf', () => {
  it('parses as Express parses a query for its routes', () => {
    expect(queryOf('/api/events')).toEqual({});
    expect({ ...queryOf('/api/events?a=1&b=x+y&a=2&c[d]=3') }).toEqual({ a: ['1', '2'], b: 'x y', 'c[d]': '3' });
  });

  it('keeps __proto__ a parameter like any other', () => {
    const query = queryOf('/x?__proto__=1');
    expect(Object.keys(query)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(query)).toBeNull();
  });
});

describe('refuseUnknownParameters', () => {
  const known = new Set(['types', 'access_token']);

  it('lets known parameters through', () => {
    expect(() => refuseUnknownParameters({ types: 'a', access_token: 't' }, known)).not.toThrow();
  });

  it.each([['lastEventID'], ['__proto__'], ['']])('names the unknown parameter %j', (name) => {
    const query = queryOf(`/x?types=a&${name}=1`);
    expect(() => refuseUnknownParameters(query, known)).toThrow(new InvalidInputError(name, `property ${name} should not exist`));
    try {
      refuseUnknownParameters(query, known);
    } catch (error) {
      expect((error as InvalidInputError).field).toBe(name);
    }
  });
});

describe('optionalString', () => {
  it('reads one value, and refuses a repeated one naming it', () => {
    expect(optionalString({ a: 'x' }, 'a')).toBe('x');
    expect(optionalString({}, 'a')).toBeUndefined();
    expect(() => optionalString({ a: ['x', 'y'] }, 'a')).toThrow('a must be a string');
  });
});
