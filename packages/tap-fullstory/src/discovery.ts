/**
 * Discovery and selection, for every stream of the configured source (streams/registry.ts): the
 * catalog `--discover` prints, and what a `--catalog` selects (the README's "The `events` stream";
 * https://github.com/singer-io/getting-started/blob/master/docs/DISCOVERY_MODE.md).
 */
import { isStreamSelected, selectedFields, standardMetadata } from '@fullstory-singer/singer-core';
import type { Catalog, CatalogEntry, JsonSchema } from '@fullstory-singer/singer-core';
import { streamSchema, streamsOf } from './streams/registry.js';
import type { Source, StreamDefinition } from './streams/types.js';

/** What a sync emits of one selected stream. */
export interface StreamSelection<S extends StreamDefinition = StreamDefinition> {
  stream: S;
  /** The SCHEMA message body: the stream schema without the dropped fields. */
  schema: JsonSchema;
  /** Documented fields to leave out of every record. */
  dropFields: Set<string>;
}

/** Fields emitted whatever the catalog says: the tap's key fields, the key properties and the stream's automatic fields. */
function alwaysEmitted(stream: StreamDefinition): string[] {
  return [stream.keys.id, stream.keys.index, ...stream.keyProperties, ...stream.automaticFields];
}

function propertiesOf(schema: JsonSchema): Record<string, unknown> {
  const props = schema['properties'];
  return typeof props === 'object' && props !== null ? (props as Record<string, unknown>) : {};
}

/** The catalog entry of one stream, INCREMENTAL; every field not always emitted is `available` and `selected-by-default`. */
function catalogEntry(stream: StreamDefinition): CatalogEntry {
  const schema = streamSchema(stream);
  const metadata = standardMetadata({
    schema,
    keyProperties: [...stream.keyProperties],
    replicationMethod: 'INCREMENTAL',
    automaticFields: alwaysEmitted(stream),
  });
  for (const entry of metadata) {
    if (entry.breadcrumb.length === 2 && entry.metadata['inclusion'] === 'available') {
      entry.metadata['selected-by-default'] = true;
    }
  }
  return {
    tap_stream_id: stream.name,
    stream: stream.name,
    schema,
    key_properties: [...stream.keyProperties],
    replication_method: 'INCREMENTAL',
    metadata,
  };
}

/**
 * The catalog of a source's streams. Selecting a stream alone emits every field; the key fields
 * and each stream's automatic fields are `automatic`.
 */
export function discoverCatalog(source: Source): Catalog {
  return { streams: streamsOf(source).map(catalogEntry) };
}

/**
 * Applies a catalog (or none: everything) to a source's streams; returns the selected ones in sync
 * order. Only documented fields (the schema's `properties`) can be deselected; custom variables and
 * other undocumented keys are passed through whenever the stream is selected.
 */
export function selectStreams(source: Source, catalog: Catalog | undefined): StreamSelection[] {
  const selections: StreamSelection[] = [];
  for (const stream of streamsOf(source)) {
    const schema = streamSchema(stream);
    if (!catalog) {
      selections.push({ stream, schema, dropFields: new Set() });
      continue;
    }
    const entry = catalog.streams.find((s) => s.tap_stream_id === stream.name || s.stream === stream.name);
    if (!entry || !isStreamSelected(entry)) continue;
    const keep = selectedFields(entry);
    const always = alwaysEmitted(stream);
    const properties = propertiesOf(schema);
    const dropFields = new Set(Object.keys(properties).filter((f) => !keep.has(f) && !always.includes(f)));
    const narrowed = Object.fromEntries(Object.entries(properties).filter(([f]) => !dropFields.has(f)));
    selections.push({ stream, schema: dropFields.size === 0 ? schema : { ...schema, properties: narrowed }, dropFields });
  }
  return selections;
}
