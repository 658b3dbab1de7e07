import { InvalidInputError } from '@app/notifications';
import { UNREADABLE_CURSOR } from '@app/notifications';
import { parseTypes, readEventsRequest } from './events.query';

function invalidField(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).field;
  }
  throw new Error('did not throw');
}

describe('parseTypes', () => {
  it.each([[undefined], [''], ['   ']])('returns null for %j', (raw) => {
    expect(parseTypes(raw)).toBeNull();
  });

  it('parses a comma-separated list into a set', () => {
    expect(parseTypes('job-match')).toEqual(new Set(['job-match']));
    expect(parseTypes('job-match,message-received')).toEqual(new Set(['job-match', 'message-received']));
  });

  it('trims around commas and drops duplicates', () => {
    const types = parseTypes(' job-match , message-received,job-match ');
    expect(types).toEqual(new Set(['job-match', 'message-received']));
    expect(types?.size).toBe(2);
  });

  it.each([['Job-Match'], ['job-match,'], [',job-match'], ['a,,b'], ['job match'], ['.x'], ['a'.repeat(65)]])(
    'rejects %j with field types',
    (raw) => {
      expect(invalidField(() => parseTypes(raw))).toBe('types');
    },
  );
});

describe('readEventsRequest', () => {
  it('reads nothing from nothing', () => {
    expect(readEventsRequest({}, undefined)).toEqual({ types: null, topics: [], resume: null });
    expect(readEventsRequest({ types: '', lastEventId: '' }, '')).toEqual({ types: null, topics: [], resume: null });
  });

  it('reads the types, the token parameter being the admission\'s', () => {
    expect(readEventsRequest({ types: 'job-match', access_token: 't' }, undefined)).toEqual({ types: new Set(['job-match']), topics: [], resume: null });
  });

  it('prefers the Last-Event-ID header over the query, and then leaves the query alone', () => {
    expect(readEventsRequest({ lastEventId: '20-0' }, '10-0').resume?.user).toBe('10-0');
    expect(readEventsRequest({ lastEventId: 'garbage' }, '10-0').resume?.user).toBe('10-0');
    expect(readEventsRequest({ lastEventId: '20-0' }, '').resume?.user).toBe('20-0');
  });

  it('takes a malformed header as an unknown cursor, and names a malformed query', () => {
    expect(readEventsRequest({}, 'abc').resume?.user).toBe(UNREADABLE_CURSOR);
    expect(invalidField(() => readEventsRequest({ lastEventId: 'abc' }, undefined))).toBe('lastEventId');
  });

  it.each([
    ['types', { types: ['a', 'b'] }],
    ['lastEventId', { lastEventId: ['1-0', '2-0'] }],
  ])('refuses a repeated %s, naming it', (field, query) => {
    expect(invalidField(() => readEventsRequest(query, undefined))).toBe(field);
  });

  it.each([['lastEventID'], ['after'], ['types[]'], ['__proto__'], ['']])('refuses the unknown parameter %j, naming it', (name) => {
    expect(invalidField(() => readEventsRequest({ [name]: 'x' }, undefined))).toBe(name);
  });
});
