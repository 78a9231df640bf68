/**
 * The body of `POST /segments/v1/exports`, checked the way FullStory documents it
 * (https://developer.fullstory.com/server/v1/segments/create-segment-export): `segmentId`, `type`,
 * `format` and `timeRange` are required; `segmentTimeRange`, `timezone`, `fields` and
 * `eventDetails` are optional. Names are camelCase; the snake_case spelling that protobuf JSON also
 * accepts (`segment_id`, `time_range`, ...) is read too. Anything else is a 400 `invalid_argument`
 * naming the field, since a silently ignored typo would change what is exported.
 */
import { HttpError } from '../http.js';
import { projectionFor, type ExportType, type Projection } from './fields.js';
import type { ExportFormat } from './encode.js';

/** `{start, end}` as ms since the epoch; `undefined` for an empty bound ("forever" / "up to now"). */
interface TimeBounds {
  start?: number;
  end?: number;
}

/** A validated create request. */
export interface ExportRequest {
  segmentId: string;
  type: ExportType;
  format: ExportFormat;
  timeRange: TimeBounds;
  /** Absent: the segment's own range applies (the sandbox gives every segment "the last 30 days"). */
  segmentTimeRange?: TimeBounds;
  /** The `fields` as sent (empty when absent). */
  fields: readonly string[];
  projection: Projection | undefined;
}

const TYPES: readonly string[] = ['TYPE_EVENT', 'TYPE_INDIVIDUAL'];
const FORMATS: readonly string[] = ['FORMAT_JSON', 'FORMAT_NDJSON', 'FORMAT_CSV'];
const ALIASES: Record<string, string> = {
  segment_id: 'segmentId',
  time_range: 'timeRange',
  segment_time_range: 'segmentTimeRange',
  event_details: 'eventDetails',
};
const KNOWN = new Set(['segmentId', 'type', 'format', 'timeRange', 'segmentTimeRange', 'timezone', 'fields', 'eventDetails']);
/** RFC 3339 with a `Z` or numeric offset, optional fraction. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

const bad = (message: string): HttpError => new HttpError(400, 'invalid_argument', message);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bound(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw bad(`${name}: expected an RFC 3339 timestamp or "", got ${JSON.stringify(value)}`);
  }
  return Date.parse(value);
}

function timeBounds(value: unknown, name: string): TimeBounds {
  if (!isObject(value)) throw bad(`${name}: expected an object {"start": ..., "end": ...}`);
  for (const key of Object.keys(value)) if (key !== 'start' && key !== 'end') throw bad(`${name}: unknown field "${key}"`);
  const range: TimeBounds = {};
  const start = bound(value['start'], `${name}.start`);
  const end = bound(value['end'], `${name}.end`);
  if (start !== undefined) range.start = start;
  if (end !== undefined) range.end = end;
  if (start !== undefined && end !== undefined && !(start < end)) throw bad(`${name}: start must be before end`);
  return range;
}

/** Validates a parsed create body. @throws HttpError 400 naming the field */
export function parseExportRequest(body: unknown): ExportRequest {
  if (!isObject(body)) throw bad('request body must be a JSON object');
  const fields: Record<string, unknown> = {};
  for (const [raw, value] of Object.entries(body)) {
    const name = ALIASES[raw] ?? raw;
    if (!KNOWN.has(name)) throw bad(`unknown field "${raw}"`);
    if (name in fields) throw bad(`field "${name}" is given twice (as camelCase and snake_case)`);
    fields[name] = value;
  }
  const { segmentId, type, format, timeRange, segmentTimeRange, timezone, eventDetails } = fields;
  if (typeof segmentId !== 'string' || segmentId === '') throw bad('segmentId is required (e.g. "everyone")');
  if (typeof type !== 'string' || !TYPES.includes(type)) throw bad(`type must be one of ${TYPES.join(', ')}`);
  if (typeof format !== 'string' || !FORMATS.includes(format)) throw bad(`format must be one of ${FORMATS.join(', ')}`);
  if (timeRange === undefined) throw bad('timeRange is required');
  if (timezone !== undefined && (typeof timezone !== 'string' || !isTimeZone(timezone))) {
    throw bad(`timezone: not an IANA time zone: ${JSON.stringify(timezone)}`);
  }
  if (eventDetails !== undefined && !isObject(eventDetails)) throw bad('eventDetails must be an object');
  const list = fields['fields'];
  if (list !== undefined && (!Array.isArray(list) || list.some((f) => typeof f !== 'string'))) {
    throw bad('fields must be an array of strings');
  }
  const request: ExportRequest = {
    segmentId,
    type: type as ExportType,
    format: format as ExportFormat,
    timeRange: timeBounds(timeRange, 'timeRange'),
    fields: (list as string[] | undefined) ?? [],
    projection: projectionFor(type as ExportType, list as string[] | undefined),
  };
  if (segmentTimeRange !== undefined) request.segmentTimeRange = timeBounds(segmentTimeRange, 'segmentTimeRange');
  return request;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
