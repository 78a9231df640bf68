// Public API of @fullstory-singer/fullstory-client (see README.md).
export { resolveHosts, isLoopbackHost } from './hosts.js';
export { checkApiKey } from './api-key.js';
export type { Region, HostPurpose, ResolveHostsOptions } from './hosts.js';
export {
  isRetryableStatus,
  isRetryableNetworkError,
  parseRetryAfter,
  backoffDelay,
  retryDelay,
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_CAP_MS,
} from './retry-policy.js';
export type { BackoffOptions, RetryDelayInput } from './retry-policy.js';
export { DEFAULT_MAX_RETRY_AFTER_MS } from './options.js';
export type { ClientOptions } from './options.js';
export { ApiError } from './errors.js';
export type { ApiErrorDetails } from './errors.js';
export { BodyInterruptedError } from './body-stream.js';
export { ExportClient } from './export-client.js';
export type { ExportBundle } from './export-client.js';
export { ServerApiClient, BatchRefusedError } from './server-api-client.js';
export type { JobKind, JobStatus, ErrorItem, Page, CallOptions } from './server-api-client.js';
export { SegmentExportClient, ExportNotFoundError } from './segment-export-client.js';
export type { CreateExportRequest, ExportOperation, ExportTimeRange, SegmentExportClientOptions } from './segment-export-client.js';
export { LocationRefusedError, LocationUnavailableError, UnsafeLocationError } from './signed-download.js';
export type { SecretRegistry } from './signed-download.js';
