/**
 * Validation of Server API v2 requests, as https://developer.fullstory.com/server/users/create-user/ and
 * https://developer.fullstory.com/server/events/create-event/ document it: uid ≤ 256, display_name
 * ≤ 256, email ≤ 128, property names `[A-Za-z][A-Za-z0-9_]*` with the dotted path ≤ 512, values
 * ≤ 8192 bytes, no arrays of objects, ≤ 500 properties, event `name` required and ≤ 250, and the
 * identification rules for events. Error codes other than `required_field` are the sandbox's own
 * (FullStory does not publish them); each comes with a message naming the field.
 */
import { stringifyJson } from '../json.js';

export interface Problem { code: string; message: string }

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const SCHEMA_TYPES = new Set(['str', 'strs', 'int', 'ints', 'real', 'reals', 'bool', 'bools', 'date', 'dates']);
const MAX_PROPERTIES = 500;
const MAX_VALUE_BYTES = 8192;
const MAX_PATH = 512;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const problem = (code: string, message: string): Problem => ({ code, message });

/** Characters as the docs' limits count them: code points ("<= 256 characters"), not UTF-16 units. */
function characters(text: string): number {
  if (text.length <= 128) return text.length; // fast path: no limit is below 128 units
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function checkString(obj: Record<string, unknown>, field: string, max: number, label = field): Problem | undefined {
  const v = obj[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return problem('invalid_argument', `${label} must be a string`);
  if (characters(v) > max) return problem('field_too_long', `${label} is longer than ${max} characters`);
  return undefined;
}

/** Checks a `properties` object (recursively, counting dotted paths). */
function checkProperties(value: unknown, label = 'properties'): Problem | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) return problem('invalid_argument', `${label} must be an object`);
  const state = { count: 0 };
  return walk(value, '', state);
}

function walk(obj: Record<string, unknown>, prefix: string, state: { count: number }): Problem | undefined {
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (!NAME.test(key)) {
      return problem('invalid_property_name', `property "${path}": names start with a letter and hold only letters, digits and _`);
    }
    if (path.length > MAX_PATH) return problem('invalid_property_name', `property "${path.slice(0, 40)}...": path longer than ${MAX_PATH} characters`);
    if (isObject(value)) {
      const p = walk(value, path, state);
      if (p) return p;
      continue;
    }
    if (Array.isArray(value) && value.some((item) => typeof item === 'object' && item !== null)) {
      return problem('invalid_property_value', `property "${path}": arrays of objects or arrays are not supported`);
    }
    const bytes = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : Buffer.byteLength(stringifyJson(value), 'utf8');
    if (bytes > MAX_VALUE_BYTES) return problem('property_value_too_large', `property "${path}": value larger than ${MAX_VALUE_BYTES} bytes`);
    state.count++;
    if (state.count > MAX_PROPERTIES) return problem('too_many_properties', `more than ${MAX_PROPERTIES} properties`);
  }
  return undefined;
}

/** Checks `schema: {properties: {name: type}}`. */
function checkSchema(value: unknown): Problem | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) return problem('invalid_argument', 'schema must be an object');
  const props = value.properties;
  if (props === undefined) return undefined;
  if (!isObject(props)) return problem('invalid_argument', 'schema.properties must be an object');
  for (const [name, type] of Object.entries(props)) {
    if (typeof type !== 'string' || !SCHEMA_TYPES.has(type)) {
      return problem('invalid_argument', `schema.properties.${name}: type must be one of ${[...SCHEMA_TYPES].join(', ')}`);
    }
  }
  return undefined;
}

/** A user create/update request (single or batch item; `allowId` for batch items). */
export function validateUser(req: unknown, allowId: boolean): Problem | undefined {
  if (!isObject(req)) return problem('invalid_argument', 'a user request must be a JSON object');
  if (req.uid !== undefined && req.uid === '') return problem('invalid_argument', 'uid must not be empty');
  if (allowId && req.id !== undefined && (typeof req.id !== 'string' || req.id === '')) return problem('invalid_argument', 'id must be a non-empty string');
  return checkString(req, 'uid', 256) ?? checkString(req, 'display_name', 256) ?? checkString(req, 'email', 128)
    ?? checkProperties(req.properties) ?? checkSchema(req.schema);
}

/** An event create request (single or batch item); `sharedContext` when the batch's `shared` sets one. */
export function validateEvent(req: unknown, sharedContext: boolean): Problem | undefined {
  if (!isObject(req)) return problem('invalid_argument', 'an event request must be a JSON object');
  if (req.name === undefined || req.name === '') return problem('required_field', 'name is required');
  if (typeof req.name !== 'string') return problem('invalid_argument', 'name must be a string');
  if (characters(req.name) > 250) return problem('field_too_long', 'name is longer than 250 characters');
  if (req.timestamp !== undefined && (typeof req.timestamp !== 'string' || Number.isNaN(Date.parse(req.timestamp)))) {
    return problem('invalid_argument', 'timestamp must be an ISO 8601 / RFC 3339 string');
  }
  if (req.context !== undefined) {
    if (!isObject(req.context)) return problem('invalid_argument', 'context must be an object');
    if (sharedContext) return problem('invalid_argument', 'context is set both in shared and in the request');
  }
  const user = req.user;
  const session = req.session;
  if (user !== undefined && !isObject(user)) return problem('invalid_argument', 'user must be an object');
  if (session !== undefined && !isObject(session)) return problem('invalid_argument', 'session must be an object');
  const u = (user ?? {}) as Record<string, unknown>;
  const s = (session ?? {}) as Record<string, unknown>;
  for (const [obj, field, label] of [[u, 'id', 'user.id'], [u, 'uid', 'user.uid'], [s, 'id', 'session.id'], [s, 'uid', 'session.uid']] as const) {
    const v = obj[field];
    if (v !== undefined && (typeof v !== 'string' || v === '')) return problem('invalid_argument', `${label} must be a non-empty string`);
  }
  const tooLong = checkString(u, 'uid', 256, 'user.uid') ?? checkString(s, 'uid', 256, 'session.uid');
  if (tooLong) return tooLong;
  if (s.id !== undefined && !/^\d+:\d+$/.test(s.id as string)) return problem('invalid_argument', 'session.id must look like "<UserId>:<SessionId>"');
  if (s.use_most_recent !== undefined && typeof s.use_most_recent !== 'boolean') return problem('invalid_argument', 'session.use_most_recent must be a boolean');
  if (s.id !== undefined && user !== undefined) return problem('invalid_identification', 'user is not accepted when session.id is set');
  const forms = [u.id, u.uid, s.id, s.uid].filter((v) => v !== undefined).length;
  if (forms > 1) return problem('invalid_identification', 'more than one form of identification (user.id, user.uid, session.id, session.uid)');
  if (forms === 0) return problem('required_field', 'user (id or uid) or session (id or uid) is required');
  if (s.use_most_recent === true && u.id === undefined && u.uid === undefined) {
    return problem('invalid_identification', 'session.use_most_recent needs exactly one user field');
  }
  return checkProperties(req.properties) ?? checkSchema(req.schema);
}
