/**
 * Mapping: one Singer record → one FullStory v2 request (target.md, "Mapping").
 *
 * A mapper is compiled once per stream SCHEMA: the sources of the top-level fields, the property tree
 * (rewritten names and declared types of every field the schema knows) and the include/exclude filter
 * are worked out up front, so the per-record work is one walk over the record's own keys.
 *
 * - `users`: `{uid, display_name?, email?, properties?, schema?}` (upserted by uid by the batch endpoint).
 * - `events`: `{user: {uid}, name, timestamp?, session?, properties?, schema?}`. With a session id the
 *   event is identified by `session: {id}` alone (FullStory refuses `user` beside `session.id`), and the
 *   uid is then not required; `use_most_recent_session` true sends `session: {use_most_recent: true}`.
 * - `audience`: a users request that also sets the membership property to `true`; mode `add` sends only
 *   uid and that flag, mode `upsert` everything a `users` stream would send plus the flag.
 *
 * Properties: every record field not mapped to a top-level field, unless `include`/`exclude` say
 * otherwise. `null` values are left out (FullStory has no null property). Names are rewritten to
 * FullStory's rules (property-names.ts). An array of objects (which FullStory does not take) is sent as
 * its JSON text, typed `str`; a value over 8192 bytes, or a property whose dotted path would exceed 512
 * characters, is left out of the request (the record is still sent). Both are counted and logged once
 * per property path.
 */

import { ConfigError, stringifyJson } from '@fullstory-singer/singer-core';
import type { JsonSchema } from '@fullstory-singer/singer-core';
import { MAX_PROPERTY_PATH_LENGTH, type PropertyNamer } from './property-names.js';
import { schemaShape, type PropertyType, type SchemaShape } from './property-types.js';
import { reject, type Rejection } from './rejection.js';
import { normalizeTimestamp } from './timestamps.js';

/** The three data types a stream can be loaded as. */
export type DataType = 'users' | 'events' | 'audience';

/** FullStory fields a `mapping` can name. */
export type MappingField =
  | 'uid'
  | 'display_name'
  | 'email'
  | 'event_name'
  | 'timestamp'
  | 'session_id'
  | 'use_most_recent_session';

/** A record field (dotted path) or a constant. */
export type SourceConfig = string | { value: unknown };

