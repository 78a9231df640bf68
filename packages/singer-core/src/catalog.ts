/**
 * Singer catalogs and metadata (https://github.com/singer-io/getting-started/blob/master/docs/DISCOVERY_MODE.md,
 * https://github.com/singer-io/getting-started/blob/master/docs/SYNC_MODE.md, singer-python's metadata.py): reading `--catalog` / legacy `--properties` files, writing standard metadata in
 * discovery, and deciding which streams and fields a sync emits.
 */
import { ConfigError } from './errors.js';
import { readTextFile } from './files.js';
import { locateJsonError, parseJson } from './json.js';
import type { JsonSchema } from './messages.js';

/** One metadata entry: `[]` is the stream, `["properties", name]` a top-level field. */
interface MetadataEntry {
  breadcrumb: string[];
  metadata: Record<string, unknown>;
}

/** One stream of a catalog. */
export interface CatalogEntry {
  tap_stream_id: string;
  stream: string;
  schema: JsonSchema;
  key_properties?: string[];
  metadata?: MetadataEntry[];
  replication_method?: string;
  replication_key?: string;
}

/** A Singer catalog (`{"streams": [...]}`). */
export interface Catalog {
  streams: CatalogEntry[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a catalog file given with `--catalog`, or a legacy `--properties` file (same shape; an
 * entry with only `stream` or only `tap_stream_id` gets the other filled in).
 * @throws ConfigError (exit 2) naming the file and what is wrong, if it is unreadable or not a catalog.
 */
export async function readCatalogFile(path: string): Promise<Catalog> {
  const read = await readTextFile(path);
  const fail = (reason: string): ConfigError => new ConfigError(`catalog file ${path}: ${reason}`);
  if ('reason' in read) throw fail(read.reason);
  let doc: unknown;
  try {
    doc = parseJson(read.text);
  } catch (err) {
    const { location, reason } = locateJsonError(err, read.text);
    throw new ConfigError(`catalog file ${path}${location ? `:${location}` : ''}: not valid JSON (${reason})`);
  }
  if (!isObject(doc)) throw fail('expected a JSON object with "streams"');
  if (!Array.isArray(doc.streams)) throw fail('"streams" must be an array');
  const streams = doc.streams.map((raw: unknown, i: number): CatalogEntry => {
    const where = `streams[${i}]`;
    if (!isObject(raw)) throw fail(`${where} must be an object`);
    const id = raw.tap_stream_id ?? raw.stream;
    const name = raw.stream ?? raw.tap_stream_id;
    if (typeof id !== 'string' || typeof name !== 'string') throw fail(`${where} has no "tap_stream_id" or "stream" string`);
    if (!isObject(raw.schema)) throw fail(`${where} ("${id}") has no "schema" object`);
    if (raw.metadata !== undefined) {
      if (!Array.isArray(raw.metadata)) throw fail(`${where} ("${id}") "metadata" must be an array`);
      raw.metadata.forEach((m: unknown, j: number) => {
        if (!isObject(m) || !Array.isArray(m.breadcrumb) || !isObject(m.metadata)) {
          throw fail(`${where} ("${id}") metadata[${j}] must have a "breadcrumb" array and a "metadata" object`);
        }
      });
    }
    if (raw.key_properties !== undefined && !Array.isArray(raw.key_properties)) {
      throw fail(`${where} ("${id}") "key_properties" must be an array`);
    }
    return { ...(raw as Partial<CatalogEntry>), tap_stream_id: id, stream: name, schema: raw.schema };
  });
  return { streams };
}

/** Options of {@link standardMetadata}. */
interface StandardMetadataOptions {
  schema: JsonSchema;
  keyProperties: string[];
  /** Written as `forced-replication-method` (e.g. `INCREMENTAL`). */
  replicationMethod?: string;
  validReplicationKeys?: string[];
  /** Further fields that are always emitted (`inclusion: automatic`). */
  automaticFields?: string[];
}

/**
 * Discovery metadata in singer-python's `get_standard_metadata` shape: the stream is
 * `inclusion: available` with `table-key-properties` (and `forced-replication-method`,
 * `valid-replication-keys` when given); key properties, replication keys and `automaticFields`
 * are `automatic`, every other top-level property `available`. Nothing is selected by default.
 */
export function standardMetadata(options: StandardMetadataOptions): MetadataEntry[] {
  const { schema, keyProperties, replicationMethod, validReplicationKeys, automaticFields } = options;
  const streamMetadata: Record<string, unknown> = { inclusion: 'available', 'table-key-properties': keyProperties };
  if (replicationMethod !== undefined) streamMetadata['forced-replication-method'] = replicationMethod;
  if (validReplicationKeys !== undefined) streamMetadata['valid-replication-keys'] = validReplicationKeys;
  const automatic = new Set([...keyProperties, ...(validReplicationKeys ?? []), ...(automaticFields ?? [])]);
  const entries: MetadataEntry[] = [{ breadcrumb: [], metadata: streamMetadata }];
  for (const field of Object.keys(schemaProperties(schema))) {
    entries.push({
      breadcrumb: ['properties', field],
      metadata: { inclusion: automatic.has(field) ? 'automatic' : 'available' },
    });
  }
  return entries;
}

/** Metadata of one breadcrumb (`[]` = stream level), or `{}`. */
export function getMetadata(entry: CatalogEntry, breadcrumb: string[]): Record<string, unknown> {
  const found = entry.metadata?.find(
    (m) => m.breadcrumb.length === breadcrumb.length && m.breadcrumb.every((part, i) => part === breadcrumb[i]),
  );
  return found?.metadata ?? {};
}

/** `true`/`"true"` → true, `false`/`"false"` → false, anything else undefined (the Singer docs' SYNC_MODE.md uses strings). */
function flag(value: unknown): boolean | undefined {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return undefined;
}

function schemaProperties(schema: JsonSchema): Record<string, unknown> {
  const props = schema.properties;
  return isObject(props) ? props : {};
}

/**
 * Whether a stream is selected: stream-level metadata `selected` (boolean or `"true"`), or the
 * deprecated `schema.selected` of legacy `--properties` files (either suffices, as in singer-python).
 */
export function isStreamSelected(entry: CatalogEntry): boolean {
  return flag(getMetadata(entry, []).selected) === true || flag(entry.schema.selected) === true;
}

/**
 * Top-level fields a sync emits for a stream (singer-python `should_sync_field`): `automatic`
 * fields always, `unsupported` never, otherwise the field's `selected` when set, else its
 * `selected-by-default`. A field without metadata falls back to legacy `inclusion`/`selected`
 * keys inside its schema.
 */
export function selectedFields(entry: CatalogEntry): Set<string> {
  const fields = new Set<string>(Object.keys(schemaProperties(entry.schema)));
  for (const m of entry.metadata ?? []) {
    if (m.breadcrumb.length === 2 && m.breadcrumb[0] === 'properties') fields.add(m.breadcrumb[1]!);
  }
  const properties = schemaProperties(entry.schema);
  const selected = new Set<string>();
  for (const field of fields) {
    let md = getMetadata(entry, ['properties', field]);
    if (Object.keys(md).length === 0 && isObject(properties[field])) md = properties[field];
    const inclusion = md.inclusion;
    if (inclusion === 'automatic') {
      selected.add(field);
      continue;
    }
    if (inclusion === 'unsupported') continue;
    const choice = flag(md.selected) ?? flag(md['selected-by-default']) ?? false;
    if (choice) selected.add(field);
  }
  return selected;
}

/** The selected entries of a catalog, in catalog order. */
export function selectedStreams(catalog: Catalog): CatalogEntry[] {
  return catalog.streams.filter(isStreamSelected);
}
