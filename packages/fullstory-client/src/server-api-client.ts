import { parseJson } from '@fullstory-singer/singer-core';
import { ApiError, scrub } from './errors.js';
import { HttpCore, type JsonResponse, type RequestSpec } from './http-core.js';
import type { ClientOptions } from './options.js';

/** The two batch import APIs of Server API v2. */
type JobKind = 'users' | 'events';

/** A batch import job's state (`GET /v2/{kind}/batch/{id}`). */
/** A batch create's answer. */
export interface CreatedJob {
  id: string;
  status: string;
  /**
   * When FullStory made the job (its `created`, in ms since the epoch), when it says. A create answered
   * from FullStory's idempotency store carries the first answer, so the time the job was first made.
   */
  createdMs?: number;
}

export interface JobStatus {
  id: string;
  /** `PROCESSING`, `COMPLETED`, or `FAILED` (which includes partial failure). */
  status: 'PROCESSING' | 'COMPLETED' | 'FAILED' | string;
  /** Requests imported, once known. */
  imports?: number;
  /** Requests that failed; FullStory sends it only for failed jobs. */
  errors?: number;
}

/** One failed request of a job: FullStory's error and the request it echoes (`user` or `event`). */
export interface ErrorItem {
  code: string;
  message: string;
  user?: Record<string, unknown>;
  event?: Record<string, unknown>;
}

/** One page of a job's errors or imports. */
export interface Page<T> {
  results: T[];
  /** Pass back as `pageToken` for the next page; absent on the last page. */
  nextPageToken?: string;
}

/** Options of each call. */
interface CallOptions {
  /** Aborts the call (and its retries); it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * FullStory refused a whole batch for what it holds: 400 (an invalid item, when FullStory checks items
 * at creation; https://developer.fullstory.com/server/users/create-batch-user-import-job) or 413
 * (the body is too large, usually from a proxy: FullStory publishes no byte limit). Retrying the same
 * body cannot help; smaller batches may.
 */
export class BatchRefusedError extends ApiError {
  /** True for 413 (too large), false for 400 (invalid content). */
  readonly tooLarge: boolean;
  /** FullStory's error message (or a description of a body that was not FullStory's), key removed. */
  readonly apiMessage: string;

  constructor(message: string, details: { status: number; apiCode: string; apiMessage: string }) {
    super(message, { status: details.status, apiCode: details.apiCode });
    this.tooLarge = details.status === 413;
    this.apiMessage = details.apiMessage;
  }
}

/** Statuses of a batch create that mean "this body, never": see {@link BatchRefusedError}. */
const REFUSED = [400, 413] as const;
/** A job's `/errors` and `/imports` list user data, which a Standard key may not view. */
const RESULTS_FORBIDDEN = [403] as const;

/**
 * Server API v2 batch imports: create a job, poll it, page through its errors and imports.
 * Errors: `BatchRefusedError` (400/413 on create), `AuthError` (401/403), `ApiError` (other refusals),
 * `UnavailableError` (retries exhausted); with `signal` aborted, the signal's reason.
 */
export class ServerApiClient {
  private readonly http: HttpCore;

  constructor(private readonly options: ClientOptions) {
    this.http = new HttpCore(options);
  }