/** Fields each data type accepts in `mapping`, with their default record field (undefined: none). */
export const MAPPING_FIELDS: Record<DataType, Partial<Record<MappingField, string | undefined>>> = {
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

/** Longest value, in UTF-8 bytes, FullStory keeps for a property (fullstory-api.md §5). */
export const MAX_PROPERTY_VALUE_BYTES = 8192;

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

/** What happened to a property that could not be sent as is. */
export type PropertyIssue = 'stringified_array_of_objects' | 'dropped_oversize_value' | 'dropped_long_name';

/** A mapped request, ready for a batch body. */
export type FullStoryRequest = Record<string, unknown>;

/** The outcome of mapping one record. */
export type MapResult = { ok: true; request: FullStoryRequest } | Rejection;

/** Per-mapper counts of properties changed on the way (summed into the summary). */
export interface PropertyCounts {
  stringified: number;
  dropped: number;
}

/** A compiled mapper for one stream SCHEMA. */
export interface RecordMapper {
  readonly dataType: DataType;
  readonly counts: PropertyCounts;
  map(record: Record<string, unknown>): MapResult;
}

type Source = { path: string[]; label: string } | { value: unknown };

interface FieldNode {
  /** Rewritten name, worked out on first use (so fields never sent are never reported as rewritten). */
  out?: string;
  shape: SchemaShape;
  children?: Level;
}

/** The fields one object schema declares: by name (`properties`) and by pattern (`patternProperties`). */
interface Level {
  nodes: Map<string, FieldNode>;
  patterns: Array<{ re: RegExp; schema: JsonSchema }>;
  /** Keys already matched against `patterns` (null: none matched); bounded, keys come from data. */
  matched: Map<string, FieldNode | null>;
}

/**
 * Compile the mapper of one stream. Throws `ConfigError` (exit 2) for a mapping key that does not apply
 * to the data type, naming `streams.<stream>.mapping.<key>`.
 */
export function compileMapper(options: MapperOptions): RecordMapper {
  const { stream, dataType, namer, declarePropertyTypes } = options;
  const allowed = MAPPING_FIELDS[dataType];
  for (const key of Object.keys(options.mapping ?? {})) {
    if (!(key in allowed)) {
      throw new ConfigError(
        `streams.${stream}.mapping.${key}: not a field of data_type "${dataType}" (expected one of ${Object.keys(allowed).join(', ')})`,
      );
    }
  }
  const sources = new Map<MappingField, Source>();
  const consumed = new Set<string>();
  for (const [field, def] of Object.entries(allowed) as [MappingField, string | undefined][]) {
    const configured = options.mapping?.[field];
    const source = configured ?? def;
    if (source === undefined) continue;
    if (typeof source === 'string') {
      sources.set(field, { path: source.split('.'), label: source });
      consumed.add(source);
    } else {
      sources.set(field, { value: source.value });
    }
  }

  const include = options.properties?.include ? new Set(options.properties.include) : undefined;
  const includePrefixes = new Set<string>();
  for (const p of include ?? []) {
    const parts = p.split('.');
    for (let i = 1; i < parts.length; i++) includePrefixes.add(parts.slice(0, i).join('.'));
  }
  const exclude = new Set(options.properties?.exclude ?? []);
  const tree = buildLevel(options.schema);
  const counts: PropertyCounts = { stringified: 0, dropped: 0 };
  const reported = new Set<string>();
  const issue = (kind: PropertyIssue, path: string): void => {
    if (kind === 'stringified_array_of_objects') counts.stringified++;
    else counts.dropped++;
    const k = `${kind}\u0000${path}`;
    if (!reported.has(k) && reported.size < 10_000) {
      reported.add(k);
      options.onPropertyIssue?.(kind, path);
    }
  };

  /**
   * Walk `obj`, writing FullStory properties into `props` and declared types into `types`.
   * `inIncluded`: an ancestor is named in `include`, so the whole subtree goes.
   */
  const walk = (
    obj: Record<string, unknown>,
    level: Level | undefined,
    outPrefix: string,
    rawPrefix: string,
    inIncluded: boolean,
    props: Record<string, unknown>,
    types: Record<string, PropertyType> | undefined,
  ): boolean => {
    let any = false;
    for (const key in obj) {
      const value = obj[key];
      if (value === null || value === undefined) continue;
      const rawPath = rawPrefix === '' ? key : `${rawPrefix}.${key}`;
      if (consumed.has(rawPath) || exclude.has(rawPath)) continue;
      let included = inIncluded;
      if (include && !inIncluded) {
        if (include.has(rawPath)) included = true;
        // Only an ancestor of an included path: descend into it if it is an object, else skip it.
        else if (!includePrefixes.has(rawPath) || typeof value !== 'object' || Array.isArray(value)) continue;
      }
      const node = level ? lookup(level, key) : undefined;
      const out = node ? (node.out ??= namer.name(key)) : namer.name(key);
      const outPath = outPrefix === '' ? out : `${outPrefix}.${out}`;
      if (outPath.length > MAX_PROPERTY_PATH_LENGTH) {
        issue('dropped_long_name', rawPath);
        continue;
      }
      if (typeof value === 'string') {
        if (value.length > 2730 && Buffer.byteLength(value) > MAX_PROPERTY_VALUE_BYTES) {
          issue('dropped_oversize_value', rawPath);
          continue;
        }
        props[out] = value;
        if (types && node?.shape.kind === 'scalar') types[outPath] = node.shape.type;
      } else if (Array.isArray(value)) {
        if (value.some((v) => v !== null && typeof v === 'object')) {
          const text = stringifyJson(value);
          if (Buffer.byteLength(text) > MAX_PROPERTY_VALUE_BYTES) {
            issue('dropped_oversize_value', rawPath);
            continue;
          }
          issue('stringified_array_of_objects', rawPath);
          props[out] = text;
          if (types) types[outPath] = 'str';
        } else {
          if (value.length > 0 && Buffer.byteLength(stringifyJson(value)) > MAX_PROPERTY_VALUE_BYTES) {
            issue('dropped_oversize_value', rawPath);
            continue;
          }
          props[out] = value;
          if (types && node?.shape.kind === 'array' && node.shape.type) types[outPath] = node.shape.type;
        }
      } else if (typeof value === 'object') {
        const child: Record<string, unknown> = {};
        if (!walk(value as Record<string, unknown>, node?.children, outPath, rawPath, included, child, types)) continue;
        props[out] = child;
      } else {
        props[out] = value;
        if (types && node?.shape.kind === 'scalar') types[outPath] = node.shape.type;
      }
      any = true;
    }
    return any;
  };

  const properties = (record: Record<string, unknown>, extra?: [string, boolean]): FullStoryRequest | undefined => {
    const props: Record<string, unknown> = {};
    const types: Record<string, PropertyType> | undefined = declarePropertyTypes ? {} : undefined;
    let any = walk(record, tree, '', '', false, props, types);
    if (extra) {
      props[extra[0]] = extra[1];
      if (types) types[extra[0]] = 'bool';
      any = true;
    }
    if (!any) return undefined;
    const out: FullStoryRequest = { properties: props };
    if (types) {
      for (const _ in types) {
        out['schema'] = { properties: types };
        break;
      }
    }
    return out;
  };

  const get = (record: Record<string, unknown>, field: MappingField): unknown => {
    const s = sources.get(field);
    if (s === undefined) return undefined;
    if ('value' in s) return s.value;
    let v: unknown = record;
    for (const part of s.path) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[part];
    }
    return v;
  };
  const label = (field: MappingField): string => {
    const s = sources.get(field);
    return s && 'label' in s ? `record field "${s.label}"` : 'constant';
  };

  /** A required identifier (uid, event name): numbers become decimal strings; empty is missing. */
  const identifier = (record: Record<string, unknown>, field: MappingField, name: string): string | Rejection => {
    const v = get(record, field);
    if (typeof v === 'string') {
      if (v.trim() === '') return reject('missing_required_field', 'required_field', `${name} is empty (${label(field)})`);
      return v;
    }
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (v === undefined || v === null) {
      return reject('missing_required_field', 'required_field', `${name} is missing (${label(field)})`);
    }
    return reject('invalid_value', `invalid_${field}`, `${name} must be a string or a number (${label(field)})`);
  };
  /** An optional text field: numbers become strings, null/absent is left out. */
  const optionalText = (record: Record<string, unknown>, field: MappingField): string | undefined | Rejection => {
    const v = get(record, field);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    return reject('invalid_value', `invalid_${field}`, `${field} must be a string (${label(field)})`);
  };

  const audience = options.audience;
  let map: (record: Record<string, unknown>) => MapResult;
  if (dataType === 'events') {
    map = (record) => {
      const request: FullStoryRequest = {};
      const sessionId = optionalText(record, 'session_id');
      if (typeof sessionId === 'object') return sessionId;
      if (sessionId !== undefined && sessionId !== '') {
        request['session'] = { id: sessionId };
      } else {
        const uid = identifier(record, 'uid', 'uid');
        if (typeof uid === 'object') return uid;
        request['user'] = { uid };
        const recent = get(record, 'use_most_recent_session');
        if (recent === true || recent === 'true') request['session'] = { use_most_recent: true };
      }
      const name = identifier(record, 'event_name', 'event name');
      if (typeof name === 'object') return name;
      request['name'] = name;
      const ts = get(record, 'timestamp');
      if (ts !== undefined && ts !== null) {
        const iso = normalizeTimestamp(ts);
        if (iso === undefined) {
          return reject(
            'invalid_value',
            'invalid_timestamp',
            `timestamp ${truncate(stringifyJson(ts))} is not RFC 3339 with an offset, a date, or epoch seconds/milliseconds (${label('timestamp')})`,
          );
        }
        request['timestamp'] = iso;
      }
      const p = properties(record);
      if (p) Object.assign(request, p);
      return { ok: true, request };
    };
  } else {
    const addOnly = dataType === 'audience' && audience?.mode === 'add';
    const flag: [string, boolean] | undefined = audience && dataType === 'audience' ? [audience.property, true] : undefined;
    map = (record) => {
      const uid = identifier(record, 'uid', 'uid');
      if (typeof uid === 'object') return uid;
      const request: FullStoryRequest = { uid };
      if (addOnly) {
        request['properties'] = { [flag![0]]: true };
        if (declarePropertyTypes) request['schema'] = { properties: { [flag![0]]: 'bool' } };
        return { ok: true, request };
      }
      const displayName = optionalText(record, 'display_name');
      if (typeof displayName === 'object') return displayName;
      if (displayName !== undefined) request['display_name'] = displayName;
      const email = optionalText(record, 'email');
      if (typeof email === 'object') return email;
      if (email !== undefined) request['email'] = email;
      const p = properties(record, flag);
      if (p) Object.assign(request, p);
      return { ok: true, request };
    };
  }
  return { dataType, counts, map };
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Precompute the shapes of every field an object schema declares, recursively; undefined if none. */
function buildLevel(schema: JsonSchema | undefined): Level | undefined {
  const properties = schema?.['properties'];
  const patternProperties = schema?.['patternProperties'];
  const hasProps = properties !== null && typeof properties === 'object';
  const hasPatterns = patternProperties !== null && typeof patternProperties === 'object';
  if (!hasProps && !hasPatterns) return undefined;
  const level: Level = { nodes: new Map(), patterns: [], matched: new Map() };
  for (const [key, sub] of Object.entries(hasProps ? (properties as Record<string, JsonSchema>) : {})) {
    level.nodes.set(key, fieldNode(sub));
  }
  for (const [pattern, sub] of Object.entries(hasPatterns ? (patternProperties as Record<string, JsonSchema>) : {})) {
    try {
      level.patterns.push({ re: new RegExp(pattern, 'u'), schema: sub });
    } catch {
      // A pattern JavaScript cannot compile types nothing; the field is still sent, untyped.
    }
  }
  return level;
}

function fieldNode(sub: JsonSchema): FieldNode {
  const shape = schemaShape(sub);
  const node: FieldNode = { shape };
  if (shape.kind === 'object') {
    const children = buildLevel(sub);
    if (children) node.children = children;
  }
  return node;
}

/** The node of `key`: a declared property, else the first matching pattern (cached). */
function lookup(level: Level, key: string): FieldNode | undefined {
  const node = level.nodes.get(key);
  if (node !== undefined || level.patterns.length === 0) return node;
  const hit = level.matched.get(key);
  if (hit !== undefined) return hit ?? undefined;
  let found: FieldNode | null = null;
  for (const p of level.patterns) {
    if (p.re.test(key)) {
      found = fieldNode(p.schema);
      break;
    }
  }
  if (level.matched.size < 10_000) level.matched.set(key, found);
  return found ?? undefined;
}

/**
 * The identity of a request, used to match FullStory's error items (which echo the request) back to
 * the records of a batch: the uid for users; uid or session id, name and timestamp for events.
 * `normalize: false` skips re-normalising the timestamp (requests this target built are already canonical;
 * echoed ones may not be).
 */
export function requestKey(kind: 'users' | 'events', request: Record<string, unknown> | undefined, normalize = true): string {
  if (!request) return '';
  if (kind === 'users') return String(request['uid'] ?? '');
  const user = request['user'] as Record<string, unknown> | undefined;
  const session = request['session'] as Record<string, unknown> | undefined;
  return `${String(user?.['uid'] ?? '')}\u0000${String(session?.['id'] ?? '')}\u0000${String(request['name'] ?? '')}\u0000${normalize ? normalizedTs(request['timestamp']) : String(request['timestamp'] ?? '')}`;
}

function normalizedTs(ts: unknown): string {
  if (ts === undefined || ts === null) return '';
  return normalizeTimestamp(ts) ?? String(ts);
}
