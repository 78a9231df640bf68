/**
 * target-fullstory: a Singer target loading users, events and audiences into FullStory through the
 * Server API v2 batch imports. The CLI is `bin.ts`; these exports serve tests and embedding.
 */
export { runTarget, type TargetDeps } from './target.js';
export { loadSettings, settingsFromConfig, settingsSchema, ENV_PREFIX, type TargetSettings, type StreamSettings } from './config.js';
export { routeStream, type StreamRoute } from './routing.js';
export { StreamRegistry, type StreamState } from './streams.js';
export {
  compileMapper,
  requestKey,
  MAPPING_FIELDS,
  MAX_PROPERTY_VALUE_BYTES,
  type DataType,
  type MappingField,
  type SourceConfig,
  type RecordMapper,
  type MapResult,
  type FullStoryRequest,
  type PropertyIssue,
} from './mapping.js';
export { normalizeTimestamp, EPOCH_MILLIS_THRESHOLD } from './timestamps.js';
export { PropertyNamer, rewritePropertyName, isValidPropertyName, snakeCase, MAX_PROPERTY_PATH_LENGTH } from './property-names.js';
export { scalarType, schemaShape, type PropertyType, type SchemaShape } from './property-types.js';
export { compileValidator, type RecordValidator } from './validation.js';
export { DeadLetterWriter, type DeadLetterEntry } from './dead-letter.js';
export { Batcher, type Batch, type BatchKind } from './batcher.js';
export { StateTracker } from './state-tracker.js';
export { JobPipeline, type BatchApi, type JobStatusLike, type JobErrorItem, type PipelineStats } from './job-pipeline.js';
export { DryRunSink } from './dry-run.js';
export { logSummary, type RunSummary } from './summary.js';
export { reject, type Rejection, type RejectionReason } from './rejection.js';
