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
  type ActivateVersionMessage,
  type OtherMessage,
  type SingerMessage,
} from './messages.js';
export { readMessages, readMessageBatches, parseMessageText, noteTerminalInput, DEFAULT_MAX_LINE_BYTES, type ReadMessagesOptions, type MessageCheckOptions, type ReadMessage } from './reader.js';
export { MessageWriter, type MessageWriterOptions } from './writer.js';
export {
  readCatalogFile,
  standardMetadata,
  getMetadata,
  isStreamSelected,
  selectedFields,
  selectedStreams,
  type Catalog,
  type CatalogEntry,
  type MetadataEntry,
  type StandardMetadataOptions,
} from './catalog.js';
export { readStateFile, getBookmark, setBookmark, type State } from './state.js';
export { loadConfig, camelCaseKeys, envVarName, missingSettingError, type LoadConfigOptions, type CamelCaseKeys } from './config.js';
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
  type SingerErrorOptions,
  type InputErrorOptions,
} from './errors.js';
export { Redactor, REDACTED } from './redact.js';
export {
  installStopSignals,
  isStdoutClosed,
  StopRequested,
  StdoutClosedError,
  type StopSignals,
  type StopSignalsOptions,
  type StopSignalName,
  type SignalSource,
} from './stop.js';
export {
  createLogger,
  resolveLogLevel,
  formatFields,
  LOG_LEVELS,
  type LogLevel,
  type Logger,
  type ConsoleLogger,
  type LoggerOptions,
} from './logger.js';
export { ProgressReporter, type ProgressOptions, type Completion } from './progress.js';
export {
  runMain,
  createCommand,
  parseArgs,
  aboutDocument,
  ExitRequest,
  type MainContext,
  type RunMainOptions,
  type CommonOptions,
  type CommandInfo,
  type AboutInfo,
} from './cli.js';
