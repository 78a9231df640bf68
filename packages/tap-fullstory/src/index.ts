/** tap-fullstory as a library: the pieces the bin is made of (see README.md). */
export { ArraySplitter, BundleFormatError, ElementFlags, type ElementHandler, type ArraySplitterOptions, type TrailingBytes } from './array-splitter.js';
export { RecordWriter, type BundleContext, type BundleRepairs, type LineSink, type RecordWriterOptions } from './record-writer.js';
export { decodeBody, isZlibError, type DecodeOptions } from './decode-body.js';
export { Pacer, type PacerOptions } from './pacer.js';
export { BundleSource, LIST_PAGE_SIZE, type BundleSourceOptions, type ExportApi } from './bundle-source.js';
export {
  EVENTS_STREAM,
  readCursor,
  listStart,
  planBundles,
  completeBundle,
  checkpoint,
  stateWithCursor,
  isoFromUnix,
  unixFromIso,
  type BundleRef,
  type EventsCursor,
  type InProgress,
  type PlannedBundle,
  type BundlePlan,
} from './cursor.js';
export { loadTapConfig, configSchema, type TapConfig } from './config.js';
export { discoverCatalog, eventsSchema, resolveSelection, type Selection } from './discovery.js';
export { syncEvents, isBundleRetryable, EVENTS_KEY_PROPERTIES, type SyncOptions, type SyncSummary, type ProgressSink } from './sync.js';
export { tapMain, CAPABILITIES, type TapIo } from './cli.js';
export { PACKAGE } from './version.js';
