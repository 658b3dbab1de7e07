import { InvalidInputError, UNREADABLE_CURSOR } from '@app/notifications';
import { cursorFromField, cursorFromHeader } from './resume-cursor';

function refusal(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('cursorFromField (query parameters, Socket.IO auth)', () => {
  it.each([[undefined], [null], ['']])('takes %j as no cursor', (value) => {
    expect(cursorFromField(value, 'after')).toBeNull();
  });

  it.each([
    ['1732190000000-5', '1732190000000-5'],
    ['123', '123-0'],
    ['0', '0-0'],
    [' 7-1 ', '7-1'],
    ['007-01', '7-1'],
  ])('reads %j as %j', (value, cursor) => {
    expect(cursorFromField(value, 'after')).toBe(cursor);
  });

  it.each([['abc'], ['-1'], ['1-2-3'], ['18446744073709551616-0'], [1732190000000], [['1-0', '2-0']], [{}], [true]])(
    'refuses %j, naming the field',
    (value) => {
      const error = refusal(() => cursorFromField(value, 'lastEventId'));
      expect(error.field).toBe('lastEventId');
      expect(error.message).toBe('lastEventId must be a notification id like 1732190000000-0');
    },
  );
});

describe('cursorFromHeader (Last-Event-ID)', () => {
  it('reads an id, canonical, and nothing from nothing', () => {
    expect(cursorFromHeader(' 10-2 ')).toBe('10-2');
    expect(cursorFromHeader(undefined)).toBeNull();
    expect(cursorFromHeader('')).toBeNull();
  });

  it.each([['abc'], ['1-2-3'], ['18446744073709551616']])('takes %j as an unknown cursor, never an error (EventSource gives up after a 400)', (value) => {
    expect(cursorFromHeader(value)).toBe(UNREADABLE_CURSOR);
  });
});
