/**
 * A record's properties: every record field not mapped to a top-level field becomes a FullStory
 * property, unless `include` / `exclude` say otherwise, with FullStory-safe names and the types the
 * stream's SCHEMA declares (https://developer.fullstory.com/server/custom-properties/).
 *
 * What FullStory cannot take is never sent as if it could:
 * - `null` values are left out (FullStory has no null property);
 * - an array of objects is sent as its JSON text, typed `str`;
 * - a value over 8192 bytes, or a property whose dotted path would pass 512 characters, is left out
 *   (the rest of the record is still sent); each is counted and logged once per property path;
 * - a number that is not finite (`1e400` parses as Infinity, which JSON would send as `null`), more
 *   than 500 properties, or two names of one object that rewrite to the same name (`a-b` and `a_b`,
 *   two emoji) reject the record: nothing is overwritten or changed silently.
 *
 * A literal dotted key (`"profile.id": 1` at the top level) is a property like any other (`profile_id`):
 * a mapping of the nested path `profile.id` consumes the nested field only.
 */

import { stringifyJson, type JsonSchema } from '@fullstory-singer/singer-core';
import { reject, type Rejection } from '../rejection.js';
import { MAX_PROPERTIES, MAX_PROPERTY_PATH_LENGTH, MAX_PROPERTY_VALUE_BYTES } from './limits.js';
import type { PropertyNamer } from './names.js';
import { schemaShape, type PropertyType, type SchemaShape } from './types.js';

/** What happened to a property that could not be sent as is. */
export type PropertyIssue = 'stringified_array_of_objects' | 'dropped_oversize_value' | 'dropped_long_name';

/** Counts of properties changed on the way (summed into the summary). */
export interface PropertyCounts {
  stringified: number;
  dropped: number;
}

/** The `properties` (and `schema`) part of a request. */
interface PropertiesPart {
  properties: Record<string, unknown>;
  schema?: { properties: Record<string, PropertyType> };
}

/** Options of {@link compileProperties}. */
interface PropertiesOptions {
  /** The stream's SCHEMA `schema`. */
  schema: JsonSchema;
  namer: PropertyNamer;
  declarePropertyTypes: boolean;
  include?: string[];
  exclude?: string[];
  /** Record fields mapped to top-level fields, as path segments: not properties. */
  consumed: string[][];
  /** Told once per property path when a value is stringified or dropped. */
  onPropertyIssue?: (issue: PropertyIssue, path: string) => void;
}

/** Builds the properties of one record: a part, nothing (no property), or the record's rejection. */
type PropertiesBuilder = (record: Record<string, unknown>, flag?: [string, boolean]) => PropertiesPart | Rejection | undefined;

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

/** State of one record's walk. */
interface Walk {
  count: number;
  problem?: Rejection;
  types: Record<string, PropertyType> | undefined;
}

// Path segments are joined with a character no JSON key path uses to tell `a.b` (nested) from "a.b".
const SEP = '\u0000';

