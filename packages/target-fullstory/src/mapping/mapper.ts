/**
 * Mapping: one Singer record → one FullStory v2 request, or the reason it cannot be one.
 *
 * A mapper is compiled once per stream SCHEMA: the sources of the top-level fields, the property tree
 * (properties.ts) and the include/exclude filter are worked out up front, so the per-record work is
 * one walk over the record's own keys.
 *
 * - `users`: `{uid, display_name?, email?, properties?, schema?}`, upserted by uid by the batch endpoint
 *   (https://developer.fullstory.com/server/users/create-batch-user-import-job).
 * - `events`: `{user: {uid}, name, timestamp?, session?, properties?, schema?}`. With a session id the
 *   event is identified by `session: {id}` alone (FullStory refuses `user` beside `session.id`,
 *   https://developer.fullstory.com/server/events/create-event/), and the uid is then not required;
 *   `use_most_recent_session` true sends `session: {use_most_recent: true}`.
 * - `audience`: a users request that also sets the membership property to `true`; mode `add` sends only
 *   uid and that flag, mode `upsert` everything a `users` stream would send plus the flag.
 *
 * The limits FullStory documents (limits.ts) are checked here, so a value past one is a dead-letter
 * line, not a refused batch.
 */

import { ConfigError, stringifyJson, type JsonSchema } from '@fullstory-singer/singer-core';
import { reject, type Rejection } from '../rejection.js';
import { MAX_DISPLAY_NAME_LENGTH, MAX_EMAIL_LENGTH, MAX_EVENT_NAME_LENGTH, MAX_UID_LENGTH, longerThan } from './limits.js';
import type { PropertyNamer } from './names.js';
import { compileProperties, type PropertyCounts, type PropertyIssue } from './properties.js';
import { normalizeTimestamp } from './timestamps.js';

/** The three data types a stream can be loaded as. */
export type DataType = 'users' | 'events' | 'audience';

/** FullStory fields a `mapping` can name. */
export type MappingField = 'uid' | 'display_name' | 'email' | 'event_name' | 'timestamp' | 'session_id' | 'use_most_recent_session';

/** A record field (dotted path) or a constant. */
export type SourceConfig = string | { value: unknown };

/** Fields each data type accepts in `mapping`, with their default record field (undefined: none). */
const MAPPING_FIELDS: Record<DataType, Partial<Record<MappingField, string | undefined>>> = {
  users: { uid: 'uid', display_name: 'display_name', email: 'email' },
  audience: { uid: 'uid', display_name: 'display_name', email: 'email' },
  events: {
    uid: 'uid',
    event_name: 'event_name',
    timestamp: 'timestamp',
    session_id: undefined,
    use_most_recent_session: undefined,
  },
};

/** Everything a mapper needs to know about its stream. */
export interface MapperOptions {
  stream: string;
  dataType: DataType;
  mapping?: Partial<Record<MappingField, SourceConfig>>;
  properties?: { include?: string[]; exclude?: string[] };
  /** Audience streams: membership property (already FullStory-safe) and mode. */
  audience?: { property: string; mode: 'add' | 'upsert' };
  declarePropertyTypes: boolean;
  /** The stream's SCHEMA `schema` (an object schema with `properties`). */
  schema: JsonSchema;
  namer: PropertyNamer;
  /** Told once per property path when a value is stringified or dropped. */
  onPropertyIssue?: (issue: PropertyIssue, path: string) => void;
}

/** A mapped request, ready for a batch body. */
type FullStoryRequest = Record<string, unknown>;

/** The outcome of mapping one record. `uid` is the request's user for the load order (users requests). */
export type MapResult = { ok: true; request: FullStoryRequest; uid?: string } | Rejection;

/** A compiled mapper for one stream SCHEMA. */
export interface RecordMapper {
  readonly dataType: DataType;
  readonly counts: PropertyCounts;
  map(record: Record<string, unknown>): MapResult;
}

/** How one FullStory field is read from a record: worked out once per SCHEMA, not per record. */
interface FieldReader {
  field: MappingField;
  read: (record: Record<string, unknown>) => unknown;
  /** Names the source in rejection messages. */
  label: string;
}

function fieldReader(field: MappingField, source: SourceConfig): FieldReader {
  if (typeof source !== 'string') {
    const { value } = source;
    return { field, read: () => value, label: 'constant' };
  }
  const label = `record field "${source}"`;
  const path = source.split('.');
  if (path.length === 1) return { field, read: (record) => record[source], label };
  const read = (record: Record<string, unknown>): unknown => {
    let v: unknown = record;
    for (const part of path) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[part];
    }
    return v;
  };
  return { field, read, label };
}

/** `properties`, then `schema` when there is one: the order the request is written in. */
function addProperties(request: FullStoryRequest, part: { properties: Record<string, unknown>; schema?: unknown }): void {
  request['properties'] = part.properties;
  if (part.schema !== undefined) request['schema'] = part.schema;
}

/**
 * Compile the mapper of one stream. Throws `ConfigError` (exit 2) for a mapping key that does not apply
 * to the data type, naming `streams.<stream>.mapping.<key>`.
 */
