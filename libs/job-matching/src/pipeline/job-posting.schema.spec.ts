import fc from 'fast-check';
import { InvalidInputError } from '@app/notifications';
import { parseJobPosting, POSTING_ID_PATTERN } from './job-posting.schema';

/** BullMQ's own refusal of a custom job id (bullmq classes/job.js): integers and ':'. */
const bullmqRefuses = (id: string) => `${parseInt(id, 10)}` === id || id.includes(':');

describe('POSTING_ID_PATTERN', () => {
  it.each([['42'], ['-7'], ['-05'], ['0'], ['NaN'], ['a:b'], [''], ['x'.repeat(101)], ['has space']])('refuses %j', (id) => {
    expect(POSTING_ID_PATTERN.test(id)).toBe(false);
  });

  it.each([['acme-1042'], ['1.5'], ['nan'], ['NaN1'], ['1e3'], ['x'.repeat(100)]])('accepts %j', (id) => {
    expect(POSTING_ID_PATTERN.test(id)).toBe(true);
  });

  it('accepts no id that BullMQ would then refuse as a job id', () => {
    const id = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{1,100}$/), fc.integer().map(String), fc.constantFrom('NaN', '-0', '+1', 'Infinity'));
    fc.assert(fc.property(id, (candidate) => !(POSTING_ID_PATTERN.test(candidate) && bullmqRefuses(candidate))), { numRuns: 2_000 });
  });
});

describe('parseJobPosting', () => {
  it('names the id field for an id BullMQ would refuse', () => {
    for (const id of ['NaN', '-12']) {
      try {
        parseJobPosting({ id, title: 't', company: 'c' });
        throw new Error('did not throw');
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).field).toBe('id');
      }
    }
  });
});
