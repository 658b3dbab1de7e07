import { InvalidInputError } from '@app/notifications';
import { UNREADABLE_CURSOR } from '@app/notifications';
import { parseResumeId, parseTypes, readEventsQuery } from './events.query';

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

describe('parseResumeId', () => {
  it('returns null when neither is given', () => {
    expect(parseResumeId(undefined, undefined)).toBeNull();
    expect(parseResumeId('', '')).toBeNull();
    expect(parseResumeId('', undefined)).toBeNull();
    expect(parseResumeId(undefined, '')).toBeNull();
  });

  it('normalizes the id', () => {
    expect(parseResumeId('1732190000000-5', undefined)).toBe('1732190000000-5');
    expect(parseResumeId(undefined, '123')).toBe('123-0');
    expect(parseResumeId(undefined, '0')).toBe('0-0');
    expect(parseResumeId(' 7-1 ', undefined)).toBe('7-1');
    expect(parseResumeId(undefined, '007-01')).toBe('7-1');
  });

  it('prefers the header over the query', () => {
    expect(parseResumeId('10-0', '20-0')).toBe('10-0');
    expect(parseResumeId('10-0', 'garbage')).toBe('10-0');
  });

  it('falls back to the query when the header is empty', () => {
    expect(parseResumeId('', '20-0')).toBe('20-0');
    expect(parseResumeId(undefined, '20-0')).toBe('20-0');
  });

  it('takes an invalid header as an unknown cursor, not an error (EventSource gives up after a 400)', () => {
    expect(parseResumeId('abc', '20-0')).toBe(UNREADABLE_CURSOR);
    expect(parseResumeId('1-2-3', undefined)).toBe(UNREADABLE_CURSOR);
    expect(parseResumeId('18446744073709551616', undefined)).toBe(UNREADABLE_CURSOR);
  });

  it('names the query parameter when it is used and invalid', () => {
    expect(invalidField(() => parseResumeId(undefined, 'abc'))).toBe('lastEventId');
    expect(invalidField(() => parseResumeId('', '-1'))).toBe('lastEventId');
  });

  it('has a message naming the field', () => {
    try {
      parseResumeId(undefined, 'nope');
      throw new Error('did not throw');
    } catch (error) {
      expect((error as Error).message).toContain('lastEventId');
    }
  });
});

describe('readEventsQuery', () => {
  it('reads the two optional strings and ignores other parameters', () => {
    expect(readEventsQuery({ types: 'job-match', lastEventId: '1-0', access_token: 't', other: ['x'] })).toEqual({ types: 'job-match', lastEventId: '1-0' });
    expect(readEventsQuery({})).toEqual({ types: undefined, lastEventId: undefined });
  });

  it.each([
    ['types', { types: ['a', 'b'] }],
    ['types', { types: { nested: 'a' } }],
    ['lastEventId', { lastEventId: ['1-0', '2-0'] }],
  ])('refuses a repeated or nested %s, naming it', (field, query) => {
    expect(invalidField(() => readEventsQuery(query))).toBe(field);
  });
});