  /**
   * `POST /v2/{kind}/batch` of `body` (the JSON `{"requests": [...]}` as text or UTF-8 bytes, serialised
   * by the caller so that it can build it once, e.g. with exact big integers), the same bytes on every
   * retry, with `Idempotency-Key: <idempotencyKeys(i)>`. `i` starts at 0 and moves on only after a 500,
   * which FullStory saves under its key (see KeyWalk): so a retry keeps the key and cannot create a
   * second job, and a 500 does not stop the create for 24 hours.
   * @throws BatchRefusedError on 400 or 413
   */
  async createBatch(
    kind: JobKind,
    body: string | Buffer,
    idempotencyKeys: (index: number) => string,
    options: CallOptions = {},
  ): Promise<CreatedJob> {
    const spec: RequestSpec = {
      method: 'POST',
      path: `/v2/${kind}/batch`,
      body,
      idempotencyKey: idempotencyKeys,
      endpoint: `${kind}/batch`,
      passStatuses: REFUSED,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const response = await this.http.requestJson(spec);
    if (response.status === 400 || response.status === 413) throw this.refused(spec, response);
    const job = field(spec, objectBody(spec, response), 'job');
    const { id, status, created } = (job ?? {}) as { id?: unknown; status?: unknown; created?: unknown };
    if (typeof id !== 'string' || id === '') throw unexpected(spec, 200, 'no job.id');
    const result: CreatedJob = { id, status: typeof status === 'string' ? status : 'PROCESSING' };
    const createdMs = typeof created === 'string' ? Date.parse(created) : NaN;
    if (Number.isFinite(createdMs)) result.createdMs = createdMs;
    return result;
  }

  /** `GET /v2/{kind}/batch/{jobId}`: the job's status and counts. */
  async getJob(kind: JobKind, jobId: string, options: CallOptions = {}): Promise<JobStatus> {
    const spec: RequestSpec = {
      method: 'GET',
      path: `/v2/${kind}/batch/${encodeURIComponent(jobId)}`,
      endpoint: `${kind}/batch/status`,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const body = objectBody(spec, await this.http.requestJson(spec));
    const job = (field(spec, body, 'job') ?? {}) as { id?: unknown; status?: unknown };
    if (typeof job.status !== 'string') throw unexpected(spec, 200, 'no job.status');
    const result: JobStatus = { id: typeof job.id === 'string' ? job.id : jobId, status: job.status };
    const imports = count(body.imports);
    const errors = count(body.errors);
    if (imports !== undefined) result.imports = imports;
    if (errors !== undefined) result.errors = errors;
    return result;
  }

  /**
   * `GET /v2/{kind}/batch/{jobId}/errors?page_token=`: one page of failed requests; `'processing'`
   * while the job still runs (FullStory answers 202 with an empty body then); `'forbidden'` when the
   * key may not read job results (403: the list holds user data, which a Standard key may not view).
   */
  async getJobErrors(kind: JobKind, jobId: string, pageToken?: string, options: CallOptions = {}): Promise<Page<ErrorItem> | 'processing' | 'forbidden'> {
    const page = await this.listPage(kind, jobId, 'errors', pageToken, options);
    if (typeof page === 'string') return page;
    return { ...page, results: page.results.map((item) => toErrorItem(item)) };
  }

  /**
   * `GET /v2/{kind}/batch/{jobId}/imports?page_token=`: one page of imported items; `'processing'`
   * (202) or `'forbidden'` (403) as for {@link getJobErrors}.
   */
  async getJobImports(kind: JobKind, jobId: string, pageToken?: string, options: CallOptions = {}): Promise<Page<unknown> | 'processing' | 'forbidden'> {
    return this.listPage(kind, jobId, 'imports', pageToken, options);
  }

  private async listPage(
    kind: JobKind,
    jobId: string,
    list: 'errors' | 'imports',
    pageToken: string | undefined,
    options: CallOptions,
  ): Promise<Page<unknown> | 'processing' | 'forbidden'> {
    const spec: RequestSpec = {
      method: 'GET',
      path: `/v2/${kind}/batch/${encodeURIComponent(jobId)}/${list}`,
      // The parameter is `page_token` (https://developer.fullstory.com/server/users/get-batch-user-import-errors/).
      searchParams: pageToken === undefined ? undefined : { page_token: pageToken },
      endpoint: `${kind}/batch/${list}`,
      passStatuses: RESULTS_FORBIDDEN,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const response = await this.http.requestJson(spec);
    if (response.status === 202) return 'processing';
    if (response.status === 403) return 'forbidden';
    const body = objectBody(spec, response);
    const results = body.results ?? [];
    if (!Array.isArray(results)) throw unexpected(spec, response.status, '"results" is not an array');
    const token = body.next_page_token;
    return typeof token === 'string' && token !== '' ? { results, nextPageToken: token } : { results };
  }

  private refused(spec: RequestSpec, response: JsonResponse): BatchRefusedError {
    const { code, message } = errorFields(response.text);
    const tooLarge = response.status === 413;
    const apiCode = code ?? (tooLarge ? 'payload_too_large' : 'invalid_argument');
    const apiMessage = scrub(message ?? (tooLarge ? 'request body too large' : 'invalid request'), this.options.apiKey).slice(0, 500);
    return new BatchRefusedError(`${spec.method} ${spec.path}: FullStory refused the batch (${response.status}): ${apiCode}: ${apiMessage}`, {
      status: response.status,
      apiCode,
      apiMessage,
    });
  }
}

/** `code` and `message` of a FullStory error body `{"code", "message"}`, when it is one. */
function errorFields(text: string): { code?: string; message?: string } {
  try {
    const body = JSON.parse(text) as unknown;
    if (!isRecord(body)) return {};
    return {
      ...(typeof body.code === 'string' && body.code !== '' ? { code: body.code } : {}),
      ...(typeof body.message === 'string' && body.message !== '' ? { message: body.message } : {}),
    };
  } catch {
    return {};
  }
}

function unexpected(spec: RequestSpec, status: number, why: string): ApiError {
  return new ApiError(`${spec.method} ${spec.path}: unexpected answer from FullStory: ${why}`, {
    status,
    apiCode: 'unexpected_response',
  });
}

function objectBody(spec: RequestSpec, response: JsonResponse): Record<string, unknown> {
  let body: unknown;
  try {
    body = parseJson(response.text);
  } catch {
    throw unexpected(spec, response.status, 'not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw unexpected(spec, response.status, 'not a JSON object');
  return body as Record<string, unknown>;
}

function field(spec: RequestSpec, body: Record<string, unknown>, name: string): unknown {
  const value = body[name];
  if (typeof value !== 'object' || value === null) throw unexpected(spec, 200, `no "${name}" object`);
  return value;
}

/** Counts are int32 in the spec, but int64 values travel as strings in v2 JSON; accept both. */
function count(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

function toErrorItem(raw: unknown): ErrorItem {
  const item = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const result: ErrorItem = {
    code: typeof item.code === 'string' ? item.code : '',
    message: typeof item.message === 'string' ? item.message : '',
  };
  if (isRecord(item.user)) result.user = item.user;
  if (isRecord(item.event)) result.event = item.event;
  return result;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
