/**
 * Singer message shapes (getting-started SPEC.md, singer-python messages.py) and builders.
 * Builders only set optional keys when given, like singer-python, so output stays minimal.
 */

/** A JSON Schema document (kept loose: Singer schemas are plain JSON objects). */
export type JsonSchema = Record<string, unknown>;

/** `SCHEMA`: describes the records of a stream. */
export interface SchemaMessage {
  type: 'SCHEMA';
  stream: string;
  schema: JsonSchema;
  key_properties: string[];
  bookmark_properties?: string[];
}

/** `RECORD`: one row of a stream. */
export interface RecordMessage {
  type: 'RECORD';
  stream: string;
  record: Record<string, unknown>;
  /** RFC 3339 time the record was read from the source. */
  time_extracted?: string;
  version?: number;
}

/** `STATE`: an opaque bookmark document the runner persists. */
export interface StateMessage {
  type: 'STATE';
  value: Record<string, unknown>;
}

/** `ACTIVATE_VERSION` (singer-python extension): keep only records of this version. */
interface ActivateVersionMessage {
  type: 'ACTIVATE_VERSION';
  stream: string;
  version: number;
}

/** A message of a type this package does not know (e.g. Meltano's `BATCH`): targets log and skip it. */
export interface OtherMessage {
  type: string;
  [k: string]: unknown;
}

/** Any message this package knows. */
export type SingerMessage = SchemaMessage | RecordMessage | StateMessage | ActivateVersionMessage;

/** Builds a `SCHEMA` message; `bookmark_properties` is only set when non-empty. */
export function schemaMessage(
  stream: string,
  schema: JsonSchema,
  keyProperties: string[],
  bookmarkProperties?: string[],
): SchemaMessage {
  const message: SchemaMessage = { type: 'SCHEMA', stream, schema, key_properties: keyProperties };
  if (bookmarkProperties && bookmarkProperties.length > 0) message.bookmark_properties = bookmarkProperties;
  return message;
}

/** Builds a `RECORD` message; `time_extracted` is only set when given. */
export function recordMessage(stream: string, record: Record<string, unknown>, timeExtracted?: string): RecordMessage {
  const message: RecordMessage = { type: 'RECORD', stream, record };
  if (timeExtracted !== undefined) message.time_extracted = timeExtracted;
  return message;
}

/** Builds a `STATE` message. */
export function stateMessage(value: Record<string, unknown>): StateMessage {
  return { type: 'STATE', value };
}

/** Builds an `ACTIVATE_VERSION` message. */
export function activateVersionMessage(stream: string, version: number): ActivateVersionMessage {
  return { type: 'ACTIVATE_VERSION', stream, version };
}

/** True for a message of one of the four known types (narrows away {@link OtherMessage}). */
export function isSingerMessage(message: SingerMessage | OtherMessage): message is SingerMessage {
  const t = message.type;
  return t === 'RECORD' || t === 'SCHEMA' || t === 'STATE' || t === 'ACTIVATE_VERSION';
}
