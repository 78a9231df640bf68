/**
 * Public types of the sandbox: start options, inspector records and fault rules.
 * The HTTP control routes (`/__sandbox/*`) return these same shapes as JSON.
 */
import type { SegmentExportOptions, SegmentExportSummary } from './segment-export/types.js';

/** How `GET /api/v1/export/get` encodes a bundle body. */
export type DownloadEncoding =
  /** gzip bytes as a file: `Content-Type: application/gzip`, `Content-Disposition: attachment; filename="DataExport.json.gz"` (default). */
  | 'gzip'
  /** gzip bytes with `Content-Encoding: gzip` and `Content-Type: application/json` (what a transparent-gzip client expects). */
  | 'content-encoding'
  /** plain JSON, `Content-Type: application/json` ("optionally gzipped" in the newer v1 docs). */
  | 'identity';

/** Options of {@link startSandbox}. Every field is optional. */
export interface SandboxOptions {
  /** Interface to bind. Default `127.0.0.1` (loopback only). */
  host?: string;
  /** Port to bind. Default 0 (an ephemeral port; read it from `Sandbox.url`). */
  port?: number;
  /** Keys accepted in `Authorization: Basic <key>`. Default `['sandbox-key']`. */
  apiKeys?: string[];
  /** Keys that authenticate but may only read (export routes and GETs); writes answer 403. */
  readOnlyKeys?: string[];
  /** Keys that authenticate but have no permission at all: every API route answers 403. */
  forbiddenKeys?: string[];
  /**
   * Keys of FullStory's Standard level: they may create (users, events, batch imports) and read a batch
   * job's status; every route that shows user data (a job's imports and errors, users, exports)
   * answers 403 (https://developer.fullstory.com/server/authentication/).
   */
  standardKeys?: string[];
  /**
   * Status of a finished job that has errors: `FAILED` (the API spec: "finished with at least one
   * failure"; default) or `COMPLETED` with `errors` > 0, as FullStory's Asynchronous Workflows page shows.
   */
  jobStatusWithErrors?: 'FAILED' | 'COMPLETED';
  /**
   * Where an invalid batch item is reported: `job` (an error item of the finished job; default) or
   * `batch` (the whole `POST /v2/{users|events}/batch` answers 400 naming the first bad item).
   */
  invalidItems?: 'job' | 'batch';
  /**
   * Which `Idempotency-Key` answers are saved: `production` (the first answer whatever it was, 5xx
   * included, as developer.fullstory.com says; default) or `staging` (429 and 5xx are not saved, as the
   * staging docs say). Rate-limit 429s are answered before the endpoint runs and never saved.
   */
  idempotency?: 'production' | 'staging';
  /**
   * How long a saved `Idempotency-Key` answer is kept, in ms; an older one is forgotten and the key
   * runs the endpoint again. Default 24 h, as FullStory says (a key "will be eligible for reuse after 24 hours").
   */
  idempotencyWindowMs?: number;
  /**
   * In which order jobs that run at once apply their items: `oldest-first` (default: as they were
   * created) or `newest-first`, the adversarial order FullStory's docs allow (they promise none), so a
   * client that lets two jobs touching one uid run at once sees the older value win.
   */
  concurrentJobOrder?: 'oldest-first' | 'newest-first';
  /** Error messages (job error items, whole-batch 400s) quote the request's Authorization header, as a careless server might. */
  echoAuthorization?: boolean;
  /** Number of generated bundles published at start. Default 3 (0 when `fixturesDir` is set). */
  bundles?: number;
  /** Events per generated bundle: one number for all, or one number per bundle (cycled). Default 1000. */
  eventsPerBundle?: number | number[];
  /** Length of each bundle's [Start, Stop) window in hours (fractions allowed). Default 24. */
  bundleHours?: number;
  /** Start of the first bundle, ISO 8601. Default `2024-01-01T00:00:00Z` (fixed, so runs are reproducible). */
  firstBundle?: string;
  /** Id of the first generated bundle; the next ones count up by 1. Default 1000000. May exceed 2^53 (pass a bigint or a decimal string). */
  firstBundleId?: number | bigint | string;
  /** Seed of the event generator. Default 1. */
  seed?: number;
  /** Serve the bundles in this folder instead of generated ones (see README, "Fixture bundles"). */
  fixturesDir?: string;
  /** How bundle bodies are encoded. Default `'gzip'`. */
  downloadEncoding?: DownloadEncoding;
  /** Bundle downloads allowed per rolling minute before 429 with `Retry-After`. Default 2 (FullStory's limit); 0 = unlimited. */
  downloadsPerMinute?: number;
  /** Milliseconds a batch job spends in PROCESSING once it starts running. Default 1000. */
  jobLatencyMs?: number;
  /** Jobs that run at once; more are accepted and wait (FullStory: 100). */
  maxRunningJobs?: number;
  /** Unfinished jobs at which batch creation answers 429 (FullStory: 200). */
  maxInProgressJobs?: number;
  /** Unfinished request objects (summed over jobs) at which batch creation answers 429 (FullStory: 500,000). */
  maxInProgressOperations?: number;
  /** Most request objects in one batch; more answer 400 (FullStory: 50,000). */
  maxBatchRequests?: number;
  /** Items per page of `/imports` and `/errors`. Default 1000. */
  jobPageSize?: number;
  /** Largest request body accepted, in bytes; larger answer 413 `payload_too_large` (as a proxy in front of FullStory may). Default 128 MiB. */
  maxBodyBytes?: number;
  /** Keep every created event for `events()` (default true). Off for long benchmarks: only counts are kept. */
  retainEvents?: boolean;
  /** Most entries kept in the request log (oldest dropped first). Default 100,000. */
  maxRequestLog?: number;
  /** Fault rules armed at start. */
  faults?: FaultRule[];
  /** The Segment Export emulation: how long operations stay pending, how long locations live. */
  segmentExport?: SegmentExportOptions;
  /** Where log lines go. Default: nowhere (the bin passes a stderr writer). */
  logger?: (line: string) => void;
  /** Clock in ms since the epoch, for job timestamps and the download pace window. Default `Date.now`. */
  now?: () => number;
}

