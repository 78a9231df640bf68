import { describe, expect, it } from '@jest/globals';
import { describeJsonError, parseJson, stringifyJson } from '@fullstory-singer/singer-core';

describe('parseJson / stringifyJson', () => {
  it('keeps 2^53+1 exact and writes it back byte for byte', () => {
    const text = '{"id":9007199254740993}';
    const value = parseJson(text) as { id: unknown };
    expect(value.id).toBe(9007199254740993n);
    expect(stringifyJson(value)).toBe(text);
  });

  it('round-trips negative and very long integers, nested in arrays and objects', () => {
    const text = '{"a":[-9007199254740993,123456789012345678901234567890],"b":{"c":18446744073709551615},"d":"x"}';
    const value = parseJson(text);
    expect(stringifyJson(value)).toBe(text);
  });

  it('keeps safe integers (even 16-digit ones) as plain numbers', () => {
    const value = parseJson('{"max":9007199254740991,"id":5189870820212736,"n":1}') as Record<string, unknown>;
    expect(value).toEqual({ max: 9007199254740991, id: 5189870820212736, n: 1 });
    expect(typeof value.id).toBe('number');
  });

  it('treats a 16+ digit run inside a string as text', () => {
    const value = parseJson('{"s":"12345678901234567890","n":9007199254740993}') as Record<string, unknown>;
    expect(value.s).toBe('12345678901234567890');
    expect(value.n).toBe(9007199254740993n);
  });

  it('leaves non-integers as doubles on the lossless path', () => {
    const value = parseJson('{"big":12345678901234567890,"f":1.5,"e":1e3}') as Record<string, unknown>;
    expect(value.f).toBe(1.5);
    expect(value.e).toBe(1000);
  });

  it('throws a SyntaxError for invalid JSON on both paths', () => {
    expect(() => parseJson('{"a": tru}')).toThrow(SyntaxError);
    expect(() => parseJson('{"a": 12345678901234567890')).toThrow(SyntaxError);
  });

  it('serialises like JSON.stringify when there is no bigint', () => {
    const value = { a: 1, b: 'x', c: [true, null], d: undefined, e: new Date(0) };
    expect(stringifyJson(value)).toBe(JSON.stringify(value));
  });

  it('describes a JSON error without quoting the input', () => {
    let caught: unknown;
    try {
      JSON.parse('{"api_key":"supersecret-value",}');
    } catch (err) {
      caught = err;
    }
    const reason = describeJsonError(caught);
    expect(reason).not.toContain('supersecret');
    expect(reason.length).toBeGreaterThan(0);
  });
});