export function compileMapper(options: MapperOptions): RecordMapper {
  const { stream, dataType, declarePropertyTypes } = options;
  const allowed = MAPPING_FIELDS[dataType];
  for (const key of Object.keys(options.mapping ?? {})) {
    if (!(key in allowed)) {
      throw new ConfigError(
        `streams.${stream}.mapping.${key}: not a field of data_type "${dataType}" (expected one of ${Object.keys(allowed).join(', ')})`,
      );
    }
  }
  const readers = new Map<MappingField, FieldReader>();
  const consumed: string[][] = [];
  for (const [field, def] of Object.entries(allowed) as [MappingField, string | undefined][]) {
    const source = options.mapping?.[field] ?? def;
    if (source === undefined) continue;
    if (typeof source === 'string') consumed.push(source.split('.'));
    readers.set(field, fieldReader(field, source));
  }
  // A field without a source reads as absent.
  const field = (name: MappingField): FieldReader => readers.get(name) ?? { field: name, read: () => undefined, label: 'constant' };
  const { build: properties, counts } = compileProperties({
    schema: options.schema,
    namer: options.namer,
    declarePropertyTypes,
    consumed,
    ...(options.properties?.include ? { include: options.properties.include } : {}),
    ...(options.properties?.exclude ? { exclude: options.properties.exclude } : {}),
    ...(options.onPropertyIssue ? { onPropertyIssue: options.onPropertyIssue } : {}),
  });

  /** A required identifier (uid, event name): numbers become decimal strings; empty is missing. */
  const identifier = (record: Record<string, unknown>, f: FieldReader, name: string, max: number): string | Rejection => {
    const v = f.read(record);
    let text: string;
    if (typeof v === 'string') {
      if (v.trim() === '') return reject('missing_required_field', 'required_field', `${name} is empty (${f.label})`);
      text = v;
    } else if (typeof v === 'bigint' || (typeof v === 'number' && Number.isFinite(v))) {
      text = String(v);
    } else if (v === undefined || v === null) {
      return reject('missing_required_field', 'required_field', `${name} is missing (${f.label})`);
    } else {
      return reject('invalid_value', `invalid_${f.field}`, `${name} must be a string or a finite number (${f.label})`);
    }
    if (longerThan(text, max)) return reject('invalid_value', `${f.field}_too_long`, `${name} is longer than ${max} characters (${f.label})`);
    return text;
  };
  /** An optional text field: numbers become strings, null/absent is left out. */
  const optionalText = (record: Record<string, unknown>, f: FieldReader, max: number): string | undefined | Rejection => {
    const v = f.read(record);
    if (v === undefined || v === null) return undefined;
    let text: string;
    if (typeof v === 'string') text = v;
    else if (typeof v === 'bigint' || (typeof v === 'number' && Number.isFinite(v))) text = String(v);
    else return reject('invalid_value', `invalid_${f.field}`, `${f.field} must be a string (${f.label})`);
    if (longerThan(text, max)) return reject('invalid_value', `${f.field}_too_long`, `${f.field} is longer than ${max} characters (${f.label})`);
    return text;
  };

  const audience = options.audience;
  let map: (record: Record<string, unknown>) => MapResult;
  if (dataType === 'events') {
    const sessionField = field('session_id');
    const uidField = field('uid');
    const recentField = field('use_most_recent_session');
    const nameField = field('event_name');
    const timestampField = field('timestamp');
    map = (record) => {
      const request: FullStoryRequest = {};
      const sessionId = optionalText(record, sessionField, MAX_UID_LENGTH);
      if (typeof sessionId === 'object') return sessionId;
      if (sessionId !== undefined && sessionId !== '') {
        request['session'] = { id: sessionId };
      } else {
        const uid = identifier(record, uidField, 'uid', MAX_UID_LENGTH);
        if (typeof uid === 'object') return uid;
        request['user'] = { uid };
        const recent = recentField.read(record);
        if (recent === true || recent === 'true') request['session'] = { use_most_recent: true };
      }
      const name = identifier(record, nameField, 'event name', MAX_EVENT_NAME_LENGTH);
      if (typeof name === 'object') return name;
      request['name'] = name;
      const ts = timestampField.read(record);
      if (ts !== undefined && ts !== null) {
        const iso = normalizeTimestamp(ts);
        if (iso === undefined) {
          return reject(
            'invalid_value',
            'invalid_timestamp',
            `timestamp ${truncate(stringifyJson(ts))} is not RFC 3339 with an offset, a date, or epoch seconds/milliseconds (${timestampField.label})`,
          );
        }
        request['timestamp'] = iso;
      }
      const p = properties(record);
      if (p && 'ok' in p) return p;
      if (p) addProperties(request, p);
      return { ok: true, request };
    };
  } else {
    const uidField = field('uid');
    const displayNameField = field('display_name');
    const emailField = field('email');
    const addOnly = dataType === 'audience' && audience?.mode === 'add';
    const flag: [string, boolean] | undefined = audience && dataType === 'audience' ? [audience.property, true] : undefined;
    map = (record) => {
      const uid = identifier(record, uidField, 'uid', MAX_UID_LENGTH);
      if (typeof uid === 'object') return uid;
      const request: FullStoryRequest = { uid };
      if (addOnly) {
        request['properties'] = { [flag![0]]: true };
        if (declarePropertyTypes) request['schema'] = { properties: { [flag![0]]: 'bool' } };
        return { ok: true, request, uid };
      }
      const displayName = optionalText(record, displayNameField, MAX_DISPLAY_NAME_LENGTH);
      if (typeof displayName === 'object') return displayName;
      if (displayName !== undefined) request['display_name'] = displayName;
      const email = optionalText(record, emailField, MAX_EMAIL_LENGTH);
      if (typeof email === 'object') return email;
      if (email !== undefined) request['email'] = email;
      const p = properties(record, flag);
      if (p && 'ok' in p) return p;
      if (p) addProperties(request, p);
      return { ok: true, request, uid };
    };
  }
  return { dataType, counts, map };
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