/** One published export bundle, as `GET /__sandbox/bundles` shows it. */
export interface BundleMeta {
  /** Bundle id (bigint when above 2^53). */
  id: number | bigint;
  /** Window start, unix seconds. */
  start: number;
  /** Window end, unix seconds (exclusive). */
  stop: number;
  /** Event count (generated bundles), or null for fixture files (not counted). */
  events: number | null;
  /** Where the body comes from. */
  source: 'generated' | 'fixture';
  /** Seed used for a generated bundle. */
  seed?: number;
  /** File served for a fixture bundle. */
  file?: string;
}

/** A user as stored by the sandbox (after upserts). */
export interface SandboxUser {
  id: string;
  uid?: string;
  display_name?: string;
  email?: string;
  properties: Record<string, unknown>;
  schema?: Record<string, unknown>;
  created: string;
  updated: string;
}

/** An event as stored by the sandbox (the accepted request, plus where it came from). */
export interface SandboxEvent {
  /** The request object as sent (after `shared` was merged in, for batches). */
  request: Record<string, unknown>;
  /** Resolved user id, when the event named a user. */
  user_id?: string;
  /** `single` for `POST /v2/events`, else the batch job id. */
  via: string;
  received: string;
}

/** One entry of the request log (`/__sandbox/requests`). Control routes are not logged. */
export interface RequestLogEntry {
  method: string;
  path: string;
  /** Query string including `?`, or empty. */
  query: string;
  /** Status sent, or 0 when the connection was reset / destroyed by a fault before a status. */
  status: number;
  /** Request headers, lower-cased, without `authorization`. */
  headers: Record<string, string | string[] | undefined>;
  /** ISO time the request arrived. */
  time: string;
  /** Fault applied to this request, if any. */
  fault?: FaultAction;
  /** The answer was the one saved under the request's `Idempotency-Key` (the endpoint did not run). */
  replayed?: boolean;
}

/**
 * What a fault rule does. `reject_items` and `drop_items` act on the batch job a matching
 * `POST /v2/{users|events}/batch` creates: its items whose JSON contains `match` fail (with `body`'s
 * `{code, message}`) or vanish (neither imported nor listed as errors). `fail` and `pending` apply to `POST /segments/v1/exports`: the operation it
 * creates ends FAILED, or stays PENDING for `ms`.
 */
export type FaultAction = 'status' | 'reset' | 'stall' | 'truncate' | 'reject_items' | 'drop_items' | ExportFaultAction | 'fail' | 'pending';

/**
 * Faults of the Data Export answers themselves (see README "Faults"): `stale_list` answers
 * `export/list` as if `start` were 0; `string_ids` lists each `Id` as a decimal string; `bad_event`
 * serves a generated bundle with event `index` replaced by `text`; `trailing_bytes` appends `text`
 * after the body (after the gzip data when gzipped).
 */
export type ExportFaultAction = 'stale_list' | 'string_ids' | 'bad_event' | 'trailing_bytes';

