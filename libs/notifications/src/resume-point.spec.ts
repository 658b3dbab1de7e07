import { resumePoint, UNREADABLE_CURSOR } from './resume-point';

describe('resumePoint', () => {
  const stream = { lastId: '200-0', maxTrimmedId: '100-0', cursorExists: false };

  it('starts a client without a cursor at the newest position', () => {
    expect(resumePoint(null, stream)).toEqual({ position: '200-0', reset: null });
  });

  it('resumes from an entry the stream holds', () => {
    expect(resumePoint('150-3', { ...stream, cursorExists: true })).toEqual({ position: '150-3', reset: null });
    expect(resumePoint('200-0', { ...stream, cursorExists: true })).toEqual({ position: '200-0', reset: null });
  });

  it('resumes from the trim watermark, which was the user own entry', () => {
    expect(resumePoint('100-0', stream)).toEqual({ position: '100-0', reset: null });
  });

  it('resumes from the beginning of a stream never trimmed', () => {
    const fresh = { lastId: '200-0', maxTrimmedId: '0-0', cursorExists: false };
    expect(resumePoint('0-0', fresh)).toEqual({ position: '0-0', reset: null });
    expect(resumePoint('0-0', { lastId: '0-0', maxTrimmedId: '0-0', cursorExists: false })).toEqual({ position: '0-0', reset: null });
  });

  it('resumes a cursor older than the watermark after the watermark, saying history was truncated (never echoing the cursor)', () => {
    expect(resumePoint('0-0', stream)).toEqual({ position: '100-0', reset: 'history-truncated' });
    expect(resumePoint('99-7', stream)).toEqual({ position: '100-0', reset: 'history-truncated' });
  });

  it('treats a cursor ahead of the stream as unknown and continues from the newest position', () => {
    expect(resumePoint('9999999999999-0', stream)).toEqual({ position: '200-0', reset: 'unknown-cursor' });
    expect(resumePoint('18446744073709551615-18446744073709551615', stream)).toEqual({ position: '200-0', reset: 'unknown-cursor' });
    expect(resumePoint('200-1', stream)).toEqual({ position: '200-0', reset: 'unknown-cursor' });
  });

  it('treats an id inside the retained range that is not an entry (another user, another deployment) as unknown', () => {
    expect(resumePoint('150-0', stream)).toEqual({ position: '200-0', reset: 'unknown-cursor' });
  });

  it('treats any cursor of a user with no history, other than 0-0, as unknown', () => {
    const empty = { lastId: '0-0', maxTrimmedId: '0-0', cursorExists: false };
    expect(resumePoint('5-0', empty)).toEqual({ position: '0-0', reset: 'unknown-cursor' });
  });

  it('treats an unreadable cursor as unknown', () => {
    expect(resumePoint(UNREADABLE_CURSOR, stream)).toEqual({ position: '200-0', reset: 'unknown-cursor' });
  });
});
