/**
 * @fullstory-singer/singer-core: the Singer protocol and runtime for taps and targets (this
 * repository's two CLIs are built on it). Knows nothing of FullStory.
 */
export { parseJson, stringifyJson, describeJsonError } from './json.js';
export {
  schemaMessage,
  recordMessage,
  stateMessage,
  activateVersionMessage,
  isSingerMessage,
  type JsonSchema,
  type SchemaMessage,
  type RecordMessage,
  type StateMessage,
  type OtherMessage,
  type SingerMessage,
} from './messages.js';
export { readMessages, readMessageBatches, noteTerminalInput, type ReadMessagesOptions, type ReadMessage } from './reader.js';
export { MessageWriter } from './writer.js';
export {
  readCatalogFile,
  standardMetadata,
  getMetadata,
  isStreamSelected,
  selectedFields,
  selectedStreams,
  type Catalog,
  type CatalogEntry,
} from './catalog.js';
export { readStateFile, getBookmark, setBookmark } from './state.js';
export { loadConfig, camelCaseKeys, missingSettingError } from './config.js';
export type { ConfigValidator } from './config.js';
export {
  ExitCode,
  SingerError,
  ConfigError,
  InputError,
  AuthError,
  UnavailableError,
  RejectedRecordsError,
  InternalError,
  isSingerError,
} from './errors.js';
export { Redactor, REDACTED } from './redact.js';
export {
  installStopSignals,
  isStdoutClosed,
  StopRequested,
  StdoutClosedError,
  type SignalSource,
} from './stop.js';
export { createLogger, resolveLogLevel, type Logger } from './logger.js';
export { ProgressReporter } from './progress.js';
export {
  runMain,
  createCommand,
  parseArgs,
  aboutDocument,
  ExitRequest,
  type MainContext,
  type RunMainOptions,
  type CommonOptions,
} from './cli.js';
