/** tap-fullstory as a library: the pieces the bin is made of (see README.md). */
export { ArraySplitter, BundleFormatError, ElementFlags, type ElementHandler, type ArraySplitterOptions, type TrailingBytes } from './array-splitter.js';
export { RecordWriter, type RecordContext, type BodyRepairs, type LineSink, type RecordWriterOptions } from './record-writer.js';
export { decodeBody, isZlibError, type DecodeOptions } from './decode-body.js';
export { isBodyRetryable, type ProgressSink } from './body-records.js';
export { Pacer, type PacerOptions } from './pacer.js';
export { BundleSource, LIST_PAGE_SIZE, type BundleSourceOptions, type ExportApi } from './bundle-source.js';
export {
  readCursor,
  listStart,
  planBundles,
  completeBundle,
  checkpoint,
  bundleBookmark,
  stateWithBookmark,
  type BundleRef,
  type EventsCursor,
  type InProgress,
  type PlannedBundle,
  type BundlePlan,
} from './cursor.js';
export {
  readWindowCursor,
  planWindows,
  completeWindow,
  windowCheckpoint,
  windowBookmark,
  type Window,
  type WindowCursor,
  type WindowPlan,
  type PlannedWindow,
} from './segment-export/windows.js';
export type { SegmentExportApi } from './segment-export/window-export.js';
export { syncWindows, type SyncWindowsOptions, type SyncWindowsSummary, type WindowSelection } from './segment-export/sync-windows.js';
export { isoFromUnix, unixFromIso } from './time.js';
export { loadTapConfig, configSchema, type TapConfig, type SegmentExportSettings } from './config.js';
export { discoverCatalog, selectStreams, type StreamSelection } from './discovery.js';
export { streamsOf, streamSchema } from './streams/registry.js';
export { BUNDLE_KEYS, WINDOW_KEYS, withKeyFields, type KeyFields } from './streams/key-fields.js';
export type { Source, StreamDefinition, BundleStreamDefinition, SegmentStreamDefinition } from './streams/types.js';
export { syncBundles, type SyncOptions, type SyncSummary } from './sync.js';
export { tapMain, CAPABILITIES, type TapIo } from './cli.js';
export { PACKAGE } from './version.js';
