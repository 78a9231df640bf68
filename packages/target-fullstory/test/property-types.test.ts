import { describe, expect, it } from '@jest/globals';
import { scalarType, schemaShape } from '../src/mapping/types.js';

describe('property types from a Singer schema', () => {
  it.each([
    [{ type: 'integer' }, 'int'],
    [{ type: ['null', 'integer'] }, 'int'],
    [{ type: 'number' }, 'real'],
    [{ type: ['integer', 'number'] }, 'real'],
    [{ type: 'boolean' }, 'bool'],
    [{ type: 'string' }, 'str'],
    [{ type: ['null', 'string'], format: 'date-time' }, 'date'],
    [{ type: 'string', format: 'date' }, 'date'],
    [{ anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] }, 'date'],
    [{ anyOf: [{ type: 'string', format: 'date-time' }, { type: ['string', 'null'] }] }, 'str'],
    [{ type: ['integer', 'string'] }, undefined],
    [{}, undefined],
  ])('%j -> %s', (schema, expected) => {
    expect(scalarType(schema)).toBe(expected);
  });

  it('types arrays by their items', () => {
    expect(schemaShape({ type: 'array', items: { type: 'string' } })).toEqual({ kind: 'array', type: 'strs', ofObjects: false });
    expect(schemaShape({ type: ['null', 'array'], items: { type: 'integer' } })).toEqual({ kind: 'array', type: 'ints', ofObjects: false });
    expect(schemaShape({ type: 'array', items: { type: 'number' } })).toMatchObject({ type: 'reals' });
    expect(schemaShape({ type: 'array', items: { type: 'boolean' } })).toMatchObject({ type: 'bools' });
    expect(schemaShape({ type: 'array', items: { type: 'string', format: 'date-time' } })).toMatchObject({ type: 'dates' });
    expect(schemaShape({ type: 'array', items: { type: 'object' } })).toEqual({ kind: 'array', ofObjects: true });
    expect(schemaShape({ type: 'array' })).toEqual({ kind: 'array', ofObjects: false });
  });

  it('recognises objects with and without properties', () => {
    expect(schemaShape({ type: 'object', properties: { a: { type: 'integer' } } })).toEqual({
      kind: 'object',
      properties: { a: { type: 'integer' } },
    });
    expect(schemaShape({ type: ['object', 'null'] })).toEqual({ kind: 'object' });
    expect(schemaShape(undefined)).toEqual({ kind: 'unknown' });
  });
});
