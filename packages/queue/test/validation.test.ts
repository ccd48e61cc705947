import { describe, expect, it } from 'vitest';
import { formatIssuePath, isKaiJobsError, validatePayload, ValidationError } from '../src/index.js';

function issuesOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('validatePayload', () => {
  it('names every bad field with what was expected and what was received', () => {
    const error = issuesOf(() => validatePayload('pdf', { documentId: 7, source: { kind: 'disk' } }));
    expect(error.code).toBe('VALIDATION');
    expect(error.retryable).toBe(false);
    const byPath = Object.fromEntries(error.issues.map((issue) => [issue.path, issue]));
    expect(Object.keys(byPath).sort()).toEqual(['documentId', 'source.kind']);
    expect(byPath['documentId']).toMatchObject({ expected: 'string', received: 'number 7' });
    expect(error.message).toMatch(/^pdf payload: 2 invalid fields/);
  });

  it('reports a missing field as received nothing', () => {
    const error = issuesOf(() => validatePayload('scrape', { sourceUrl: 'https://a.example/' }));
    expect(error.issues).toEqual([
      expect.objectContaining({ path: 'sessionId', expected: 'string', received: 'nothing' }),
    ]);
  });

  it('rejects an unknown job type', () => {
    const error = issuesOf(() => validatePayload('video' as never, {}));
    expect(error.issues[0]).toMatchObject({ path: 'type', received: '"video"' });
  });

  it('rejects a payload over the size limit before parsing it', () => {
    const error = issuesOf(() =>
      validatePayload('pdf', { documentId: 'x'.repeat(3000), source: { kind: 'file', path: '/a' } }, 2048),
    );
    expect(error.issues[0]?.message).toMatch(/over the limit of 2048/);
  });

  it('formats paths with indexes', () => {
    expect(formatIssuePath([3, 'payload', 'includePatterns', 0])).toBe('[3].payload.includePatterns[0]');
    expect(formatIssuePath([])).toBe('');
  });
});

describe('errors', () => {
  it('are recognised by brand across copies, not by instanceof', () => {
    const error = new ValidationError('x', [{ path: 'a', message: 'bad' }]);
    expect(isKaiJobsError(error)).toBe(true);
    // A copy from another installed version has the same Symbol.for brand.
    const foreign = Object.assign(new Error('other copy'), { [Symbol.for('kai-jobs.error')]: true, code: 'X' });
    expect(isKaiJobsError(foreign)).toBe(true);
    expect(isKaiJobsError(new Error('plain'))).toBe(false);
    expect(error.name).toBe('ValidationError');
  });
});
