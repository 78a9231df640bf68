import { describe, expect, it } from '@jest/globals';
import {
  backoffDelay,
  isRetryableNetworkError,
  isRetryableStatus,
  KeyWalk,
  parseRetryAfter,
  retryDelay,
} from '../src/retry-policy.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delay-seconds as milliseconds', () => {
    expect(parseRetryAfter('7', NOW)).toBe(7000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
  });

  it('reads an HTTP-date relative to now', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter(new Date(NOW + 90_000).toUTCString(), NOW)).toBe(90_000);
  });

  it('gives 0 for a date in the past or a negative number', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:59:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('-5', NOW)).toBe(0);
  });

  it('gives undefined when absent or unreadable', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter('12abc', NOW)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('stays within [0, min(cap, base * 2^n)] for the whole jitter range', () => {
    const baseMs = 100;
    const capMs = 5000;
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
      expect(backoffDelay(attempt, { baseMs, capMs, random: () => 0 })).toBe(0);
      const top = backoffDelay(attempt, { baseMs, capMs, random: () => 0.999999 });
      expect(top).toBeLessThanOrEqual(ceiling);
      expect(top).toBeGreaterThanOrEqual(ceiling - 1);
      for (let i = 0; i < 50; i += 1) {
        const delay = backoffDelay(attempt, { baseMs, capMs });
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('doubles per attempt until the cap, then stays there', () => {
    const half = (attempt: number): number => backoffDelay(attempt, { baseMs: 1000, capMs: 60_000, random: () => 0.5 });
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(half)).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(half(1000)).toBe(30_000); // 2^1000 overflows to Infinity; the cap still holds
  });

  it('defaults to base 1 s and cap 60 s', () => {
    expect(backoffDelay(0, { random: () => 0.5 })).toBe(500);
    expect(backoffDelay(20, { random: () => 0.5 })).toBe(30_000);
  });
});

describe('retryDelay', () => {
  it('prefers Retry-After over backoff', () => {
    expect(retryDelay({ attempt: 5, status: 503, retryAfter: '7', now: NOW, random: () => 0.9 })).toBe(7000);
    expect(retryDelay({ attempt: 0, status: 429, retryAfter: 'Sun, 01 Mar 2026 12:00:10 GMT', now: NOW })).toBe(10_000);
  });

  it('falls back to backoff when Retry-After is missing or unreadable', () => {
    expect(retryDelay({ attempt: 2, status: 500, now: NOW, baseMs: 100, random: () => 0.5 })).toBe(200);
    expect(retryDelay({ attempt: 2, status: 500, retryAfter: 'later', now: NOW, baseMs: 100, random: () => 0.5 })).toBe(200);
  });

  it('never retries a 429 without Retry-After at once', () => {
    expect(retryDelay({ attempt: 0, status: 429, now: NOW, baseMs: 100, random: () => 0 })).toBe(100);
    expect(retryDelay({ attempt: 0, status: 500, now: NOW, baseMs: 100, random: () => 0 })).toBe(0);
  });
});

describe('isRetryableStatus', () => {
  it('retries 408, 429 and every 5xx', () => {
    for (const status of [408, 429, 500, 502, 503, 504, 507, 599]) expect(isRetryableStatus(status)).toBe(true);
  });

  it('does not retry success, redirects or other 4xx', () => {
    for (const status of [200, 202, 301, 400, 401, 403, 404, 409, 422]) expect(isRetryableStatus(status)).toBe(false);
  });
});

describe('KeyWalk', () => {
  const walk = (failures: Array<number | undefined>): number[] => {
    const w = new KeyWalk();
    return failures.map((f) => {
      w.failed(f);
      return w.index;
    });
  };

  it('moves to the next key after each 500 (saved under its key), and keeps it through 429s', () => {
    expect(walk([500, 429, 500, 500])).toEqual([1, 1, 2, 3]);
  });

  it('keeps the key after a lost answer, a 408 or a 502/503/504, and through any 500 after one of those', () => {
    expect(walk([undefined, 500, 500])).toEqual([0, 0, 0]);
    expect(walk([500, 503, 500])).toEqual([1, 1, 1]);
    for (const status of [408, 501, 502, 503, 504, 599]) expect(walk([status, 500])).toEqual([0, 0]);
  });
});

describe('isRetryableNetworkError', () => {
  const withCode = (code: string): Error => Object.assign(new Error(`boom ${code}`), { code });

  it('retries transient socket and DNS failures', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE']) {
      expect(isRetryableNetworkError(withCode(code))).toBe(true);
    }
  });

  it("retries got's TimeoutError and ReadError, and a premature close", () => {
    expect(isRetryableNetworkError(Object.assign(new Error('Timeout awaiting request'), { name: 'TimeoutError' }))).toBe(true);
    expect(isRetryableNetworkError(Object.assign(new Error('aborted'), { name: 'ReadError' }))).toBe(true);
    expect(isRetryableNetworkError(new Error('Premature close'))).toBe(true);
  });

  it('does not retry a host that does not resolve, or anything else', () => {
    expect(isRetryableNetworkError(withCode('ENOTFOUND'))).toBe(false);
    expect(isRetryableNetworkError(withCode('CERT_HAS_EXPIRED'))).toBe(false);
    expect(isRetryableNetworkError(new TypeError('bad'))).toBe(false);
    expect(isRetryableNetworkError(undefined)).toBe(false);
    expect(isRetryableNetworkError('ECONNRESET')).toBe(false);
  });
});