/**
 * A scripted fault. Matching requests (method, path prefix) get the fault instead of (or before)
 * the normal answer. See README "Faults" for examples.
 */
export interface FaultRule {
  /** HTTP method to match (case-insensitive); any when absent. */
  method?: string;
  /** Path prefix to match (query string ignored); any when absent. */
  path?: string;
  /** How many matching requests get the fault before the rule disarms. Default 1; unlimited when `probability` is set and `times` is not. */
  times?: number;
  /** `status` (default when `status` is set), `reset`, `stall`, `truncate`, or one of {@link ExportFaultAction}. */
  action?: FaultAction;
  /** Status to answer (action `status`). */
  status?: number;
  /**
   * Action `status`: the answer comes from the endpoint itself, after the `Idempotency-Key` layer, so
   * it is saved (or not) as the `idempotency` mode says and replayed to a retry with the same key.
   */
  endpoint?: boolean;
  /** Actions `reject_items` and `drop_items`: the items whose JSON contains this text. */
  match?: string;
  /** Headers to send with the status. */
  headers?: Record<string, string>;
  /** Body to send with the status: an object (sent as JSON) or a string. Default `{code, message}` for the status. For `reject_items`: the items' `{code, message}`; for `fail`: the operation's `errorDetails`. */
  body?: unknown;
  /** Stall length in ms (action `stall`): the answer is delayed, or paused after `after_bytes` when set. For `pending`: how long the operation stays PENDING. */
  ms?: number;
  /** For `truncate`: bytes of the body sent before the socket is destroyed. For `stall`: bytes sent before the pause. */
  after_bytes?: number;
  /** For `bad_event`: the 0-based index of the event to replace. */
  index?: number;
  /** For `bad_event` and `trailing_bytes`: the bytes, one per character (U+0000 to U+00FF, written as latin1). */
  text?: string;
  /** Apply to each matching request with this probability (drawn from a PRNG seeded by `seed`). */
  probability?: number;
  /** Seed for `probability` draws. Default 1. */
  seed?: number;
}

/** The handle returned by {@link startSandbox}. */
export interface Sandbox {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  /** Stops accepting connections, ends open ones and timers. */
  close(): Promise<void>;
  /** Users stored so far (after upserts). */
  users(): SandboxUser[];
  /** Events stored so far (empty when `retainEvents` is false). */
  events(): SandboxEvent[];
  /** Request log, oldest first. */
  requests(): RequestLogEntry[];
  /** Arms one or more fault rules (validated; throws on a bad rule). */
  addFaults(rules: FaultRule | FaultRule[]): void;
  /** Rules still armed. */
  faults(): FaultRule[];
  /** Disarms every fault rule. */
  clearFaults(): void;
  /** Forgets users, events, jobs, idempotency keys, the request log, faults and download history. Bundles stay. */
  reset(): void;
  /** Published bundles, oldest first. */
  bundles(): BundleMeta[];
  /** Publishes more generated bundles after the last one; returns them. */
  publishBundles(spec: PublishSpec): BundleMeta[];
  /** Batch jobs so far, oldest first (without their items). */
  jobs(): JobSummary[];
  /** High-water mark of unfinished (queued or running) batch jobs since start or the last reset. */
  maxConcurrentJobs(): number;
  /** Counters, as `GET /__sandbox/stats` returns them. */
  stats(): SandboxStats;
  /** Segment Exports so far, oldest first. */
  segmentExports(): SegmentExportSummary[];
}

/** A batch job as `GET /__sandbox/jobs` lists it. */
export interface JobSummary {
  id: string;
  kind: 'users' | 'events';
  status: 'PROCESSING' | 'COMPLETED' | 'FAILED';
  /** `queued` (waiting for a running slot), `running`, or `done`. */
  state: 'queued' | 'running' | 'done';
  created: string;
  finished?: string;
  requests: number;
  imports: number;
  errors: number;
}

/** Body of `POST /__sandbox/bundles`. */
export interface PublishSpec {
  /** How many bundles (default 1, or the length of `events` when it is an array). */
  count?: number;
  /** Events per bundle: one number, or one per bundle. Default: the sandbox's `eventsPerBundle`. */
  events?: number | number[];
  /** Window length in hours. Default: the sandbox's `bundleHours`. */
  hours?: number;
}

/** Counters returned by `GET /__sandbox/stats`. */
export interface SandboxStats {
  users: number;
  events: number;
  requests: number;
  downloads: number;
  jobs: { total: number; queued: number; running: number; completed: number; failed: number; maxConcurrent: number };
}
