/**
 * What the tap knows about a stream: everything that makes it the stream it is, in one place. The
 * registry (registry.ts) lists them; discovery, selection and the sync read them from there.
 */
import type { KeyFields } from './key-fields.js';

/** The export API a stream is read from (the `source` setting). */
export type Source = 'data_export' | 'segment_export';

interface StreamBase {
  /** The `tap_stream_id` and stream name, and its key under `bookmarks` in the state. */
  name: string;
  /** The row's JSON Schema, a file of `@fullstory-singer/schemas` (without the key fields). */
  schemaFile: string;
  /** The two fields the tap adds to every record to name it exactly. */
  keys: KeyFields;
  /** The stream's `key_properties`: what a target upserts on. */
  keyProperties: readonly string[];
  /** Row fields always emitted, whatever the catalog says (besides the key fields). */
  automaticFields: readonly string[];
}

/** A stream read from legacy Data Export bundles, with the bundle cursor (cursor.ts). */
export interface BundleStreamDefinition extends StreamBase {
  source: 'data_export';
}

/** A stream read from Segment Exports, window by window, with the window cursor (segment-export/windows.ts). */
export interface SegmentStreamDefinition extends StreamBase {
  source: 'segment_export';
  /** The export's `type`. */
  exportType: 'TYPE_EVENT' | 'TYPE_INDIVIDUAL';
  /** The `fields` wildcards that select its custom variables, when a catalog narrows the fields. */
  customVariables: readonly string[];
  /** Schema fields Segment Export does not have (legacy bundle names), never asked for in `fields`. */
  notExported?: readonly string[];
}

export type StreamDefinition = BundleStreamDefinition | SegmentStreamDefinition;
