/**
 * The `events` stream: one row per FullStory event, the fields of
 * https://developer.fullstory.com/server/v1/segments/export-fields with custom variables typed by
 * their suffix. Both sources read it with the same row schema; each names its records its own way.
 */
import { BUNDLE_KEYS, WINDOW_KEYS } from './key-fields.js';
import type { BundleStreamDefinition, SegmentStreamDefinition } from './types.js';

const SCHEMA_FILE = 'streams/events.json';

/** `events` from Data Export bundles, keyed by bundle Id and position in the bundle. */
export const bundleEvents: BundleStreamDefinition = {
  name: 'events',
  source: 'data_export',
  schemaFile: SCHEMA_FILE,
  keys: BUNDLE_KEYS,
  keyProperties: [BUNDLE_KEYS.id, BUNDLE_KEYS.index],
  automaticFields: ['EventStart'],
};

/** `events` from Segment Exports (`TYPE_EVENT`), keyed by window start and position in the window's file. */
export const windowEvents: SegmentStreamDefinition = {
  name: 'events',
  source: 'segment_export',
  schemaFile: SCHEMA_FILE,
  keys: WINDOW_KEYS,
  keyProperties: [WINDOW_KEYS.id, WINDOW_KEYS.index],
  automaticFields: ['EventStart'],
  exportType: 'TYPE_EVENT',
  customVariables: ['user_*', 'evt_*', 'page_*'],
  // Legacy bundle names: Segment Export calls the first PageUserAgent and has no second.
  notExported: ['PageAgent', 'EventTargetSelectorTok'],
};
