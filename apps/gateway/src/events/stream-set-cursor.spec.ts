import { UNREADABLE_CURSOR } from '@app/notifications';
import { encodePosition, MAX_CURSOR_LENGTH, parseStreamSetCursor, StreamSetCursor, topicKey, UNREADABLE_RESUME } from './stream-set-cursor';

describe('the cursor of a connection that carries topics', () => {
  const topics = ['jobs.new', 'scores.match-42'];

  it('encodes every stream of the connection and reads back each position by stream', () => {
    const cursor = new StreamSetCursor(topics);
    cursor.set(0, '1732190000000-0');
    cursor.set(1, '1732190000123-7');
    cursor.set(2, '0-0');
    const encoded = String(cursor);
    expect(encoded).toBe(`r1.u_${encodePosition('1732190000000-0')}.${topicKey('jobs.new')}_${encodePosition('1732190000123-7')}.${topicKey('scores.match-42')}_0`);
    const resume = parseStreamSetCursor(encoded);
    expect(resume).toEqual({ user: '1732190000000-0', topics: new Map([[topicKey('jobs.new'), '1732190000123-7'], [topicKey('scores.match-42'), '0-0']]), unreadable: false });
    expect(StreamSetCursor.topicResume(resume, 'jobs.new')).toBe('1732190000123-7');
    expect(StreamSetCursor.topicResume(resume, 'not.in.it')).toBeNull();
  });

  it('re-encodes only when a position changes', () => {
    const cursor = new StreamSetCursor(topics);
    for (let i = 0; i < 3; i++) cursor.set(i, '5-0');
    const first = String(cursor);
    expect(String(cursor)).toBe(first);
    cursor.set(1, '6-1');
    expect(String(cursor)).not.toBe(first);
    expect(parseStreamSetCursor(String(cursor))?.topics.get(topicKey('jobs.new'))).toBe('6-1');
  });

  it('stays well under a kilobyte for 20 topics of the longest names and ids', () => {
    const many = Array.from({ length: 20 }, (_, i) => `${'t'.repeat(120)}.${i}`);
    const cursor = new StreamSetCursor(many);
    for (let i = 0; i <= 20; i++) cursor.set(i, '18446744073709551615-18446744073709551615');
    expect(String(cursor).length).toBeLessThan(MAX_CURSOR_LENGTH);
    for (let i = 0; i <= 20; i++) cursor.set(i, '1732190000000-3');
    expect(String(cursor).length).toBeLessThan(450);
    expect(parseStreamSetCursor(String(cursor))?.topics.size).toBe(20);
  });

  it('takes a plain notification id as the user stream\'s cursor, the topics then starting live', () => {
    expect(parseStreamSetCursor(' 1732190000000-4 ')).toEqual({ user: '1732190000000-4', topics: new Map(), unreadable: false });
    expect(StreamSetCursor.topicResume(parseStreamSetCursor('1-0'), 'jobs.new')).toBeNull();
  });

  it.each([
    ['not a cursor', 'abc'],
    ['an empty set', 'r1.'],
    ['a bad segment', 'r1.u_1.xyz_2'],
    ['a stream twice', 'r1.u_1.u_2'],
    ['a topic twice', `r1.u_1.${topicKey('a')}_1.${topicKey('a')}_2`],
    ['a position past 64 bits', 'r1.u_zzzzzzzzzzzzz'],
    ['upper case', 'r1.u_1A'],
    ['another version', 'r2.u_1'],
    ['an oversized cursor', `r1.u_1${'.00000000_1'.repeat(100)}`],
  ])('reads nothing from %s', (_, raw) => {
    expect(parseStreamSetCursor(raw)).toBeNull();
  });

  it('resumes no stream from a forged set without the user\'s position, nor from an unreadable one', () => {
    expect(parseStreamSetCursor(`r1.${topicKey('jobs.new')}_1`)?.user).toBe(UNREADABLE_CURSOR);
    expect(StreamSetCursor.topicResume(UNREADABLE_RESUME, 'jobs.new')).toBe(UNREADABLE_CURSOR);
  });
});
