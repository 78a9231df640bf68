/**
 * FullStory property types derived from a Singer (JSON) schema
 * (https://developer.fullstory.com/server/custom-properties/):
 * integer → `int`, number → `real`, boolean → `bool`, string with `format: date-time` or `date` → `date`,
 * string → `str`, and arrays of those → `ints`, `reals`, `bools`, `dates`, `strs`. Declaring the type
 * stops FullStory from guessing it from the first value it sees (every JSON number would be a `real`).
 *
 * A schema that allows more than one of these (say `["integer", "string"]`) gets no declaration, and
 * FullStory infers the type. `null` alongside one type is ignored (Singer schemas are mostly nullable).
 * `anyOf`/`oneOf` branches are merged the same way; a date-time branch beside a plain string branch gives
 * `str`, because a plain string declared as a date would be refused.
 */

import type { JsonSchema } from '@fullstory-singer/singer-core';

/** A FullStory v2 schema type identifier. */
export type PropertyType = 'str' | 'strs' | 'int' | 'ints' | 'real' | 'reals' | 'bool' | 'bools' | 'date' | 'dates';

/** What a schema node says about one value. */
export type SchemaShape =
  | { kind: 'scalar'; type: PropertyType }
  | { kind: 'array'; type?: PropertyType; ofObjects: boolean }
  | { kind: 'object'; properties?: Record<string, JsonSchema> }
  | { kind: 'unknown' };

const PLURAL: Record<string, PropertyType> = { str: 'strs', int: 'ints', real: 'reals', bool: 'bools', date: 'dates' };

/** The JSON types a schema allows, with `anyOf`/`oneOf` branches merged; `undefined` when unconstrained. */
function typesOf(schema: JsonSchema): string[] | undefined {
  const t = schema['type'];
  if (typeof t === 'string') return [t];
  if (Array.isArray(t)) return t.filter((x): x is string => typeof x === 'string');
  const branches = (schema['anyOf'] ?? schema['oneOf']) as unknown;
  if (Array.isArray(branches)) {
    const out: string[] = [];
    for (const b of branches) {
      if (!b || typeof b !== 'object') return undefined;
      const bt = typesOf(b as JsonSchema);
      if (!bt) return undefined;
      for (const x of bt) out.push(x === 'string' && isDateFormat(b as JsonSchema) ? 'string:date' : x);
    }
    return out;
  }
  return undefined;
}

function isDateFormat(schema: JsonSchema): boolean {
  const f = schema['format'];
  return f === 'date-time' || f === 'date';
}

/** The scalar type of a schema node, if it allows exactly one scalar type (ignoring null). */
export function scalarType(schema: JsonSchema): PropertyType | undefined {
  const types = typesOf(schema);
  if (!types) return undefined;
  const set = new Set(types.filter((t) => t !== 'null'));
  // A date branch plus a plain-string branch: a plain string may come, so declare `str`.
  if (set.has('string:date') && set.has('string')) set.delete('string:date');
  if (set.size === 2 && set.has('integer') && set.has('number')) set.delete('integer');
  if (set.size !== 1) return undefined;
  const only = [...set][0]!;
  switch (only) {
    case 'integer':
      return 'int';
    case 'number':
      return 'real';
    case 'boolean':
      return 'bool';
    case 'string:date':
      return 'date';
    case 'string':
      return isDateFormat(schema) ? 'date' : 'str';
    default:
      return undefined;
  }
}

/** Classify a schema node: a typed scalar, an array (typed when its items are a scalar), an object, or unknown. */
export function schemaShape(schema: JsonSchema | undefined): SchemaShape {
  if (!schema || typeof schema !== 'object') return { kind: 'unknown' };
  const types = typesOf(schema);
  const nonNull = types?.filter((t) => t !== 'null') ?? [];
  if (nonNull.length === 1 && nonNull[0] === 'object') {
    const props = schema['properties'];
    return props && typeof props === 'object'
      ? { kind: 'object', properties: props as Record<string, JsonSchema> }
      : { kind: 'object' };
  }
  if (nonNull.length === 1 && nonNull[0] === 'array') {
    const items = schema['items'];
    if (!items || typeof items !== 'object' || Array.isArray(items)) return { kind: 'array', ofObjects: false };
    const itemSchema = items as JsonSchema;
    const itemTypes = typesOf(itemSchema)?.filter((t) => t !== 'null') ?? [];
    if (itemTypes.length === 1 && (itemTypes[0] === 'object' || itemTypes[0] === 'array')) {
      return { kind: 'array', ofObjects: true };
    }
    const inner = scalarType(itemSchema);
    return inner ? { kind: 'array', type: PLURAL[inner]!, ofObjects: false } : { kind: 'array', ofObjects: false };
  }
  const scalar = scalarType(schema);
  return scalar ? { kind: 'scalar', type: scalar } : { kind: 'unknown' };
}
