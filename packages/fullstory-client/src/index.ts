// Public API of @fullstory-singer/fullstory-client (see README.md).
export { resolveHosts } from './hosts.js';
export { checkApiKey } from './api-key.js';
export { isRetryableNetworkError, backoffDelay } from './retry-policy.js';
export type { ClientOptions } from './options.js';
export { ApiError } from './errors.js';
export { BodyInterruptedError } from './body-stream.js';
export { ExportClient } from './export-client.js';
export { ServerApiClient, BatchRefusedError } from './server-api-client.js';
export type { CreatedJob, JobStatus, ErrorItem, Page } from './server-api-client.js';
export { SegmentExportClient, ExportNotFoundError } from './segment-export-client.js';
export type { CreateExportRequest, ExportOperation } from './segment-export-client.js';
export { LocationRefusedError, LocationUnavailableError } from './signed-download.js';
