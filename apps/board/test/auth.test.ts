import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { AuthOutcome, clientKey, CredentialChecker, expandIpv6, FailureLimiter, isLoopbackAddress, isLoopbackHost } from '../src/index.js';

// Wrap timingSafeEqual in a spy (same behaviour) to see what the checker compares.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

function manualClock(start = 1_000_000): { now(): number; sleep(): Promise<void>; advance(ms: number): void } {
  let now = start;
  return { now: () => now, sleep: () => Promise.resolve(), advance: (ms) => void (now += ms) };
}

describe('CredentialChecker', () => {
  const checker = new CredentialChecker({ username: 'operator', password: 'pässwörd: with colon', token: 'tok-123' });

  it('accepts the basic-auth pair and the bearer token, any scheme case', () => {
    expect(checker.check(basic('operator', 'pässwörd: with colon')).outcome).toBe(AuthOutcome.Ok);
    expect(checker.check('Bearer tok-123')).toEqual({ outcome: AuthOutcome.Ok, scheme: 'bearer' });
    expect(checker.check('bearer tok-123').outcome).toBe(AuthOutcome.Ok);
    expect(checker.check(basic('operator', 'pässwörd: with colon').replace('Basic', 'BASIC')).outcome).toBe(AuthOutcome.Ok);
  });

  it('tells a missing header from wrong or malformed credentials', () => {
    expect(checker.check(undefined).outcome).toBe(AuthOutcome.Missing);
    expect(checker.check('  ').outcome).toBe(AuthOutcome.Missing);
    expect(checker.check(basic('operator', 'wrong')).outcome).toBe(AuthOutcome.Invalid);
    expect(checker.check(basic('intruder', 'pässwörd: with colon')).outcome).toBe(AuthOutcome.Invalid);
    expect(checker.check('Bearer tok-1234').outcome).toBe(AuthOutcome.Invalid);
    expect(checker.check('Basic !!!notbase64').outcome).toBe(AuthOutcome.Invalid);
    expect(checker.check(`Basic ${Buffer.from('no-colon').toString('base64')}`).outcome).toBe(AuthOutcome.Invalid);
    expect(checker.check('Digest abc').outcome).toBe(AuthOutcome.Invalid);
    expect(checker.check('garbage').outcome).toBe(AuthOutcome.Invalid);
  });

  it('offers only the configured schemes', () => {
    expect(checker.schemes()).toEqual(['Basic', 'Bearer']);
    const tokenOnly = new CredentialChecker({ token: 't' });
    expect(tokenOnly.schemes()).toEqual(['Bearer']);
    expect(tokenOnly.check(basic('a', 'b')).outcome).toBe(AuthOutcome.Invalid);
  });

  it('compares in constant time: timingSafeEqual over 32-byte SHA-256 digests, user and password both', () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    // A wrong user name of another length: both fields are still compared, over equal-length digests.
    expect(checker.check(basic('x', 'a much longer wrong password than the real one')).outcome).toBe(AuthOutcome.Invalid);
    expect(spy).toHaveBeenCalledTimes(2);
    for (const [a, b] of spy.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
    spy.mockClear();
    expect(checker.check('Bearer t').outcome).toBe(AuthOutcome.Invalid);
    expect(spy).toHaveBeenCalledTimes(1);
  });
});

describe('FailureLimiter', () => {
  it('lets a client fail `capacity` times, then asks it to wait for one refill', () => {
    const clock = manualClock();
    const limiter = new FailureLimiter({ capacity: 3, refillMs: 6000, maxClients: 100, clock });
    for (let i = 0; i < 3; i += 1) {
      expect(limiter.retryAfterMs('1.2.3.4')).toBe(0);
      limiter.recordFailure('1.2.3.4');
    }
    expect(limiter.retryAfterMs('1.2.3.4')).toBe(6000);
    expect(limiter.retryAfterMs('5.6.7.8')).toBe(0);
    clock.advance(4000);
    expect(limiter.retryAfterMs('1.2.3.4')).toBe(2000);
    clock.advance(2000);
    expect(limiter.retryAfterMs('1.2.3.4')).toBe(0);
    // One token back: one more failure, then wait again.
    limiter.recordFailure('1.2.3.4');
    expect(limiter.retryAfterMs('1.2.3.4')).toBe(6000);
  });

  it('forgets clients whose bucket refilled, and the least recently seen beyond maxClients', () => {
    const clock = manualClock();
    const limiter = new FailureLimiter({ capacity: 2, refillMs: 1000, maxClients: 2, clock });
    limiter.recordFailure('a');
    limiter.recordFailure('b');
    limiter.recordFailure('a');
    limiter.recordFailure('c');
    expect(limiter.size).toBe(2);
    // b was least recently seen and forgotten; a keeps its count.
    limiter.recordFailure('a');
    expect(limiter.retryAfterMs('a')).toBeGreaterThan(0);
    clock.advance(10_000);
    expect(limiter.retryAfterMs('a')).toBe(0);
    expect(limiter.size).toBe(1);
  });
});

describe('client keys and loopback', () => {
  it('keys IPv4 by address and IPv6 by /64', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe(clientKey('2001:db8:1:2::99'));
    expect(clientKey('2001:db8:1:3::1')).not.toBe(clientKey('2001:db8:1:2::1'));
    expect(clientKey(undefined)).toBe('unknown');
    expect(expandIpv6('::1')).toEqual(['0', '0', '0', '0', '0', '0', '0', '1']);
    expect(expandIpv6('fe80::1%eth0')).toEqual(['fe80', '0', '0', '0', '0', '0', '0', '1']);
    expect(expandIpv6('::192.0.2.1')).toEqual(['0', '0', '0', '0', '0', '0', 'c000', '201']);
    expect(expandIpv6('1::2::3')).toBeNull();
  });

  it('knows loopback hosts and addresses', () => {
    for (const host of ['127.0.0.1', '127.9.8.7', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', 'localhost.example.com', '::2']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('localhost')).toBe(false);
  });
});
