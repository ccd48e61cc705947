import { describe, expect, it } from 'vitest';
import { KaiSqlState, rpcErrorToKaiError } from '../src/index.js';
import { httpStatusOfSqlState, signTestJwt, verifyTestJwt } from '../src/testing.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

describe('test JWTs', () => {
  it('verifies what it signs and refuses tampered, foreign, unsigned and expired tokens', () => {
    const token = signTestJwt({ role: 'service_role', exp: 2_000 }, SECRET);
    expect(verifyTestJwt(token, SECRET, 1_000)).toEqual({ ok: true, claims: { role: 'service_role', exp: 2_000 } });
    expect(verifyTestJwt(token, SECRET, 2_000)).toEqual({ ok: false, reason: 'JWT expired' });
    expect(verifyTestJwt(token, `${SECRET}x`, 1_000)).toMatchObject({ ok: false, reason: 'JWSError JWSInvalidSignature' });
    const [header, , signature] = token.split('.');
    const forged = `${header}.${Buffer.from('{"role":"postgres"}').toString('base64url')}.${signature}`;
    expect(verifyTestJwt(forged, SECRET, 1_000)).toMatchObject({ ok: false, reason: 'JWSError JWSInvalidSignature' });
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"role":"x"}').toString('base64url')}.`;
    expect(verifyTestJwt(unsigned, SECRET, 1_000)).toMatchObject({ ok: false });
    expect(verifyTestJwt('not-a-jwt', SECRET, 1_000)).toMatchObject({ ok: false });
  });
});

describe('PostgREST status mapping', () => {
  it('follows PostgREST’s table', () => {
    expect(httpStatusOfSqlState('23505', false)).toBe(409);
    expect(httpStatusOfSqlState('23503', false)).toBe(409);
    expect(httpStatusOfSqlState('23514', false)).toBe(400);
    expect(httpStatusOfSqlState('42501', true)).toBe(401);
    expect(httpStatusOfSqlState('42501', false)).toBe(403);
    expect(httpStatusOfSqlState('42883', false)).toBe(404);
    expect(httpStatusOfSqlState('P0001', false)).toBe(400);
    expect(httpStatusOfSqlState('P0002', false)).toBe(500);
    expect(httpStatusOfSqlState('08006', false)).toBe(503);
    expect(httpStatusOfSqlState('40P01', false)).toBe(500);
    expect(httpStatusOfSqlState(KaiSqlState.StaleFence, false)).toBe(400);
  });
});

describe('RPC errors as kai-jobs errors', () => {
  const context = { operation: 'progress', fn: 'kai_progress', jobId: 'j1', url: 'http://127.0.0.1:1' };

  it('maps the SQL functions’ states to the errors the Redis store throws', () => {
    expect(rpcErrorToKaiError({ message: 'x', code: 'KJ404' }, 400, context).name).toBe('JobNotFoundError');
    expect(rpcErrorToKaiError({ message: 'x', code: 'KJ409' }, 400, context).name).toBe('StaleFenceError');
    const transition = rpcErrorToKaiError({ message: 'job j1: progress refused: the job is completed', code: 'KJ412', details: 'progress refused: the job is completed' }, 400, context);
    expect(transition).toMatchObject({ name: 'InvalidTransitionError', message: 'job j1: progress refused: the job is completed' });
    expect(rpcErrorToKaiError({ message: 'bad', code: 'KJ422' }, 400, context).name).toBe('ValidationError');
  });

  it('tells permanent failures from ones worth retrying', () => {
    expect(rpcErrorToKaiError({ message: 'deadlock detected', code: '40P01' }, 500, context)).toMatchObject({ name: 'StoreError', retryable: true });
    expect(rpcErrorToKaiError({ message: 'TypeError: fetch failed', code: '' }, 0, context)).toMatchObject({ name: 'StoreError', retryable: true });
    expect(rpcErrorToKaiError({ message: 'Invalid API key', code: 'PGRST301' }, 401, context)).toMatchObject({ retryable: false });
    expect(rpcErrorToKaiError({ message: 'permission denied', code: '42501' }, 403, context)).toMatchObject({ retryable: false });
    expect(rpcErrorToKaiError({ message: 'Could not find', code: 'PGRST202' }, 404, context)).toMatchObject({ retryable: false });
    expect(rpcErrorToKaiError({ message: 'violates check constraint "progress_range"', code: '23514' }, 400, context)).toMatchObject({
      name: 'ValidationError',
      issues: [{ path: 'progress_range' }],
    });
  });
});
