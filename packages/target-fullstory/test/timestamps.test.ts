import { describe, expect, it } from '@jest/globals';
import { EPOCH_MILLIS_THRESHOLD, normalizeTimestamp } from '../src/mapping/timestamps.js';

describe('normalizeTimestamp', () => {
  it('keeps RFC 3339 UTC instants, with milliseconds', () => {
    expect(normalizeTimestamp('2024-03-15T14:23:23Z')).toBe('2024-03-15T14:23:23.000Z');
    expect(normalizeTimestamp('2024-03-15T14:23:23.5Z')).toBe('2024-03-15T14:23:23.500Z');
    expect(normalizeTimestamp('2024-03-15t14:23:23.123456z')).toBe('2024-03-15T14:23:23.123Z');
    expect(normalizeTimestamp('2024-03-15 14:23:23Z')).toBe('2024-03-15T14:23:23.000Z');
  });

  it('converts offsets to UTC', () => {
    expect(normalizeTimestamp('2024-03-15T14:23:23+02:00')).toBe('2024-03-15T12:23:23.000Z');
    expect(normalizeTimestamp('2024-03-15T23:30:00-05:30')).toBe('2024-03-16T05:00:00.000Z');
    expect(normalizeTimestamp('2024-01-01T00:00:00+00:00')).toBe('2024-01-01T00:00:00.000Z');
  });

  it('reads dates as midnight UTC', () => {
    expect(normalizeTimestamp('2024-02-29')).toBe('2024-02-29T00:00:00.000Z');
  });

  it('reads epoch seconds and milliseconds, numbers and digit strings', () => {
    expect(normalizeTimestamp(1_700_000_000)).toBe('2023-11-14T22:13:20.000Z');
    expect(normalizeTimestamp('1700000000')).toBe('2023-11-14T22:13:20.000Z');
    expect(normalizeTimestamp(1_700_000_000_123)).toBe('2023-11-14T22:13:20.123Z');
    expect(normalizeTimestamp('1700000000123')).toBe('2023-11-14T22:13:20.123Z');
    expect(normalizeTimestamp(1_700_000_000.5)).toBe('2023-11-14T22:13:20.500Z');
    expect(normalizeTimestamp(0)).toBe('1970-01-01T00:00:00.000Z');
  });

  it('splits seconds from milliseconds at 100,000,000,000', () => {
    expect(normalizeTimestamp(EPOCH_MILLIS_THRESHOLD - 1)).toBe(new Date((EPOCH_MILLIS_THRESHOLD - 1) * 1000).toISOString());
    expect(normalizeTimestamp(EPOCH_MILLIS_THRESHOLD)).toBe('1973-03-03T09:46:40.000Z');
  });

  it.each([
    ['no offset', '2024-03-15T14:23:23'],
    ['impossible date', '2024-02-30T00:00:00Z'],
    ['impossible date only', '2023-02-29'],
    ['hour 24', '2024-03-15T24:00:00Z'],
    ['bad offset', '2024-03-15T10:00:00+25:00'],
    ['words', 'yesterday'],
    ['negative', -5],
    ['negative string', '-5'],
    ['boolean', true],
    ['null', null],
    ['object', { at: 1 }],
    ['NaN', Number.NaN],
    ['out of range', 9e15],
    ['empty', ''],
  ])('rejects %s', (_name, value) => {
    expect(normalizeTimestamp(value)).toBeUndefined();
  });
});

describe('normalizeTimestamp, already in the output form', () => {
  it('passes a valid UTC millisecond timestamp through and refuses an impossible one', () => {
    expect(normalizeTimestamp('2024-02-29T23:59:59.999Z')).toBe('2024-02-29T23:59:59.999Z');
    expect(normalizeTimestamp('2023-02-29T00:00:00.000Z')).toBeUndefined();
    expect(normalizeTimestamp('2024-13-01T00:00:00.000Z')).toBeUndefined();
    expect(normalizeTimestamp('2024-01-01T24:00:00.000Z')).toBeUndefined();
  });
});
