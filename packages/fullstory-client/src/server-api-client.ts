import { parseJson, stringifyJson } from '@fullstory-singer/singer-core';
import { ApiError } from './errors.js';
import { FullStoryApi } from './api-base.js';
import type { JsonResponse, RequestSpec } from './http-core.js';
import type { ClientOptions } from './options.js';

/** The two batch import APIs of Server API v2. */
export type JobKind = 'users' | 'events';

/** A batch import job's state (`GET /v2/{kind}/batch/{id}`). */
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

/**
 * Server API v2 batch imports: create a job, poll it, page through its errors and imports.
 * Errors: `AuthError` (401/403), `ApiError` (other refusals), `UnavailableError` (retries exhausted).
 */
export class ServerApiClient extends FullStoryApi {
  constructor(options: ClientOptions) {
    super(options);
  }

  /**
   * `POST /v2/{kind}/batch` with `Idempotency-Key: <idempotencyKey>`, the same key on every retry so
   * a retried request cannot create a second job. `bigint` values in the body are sent as exact integers.
   */
  async createBatch(kind: JobKind, body: { requests: unknown[] }, idempotencyKey: string): Promise<{ id: string; status: string }> {
    const spec: RequestSpec = {
      method: 'POST',
      path: `/v2/${kind}/batch`,
      body: stringifyJson(body),
      headers: { 'idempotency-key': idempotencyKey },
      endpoint: `${kind}/batch`,
    };
    const job = field(spec, objectBody(spec, await this.http.requestJson(spec)), 'job');
    const { id, status } = (job ?? {}) as { id?: unknown; status?: unknown };
    if (typeof id !== 'string' || id === '') throw unexpected(spec, 200, 'no job.id');
    return { id, status: typeof status === 'string' ? status : 'PROCESSING' };
  }

  /** `GET /v2/{kind}/batch/{jobId}`: the job's status and counts. */
  async getJob(kind: JobKind, jobId: string): Promise<JobStatus> {
    const spec: RequestSpec = { method: 'GET', path: `/v2/${kind}/batch/${encodeURIComponent(jobId)}`, endpoint: `${kind}/batch/status` };
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
   * `GET /v2/{kind}/batch/{jobId}/errors?page_token=`: one page of failed requests, or `'processing'`
   * while the job still runs (FullStory answers 202 with an empty body then).
   */
  async getJobErrors(kind: JobKind, jobId: string, pageToken?: string): Promise<Page<ErrorItem> | 'processing'> {
    const page = await this.listPage(kind, jobId, 'errors', pageToken);
    if (page === 'processing') return page;
    return { ...page, results: page.results.map((item) => toErrorItem(item)) };
  }

  /**
   * `GET /v2/{kind}/batch/{jobId}/imports?page_token=`: one page of imported items, or `'processing'`
   * while the job still runs (202).
   */
  async getJobImports(kind: JobKind, jobId: string, pageToken?: string): Promise<Page<unknown> | 'processing'> {
    return this.listPage(kind, jobId, 'imports', pageToken);
  }

  private async listPage(kind: JobKind, jobId: string, list: 'errors' | 'imports', pageToken?: string): Promise<Page<unknown> | 'processing'> {
    const spec: RequestSpec = {
      method: 'GET',
      path: `/v2/${kind}/batch/${encodeURIComponent(jobId)}/${list}`,
      // The parameter is `page_token`, as @fullstory/server-api-client sends it since 1.0.0-beta.5 (it had been misspelt).
      searchParams: pageToken === undefined ? undefined : { page_token: pageToken },
      endpoint: `${kind}/batch/${list}`,
    };
    const response = await this.http.requestJson(spec);
    if (response.status === 202) return 'processing';
    const body = objectBody(spec, response);
    const results = body.results ?? [];
    if (!Array.isArray(results)) throw unexpected(spec, response.status, '"results" is not an array');
    const token = body.next_page_token;
    return typeof token === 'string' && token !== '' ? { results, nextPageToken: token } : { results };
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
