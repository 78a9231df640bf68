/**
 * Record validation against the stream's SCHEMA (the Singer spec: a target may validate records against
 * their schema): ajv with ajv-formats, so `format: date-time` and friends are checked, not just types.
 * One validator is compiled per SCHEMA message and reused for every record of the stream. ajv takes
 * `Infinity` (a JSON `1e400`) for a number; the mapper rejects it (properties.ts).
 */

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { JsonSchema } from '@fullstory-singer/singer-core';
import { reject, type Rejection } from '../rejection.js';
import { isCanonicalInstant } from './timestamps.js';

// ajv-formats is CommonJS; under NodeNext its default import is the module object on some paths.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

/** Checks one record; `undefined` means valid. */
export type RecordValidator = (record: Record<string, unknown>) => Rejection | undefined;

/**
 * Compile the validator of one SCHEMA. A fresh ajv per schema: Singer schemas often share an `$id`
 * across streams or SCHEMA updates, which one shared ajv would refuse, and a replaced schema is then
 * freed with its ajv. `$schema` is ignored (draft-04 schemas from older taps validate the same way for
 * the keywords records use).
 * @throws Error with ajv's message when the schema itself is invalid (the caller reports the line).
 */
export function compileValidator(schema: JsonSchema): RecordValidator {
  const ajv = new Ajv({ strict: false, allErrors: false, logger: false, validateSchema: false });
  addFormats(ajv);
  fastCanonicalDateTime(ajv);
  const { $schema: _ignored, $id: _id, ...rest } = schema;
  const validate: ValidateFunction = ajv.compile(rest);
  return (record) => {
    if (validate(record)) return undefined;
    // Integers beyond 2^53 arrive as bigint (lossless parsing), which ajv does not count as a number.
    // Only on failure, and only if the record holds one, check again with those read as numbers.
    if (hasBigInt(record) && validate(withoutBigInts(record))) return undefined;
    const err = validate.errors?.[0];
    return reject('schema_validation', err?.keyword ?? 'invalid', describe(err));
  };
}

/**
 * ajv-formats checks a `date-time` by splitting it and matching a date and a time pattern: a good part
 * of the target's CPU per record when a stream has timestamps. Most come in the canonical form
 * (`toISOString`), which is checked with one pattern first; anything else gets the full check.
 */
function fastCanonicalDateTime(ajv: Ajv): void {
  const full = ajv.formats['date-time'] as { validate?: unknown; compare?: (a: string, b: string) => number | undefined } | undefined;
  // Only in front of ajv-formats' own check (always there in the version this is built with).
  if (typeof full?.validate !== 'function') return;
  const fullCheck = full.validate as (value: string) => boolean;
  const validate = (value: string): boolean => isCanonicalInstant(value) || fullCheck(value);
  // `compare` (formatMinimum and friends) stays ajv-formats' own.
  ajv.addFormat('date-time', full.compare ? { type: 'string', validate, compare: full.compare } : { type: 'string', validate });
}

function describe(err: ErrorObject | undefined): string {
  if (!err) return 'record does not match its schema';
  return `${err.instancePath || '/'}: ${err.message ?? 'is invalid'}`;
}

function hasBigInt(value: unknown): boolean {
  if (typeof value === 'bigint') return true;
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasBigInt);
  for (const k in value as Record<string, unknown>) if (hasBigInt((value as Record<string, unknown>)[k])) return true;
  return false;
}

function withoutBigInts(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(withoutBigInts);
  const out: Record<string, unknown> = {};
  for (const k in value as Record<string, unknown>) out[k] = withoutBigInts((value as Record<string, unknown>)[k]);
  return out;
}
