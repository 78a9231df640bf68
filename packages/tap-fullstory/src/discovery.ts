/**
 * Discovery and selection of the `events` stream: the catalog `--discover` prints, and what a
 * `--catalog` selects (README "The `events` stream").
 */
import { loadSchema } from '@fullstory-singer/schemas';
import { isStreamSelected, selectedFields, standardMetadata } from '@fullstory-singer/singer-core';
import type { Catalog, CatalogEntry, JsonSchema } from '@fullstory-singer/singer-core';
import { EVENTS_STREAM } from './cursor.js';
import { EVENTS_KEY_PROPERTIES } from './sync.js';

/** The replication key-like field that is always emitted with the keys. */
const ALWAYS_EMITTED = [...EVENTS_KEY_PROPERTIES, 'EventStart'];

/** The events stream's JSON Schema (`schemas/streams/events.json`). */
export function eventsSchema(): JsonSchema {
  return loadSchema('streams/events.json');
}

function propertiesOf(schema: JsonSchema): Record<string, unknown> {
  const props = schema['properties'];
  return typeof props === 'object' && props !== null ? (props as Record<string, unknown>) : {};
}

/**
 * The catalog: one stream, `events`, INCREMENTAL, keyed by `_sdc_bundle_id` + `_sdc_bundle_index`.
 * Keys and `EventStart` are `automatic`; every other field is `available` and
 * `selected-by-default`, so selecting the stream alone emits every field.
 */
export function discoverCatalog(): Catalog {
  const schema = eventsSchema();
  const metadata = standardMetadata({
    schema,
    keyProperties: EVENTS_KEY_PROPERTIES,
    replicationMethod: 'INCREMENTAL',
    automaticFields: ['EventStart'],
  });
  for (const entry of metadata) {
    if (entry.breadcrumb.length === 2 && entry.metadata['inclusion'] === 'available') {
      entry.metadata['selected-by-default'] = true;
    }
  }
  return {
    streams: [
      {
        tap_stream_id: EVENTS_STREAM,
        stream: EVENTS_STREAM,
        schema,
        key_properties: EVENTS_KEY_PROPERTIES,
        replication_method: 'INCREMENTAL',
        metadata,
      },
    ],
  };
}

/** What a sync emits for the events stream. */
export interface Selection {
  selected: boolean;
  /** The SCHEMA message body: the stream schema without the dropped fields. */
  schema: JsonSchema;
  /** Documented fields to leave out of every record. */
  dropFields: Set<string>;
}

/**
 * Applies a catalog (or none: everything) to the events stream. Only documented fields (the
 * schema's `properties`) can be deselected; custom variables and other undocumented keys are
 * passed through whenever the stream is selected.
 */
export function resolveSelection(catalog: Catalog | undefined): Selection {
  const schema = eventsSchema();
  if (!catalog) return { selected: true, schema, dropFields: new Set() };
  const entry: CatalogEntry | undefined = catalog.streams.find(
    (s) => s.tap_stream_id === EVENTS_STREAM || s.stream === EVENTS_STREAM,
  );
  if (!entry || !isStreamSelected(entry)) return { selected: false, schema, dropFields: new Set() };
  const keep = selectedFields(entry);
  const properties = propertiesOf(schema);
  const dropFields = new Set(Object.keys(properties).filter((f) => !keep.has(f) && !ALWAYS_EMITTED.includes(f)));
  if (dropFields.size === 0) return { selected: true, schema, dropFields };
  const narrowed = Object.fromEntries(Object.entries(properties).filter(([f]) => !dropFields.has(f)));
  return { selected: true, schema: { ...schema, properties: narrowed }, dropFields };
}