/** Compile the properties builder of one stream SCHEMA. */
export function compileProperties(options: PropertiesOptions): { build: PropertiesBuilder; counts: PropertyCounts } {
  const { namer, declarePropertyTypes } = options;
  const consumed = new Set(options.consumed.map((segments) => segments.join(SEP)));
  const include = options.include ? new Set(options.include) : undefined;
  const includePrefixes = new Set<string>();
  for (const p of include ?? []) {
    const parts = p.split('.');
    for (let i = 1; i < parts.length; i++) includePrefixes.add(parts.slice(0, i).join('.'));
  }
  const exclude = new Set(options.exclude ?? []);
  const tree = buildLevel(options.schema);
  const counts: PropertyCounts = { stringified: 0, dropped: 0 };
  const reported = new Set<string>();
  const issue = (kind: PropertyIssue, path: string): void => {
    if (kind === 'stringified_array_of_objects') counts.stringified++;
    else counts.dropped++;
    const k = `${kind}${SEP}${path}`;
    if (!reported.has(k) && reported.size < 10_000) {
      reported.add(k);
      options.onPropertyIssue?.(kind, path);
    }
  };

  /**
   * Walk `obj`, writing FullStory properties into `props`; returns whether any was written.
   * `rawPrefix` is the dotted source path (messages, include/exclude), `keyPrefix` the same path with
   * unambiguous separators (consumed fields). `inIncluded`: an ancestor is named in `include`.
   */
  const walk = (
    obj: Record<string, unknown>,
    level: Level | undefined,
    outPrefix: string,
    rawPrefix: string,
    keyPrefix: string,
    inIncluded: boolean,
    props: Record<string, unknown>,
    w: Walk,
  ): boolean => {
    let any = false;
    for (const key in obj) {
      const value = obj[key];
      if (value === null || value === undefined) continue;
      const rawPath = rawPrefix === '' ? key : `${rawPrefix}.${key}`;
      const keyPath = keyPrefix === '' ? key : `${keyPrefix}${SEP}${key}`;
      if (consumed.has(keyPath) || exclude.has(rawPath)) continue;
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
      if (Object.hasOwn(props, out)) {
        w.problem = reject(
          'invalid_value',
          'property_name_collision',
          `record fields "${rawPrefix === '' ? '' : `${rawPrefix}.`}${sourceOf(obj, out, namer, key)}" and "${rawPath}" are both sent as property "${outPath}" once rewritten to FullStory's name rules; exclude or rename one (streams.<stream>.properties.exclude)`,
        );
        return any;
      }
      const types = w.types;
      if (typeof value === 'string') {
        if (value.length > 2730 && Buffer.byteLength(value) > MAX_PROPERTY_VALUE_BYTES) {
          issue('dropped_oversize_value', rawPath);
          continue;
        }
        props[out] = value;
        w.count++;
        if (types && node?.shape.kind === 'scalar') types[outPath] = node.shape.type;
      } else if (typeof value === 'number') {
        if (!Number.isFinite(value)) {
          w.problem = nonFinite(rawPath);
          return any;
        }
        props[out] = value;
        w.count++;
        if (types && node?.shape.kind === 'scalar') types[outPath] = node.shape.type;
      } else if (Array.isArray(value)) {
        if (value.some((v) => typeof v === 'number' && !Number.isFinite(v))) {
          w.problem = nonFinite(rawPath);
          return any;
        }
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
        w.count++;
      } else if (typeof value === 'object') {
        const child: Record<string, unknown> = {};
        const wrote = walk(value as Record<string, unknown>, node?.children, outPath, rawPath, keyPath, included, child, w);
        if (w.problem) return any;
        if (!wrote) continue;
        props[out] = child;
      } else {
        props[out] = value;
        w.count++;
        if (types && node?.shape.kind === 'scalar') types[outPath] = node.shape.type;
      }
      any = true;
    }
    return any;
  };

  const build: PropertiesBuilder = (record, flag) => {
    const props: Record<string, unknown> = {};
    const w: Walk = { count: 0, types: declarePropertyTypes ? {} : undefined };
    let any = walk(record, tree, '', '', '', false, props, w);
    if (w.problem) return w.problem;
    if (flag) {
      if (Object.hasOwn(props, flag[0])) {
        return reject(
          'invalid_value',
          'property_name_collision',
          `the record's own property "${flag[0]}" would be overwritten by the audience membership flag; exclude it or set audience_property`,
        );
      }
      props[flag[0]] = flag[1];
      if (w.types) w.types[flag[0]] = 'bool';
      w.count++;
      any = true;
    }
    if (w.count > MAX_PROPERTIES) {
      return reject('invalid_value', 'too_many_properties', `the record has ${w.count} properties; FullStory takes at most ${MAX_PROPERTIES}`);
    }
    if (!any) return undefined;
    const part: PropertiesPart = { properties: props };
    if (w.types) {
      for (const _ in w.types) {
        part.schema = { properties: w.types };
        break;
      }
    }
    return part;
  };
  return { build, counts };
}

function nonFinite(path: string): Rejection {
  return reject('invalid_value', 'non_finite_number', `record field "${path}" is a number JSON cannot carry (beyond ±1.8e308); FullStory would receive null`);
}

/** The key of `obj` (other than `except`) that was rewritten to `out`: names the first of two colliding fields. */
function sourceOf(obj: Record<string, unknown>, out: string, namer: PropertyNamer, except: string): string {
  for (const k in obj) {
    if (k !== except && obj[k] !== null && obj[k] !== undefined && namer.name(k) === out) return k;
  }
  return out;
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
