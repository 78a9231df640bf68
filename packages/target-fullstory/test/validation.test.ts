import { describe, expect, it } from '@jest/globals';
import { compileValidator } from '../src/mapping/validation.js';

describe('compileValidator', () => {
  const validate = compileValidator({
    $schema: 'http://json-schema.org/draft-04/schema#',
    type: 'object',
    required: ['id'],
    properties: {
      id: { type: 'integer' },
      at: { type: ['null', 'string'], format: 'date-time' },
      day: { type: 'string', format: 'date' },
      price: { type: 'number' },
    },
  });

  it('accepts a valid record', () => {
    expect(validate({ id: 1, at: '2024-01-01T00:00:00Z', day: '2024-01-01', price: 1.5 })).toBeUndefined();
    expect(validate({ id: 1, at: null })).toBeUndefined();
  });

  it('names the keyword and the path of the first failure', () => {
    expect(validate({ at: null })).toEqual({
      ok: false,
      reason: 'schema_validation',
      code: 'required',
      message: "/: must have required property 'id'",
    });
    expect(validate({ id: 'x' })).toMatchObject({ code: 'type', message: '/id: must be integer' });
  });

  it('checks date-time and date formats', () => {
    expect(validate({ id: 1, at: '2024-01-01 00:00' })).toMatchObject({ code: 'format', message: /\/at: must match format "date-time"/ });
    expect(validate({ id: 1, at: '2024-01-01T00:00:00' })).toMatchObject({ code: 'format' });
    expect(validate({ id: 1, day: '2024-13-01' })).toMatchObject({ code: 'format' });
  });

  it('judges canonical date-times (the shortcut) as the full RFC 3339 check does', () => {
    for (const at of ['2024-02-29T00:00:00.000Z', '2024-12-31T23:59:59.999Z', '2024-06-30T23:59:60.000Z', '2024-01-01t00:00:00.000Z']) {
      expect(validate({ id: 1, at })).toBeUndefined();
    }
    for (const at of ['2023-02-29T00:00:00.000Z', '2024-04-31T00:00:00.000Z', '2024-13-01T00:00:00.000Z', '2024-01-01T24:00:00.000Z', '2024-01-01T12:59:60.000Z', '2024-01-01T00:00:00.000']) {
      expect(validate({ id: 1, at })).toMatchObject({ code: 'format' });
    }
  });

  it('accepts integers beyond 2^53 (read as bigint) where the schema wants a number', () => {
    expect(validate({ id: 123456789012345678901234567890n, price: 98765432109876543210n })).toBeUndefined();
    expect(validate({ id: 123456789012345678901234567890n, price: 'x' })).toMatchObject({ code: 'type' });
  });

  it('ignores unknown formats and keywords, and tolerates a shared $id', () => {
    const a = compileValidator({ $id: 'same', type: 'object', properties: { d: { type: 'string', format: 'singer.decimal' } }, custom: 1 });
    const b = compileValidator({ $id: 'same', type: 'object', properties: {} });
    expect(a({ d: '1.5' })).toBeUndefined();
    expect(b({})).toBeUndefined();
  });

  it('throws for a schema that cannot compile', () => {
    expect(() => compileValidator({ type: 'object', properties: { a: { $ref: '#/nowhere' } } })).toThrow();
  });
});
