/**
 * Every stream the tap can emit, one line each. Adding a stream is its schema file, its module
 * (a definition, as events.ts or individuals.ts), one line here, a fixture and a test.
 */
import { loadSchema } from '@fullstory-singer/schemas';
import type { JsonSchema } from '@fullstory-singer/singer-core';
import { bundleEvents, windowEvents } from './events.js';
import { individuals } from './individuals.js';
import { withKeyFields } from './key-fields.js';
import type { Source, StreamDefinition } from './types.js';

const STREAMS: readonly StreamDefinition[] = [
  bundleEvents,
  windowEvents,
  individuals,
];

/** The streams a source provides, in the order they are synced. */
export function streamsOf(source: Source): StreamDefinition[] {
  return STREAMS.filter((s) => s.source === source);
}

/** A stream's full JSON Schema: its key fields, then the row's fields. */
export function streamSchema(stream: StreamDefinition): JsonSchema {
  return withKeyFields(loadSchema<JsonSchema>(stream.schemaFile), stream.keys);
}
