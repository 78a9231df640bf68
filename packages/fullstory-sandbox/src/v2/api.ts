/**
 * Server API v2 routes (https://developer.fullstory.com/server/v2/), under `/v2` (and the `/v2beta` mirror):
 *
 * POST /users, POST /users/{id}, GET /users/{id}, GET /users?uid=|email=, POST /events,
 * POST /{users|events}/batch, GET /{users|events}/batch/{job}, .../imports, .../errors.
 *
 * Handlers return a {@link Reply} instead of writing, so `Idempotency-Key` replay can store and
 * resend the exact status and body.
 */
import { createHash } from 'node:crypto';
import { HttpError, defaultErrorBody, sendJson, send, type Exchange } from '../http.js';
import { parseJsonLossless, stringifyJson } from '../json.js';
import type { JobSummary, SandboxEvent, SandboxOptions, SandboxUser } from '../types.js';
import { JobManager, echoed, itemFaults, type ItemFaults, type Job, type JobKind } from './jobs.js';
import { Store } from './store.js';
import { validateEvent, validateUser } from './validate.js';

/**
 * What the request's key may do: everything (`admin`, FullStory's Admin or Architect), create and read
 * batch status (`standard`), only read (`read`), or nothing.
 */
export type Permission = 'admin' | 'standard' | 'read' | 'none';

interface ApiSettings {
  now: () => number;
  jobLatencyMs: number;
  maxRunningJobs: number;
  maxInProgressJobs: number;
  maxInProgressOperations: number;
  maxBatchRequests: number;
  pageSize: number;
  retainEvents: boolean;
  jobStatusWithErrors: NonNullable<SandboxOptions['jobStatusWithErrors']>;
  concurrentJobOrder: NonNullable<SandboxOptions['concurrentJobOrder']>;
  invalidItems: NonNullable<SandboxOptions['invalidItems']>;
  idempotency: NonNullable<SandboxOptions['idempotency']>;
  /** How long a saved `Idempotency-Key` answer is kept, in ms. */
  idempotencyWindowMs: number;
  echoAuthorization: boolean;
}

/**
 * An answer, kept whole so `Idempotency-Key` replay can resend it. `gate`: answered before the
 * endpoint ran (a rate limit), so never saved under a key.
 */
interface Reply { status: number; body?: unknown; headers?: Record<string, string>; gate?: boolean }

/** What a POST handler gets beside its parsed body. */
interface PostContext {
  faults: ItemFaults;
  /** The request's Authorization header, when error messages are to echo it. */
  echo?: string;
}

interface StoredReply { hash: string; reply: Reply; time: number }

const BATCH_STATUS = /^\/(users|events)\/batch\/[^/]+$/;
const IDEMPOTENT_PATHS = new Set(['/users', '/users/batch', '/events', '/events/batch']);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const error = (status: number, code: string, message: string, headers?: Record<string, string>): Reply => ({ status, body: { code, message }, headers });

export class ServerApi {
  private readonly store: Store;
  private readonly jobs: JobManager;
  private idempotency = new Map<string, StoredReply>();

  constructor(private readonly settings: ApiSettings) {
    this.store = new Store(settings.retainEvents, settings.now);
    this.jobs = new JobManager(this.store, settings);
  }

  users(): SandboxUser[] {
    return this.store.users();
  }

  events(): SandboxEvent[] {
    return this.store.events();
  }

  userCount(): number {
    return this.store.userCount();
  }

  eventCount(): number {
    return this.store.eventCount();
  }

  maxConcurrentJobs(): number {
    return this.jobs.maxConcurrent();
  }

  jobSummaries(): JobSummary[] {
    return this.jobs.summaries();
  }

  jobStats(): ReturnType<JobManager['stats']> {
    return this.jobs.stats();
  }

  reset(): void {
    this.jobs.reset();
    this.store.reset();
    this.idempotency = new Map();
  }

  close(): void {
    this.jobs.reset();
  }

  async handle(x: Exchange, permission: Permission, body: () => Promise<Buffer>): Promise<void> {
    const path = x.path.replace(/^\/v2(beta)?/, '');
    if (x.method === 'POST' && permission === 'read') throw new HttpError(403, 'forbidden', 'insufficient permissions: this key may not write');
    if (x.method === 'GET' && permission === 'standard' && !BATCH_STATUS.test(path)) {
      // A Standard key may create batch imports and read their status, not view user data.
      throw new HttpError(403, 'forbidden', 'insufficient permissions: viewing user data needs an Architect or Admin key');
    }
    const reply = x.method === 'POST' ? await this.post(x, path, body) : this.get(x, path);
    if (reply.status === 202 && reply.body === undefined) {
      await send(x, 202, { 'content-length': 0 });
      return;
    }
    await sendJson(x, reply.status, reply.body ?? {}, reply.headers);
  }

  private async post(x: Exchange, path: string, body: () => Promise<Buffer>): Promise<Reply> {
    const raw = await body();
    const authorization = x.req.headers.authorization;
    const ctx: PostContext = {
      faults: itemFaults(x.endpointFault),
      ...(this.settings.echoAuthorization && typeof authorization === 'string' ? { echo: authorization } : {}),
    };
    const key = x.req.headers['idempotency-key'];
    const idempotencyKey = typeof key === 'string' && key !== '' && IDEMPOTENT_PATHS.has(path) ? `${path} ${key}` : undefined;
    if (idempotencyKey === undefined) return this.execute(x, path, raw, ctx);
    const hash = createHash('sha256').update(raw).digest('hex');
    this.forgetExpired();
    const stored = this.idempotency.get(idempotencyKey);
    if (stored !== undefined) {
      if (stored.hash !== hash) return error(400, 'idempotency_key_reused', 'Idempotency-Key was already used with a different request body');
      if (x.entry) x.entry.replayed = true;
      return stored.reply;
    }
    const reply = this.execute(x, path, raw, ctx);
    if (this.saves(reply)) this.idempotency.set(idempotencyKey, { hash, reply, time: this.settings.now() });
    return reply;
  }

  /**
   * Forgets the answers older than the window ("eligible for reuse after 24 hours ... automatically
   * removed", https://developer.fullstory.com/server/idempotent-requests/). The map holds them in the
   * order they were saved, so the expired ones are at its front.
   */
  private forgetExpired(): void {
    const oldest = this.settings.now() - this.settings.idempotencyWindowMs;
    for (const [key, stored] of this.idempotency) {
      if (stored.time > oldest) return;
      this.idempotency.delete(key);
    }
  }

  /**
   * Whether an answer is saved under its `Idempotency-Key`. Production docs: "the resulting status code
   * and body of the response for the first request ... regardless of whether it succeeded or failed",
   * 500s included (https://developer.fullstory.com/server/idempotent-requests/). Staging docs: not
   * "429 errors or server errors above 500, which can be retried". Neither saves an answer given
   * before the endpoint ran.
   */
  private saves(reply: Reply): boolean {
    if (reply.gate === true) return false;
    return this.settings.idempotency === 'production' || (reply.status !== 429 && reply.status < 500);
  }

  /** The endpoint: a scripted endpoint answer, or the route's real work. */
  private execute(x: Exchange, path: string, raw: Buffer, ctx: PostContext): Reply {
    const fault = x.endpointFault;
    if (fault?.action === 'status') {
      const rule = fault.rule;
      return { status: rule.status!, body: rule.body ?? defaultErrorBody(rule.status!), headers: { ...(rule.headers ?? {}) } };
    }
    return this.postFresh(path, raw, ctx);
  }

  private postFresh(path: string, raw: Buffer, ctx: PostContext): Reply {
    let parsed: unknown;
    try {
      parsed = parseJsonLossless(raw.toString('utf8'));
    } catch {
      return error(400, 'invalid_argument', 'request body is not valid JSON');
    }
    if (path === '/users') return this.createUser(parsed);
    if (path === '/events') return this.createEvent(parsed);
    if (path === '/users/batch') return this.createBatch('users', parsed, ctx);
    if (path === '/events/batch') return this.createBatch('events', parsed, ctx);
    const update = /^\/users\/([^/]+)$/.exec(path);
    if (update) return this.updateUser(decodeURIComponent(update[1]!), parsed);
    return error(404, 'resource_not_found', `no route for POST /v2${path}`);
  }

  private createUser(req: unknown): Reply {
    const problem = validateUser(req, false);
    if (problem) return error(400, problem.code, problem.message);
    const result = this.store.upsertUser(req as Record<string, unknown>);
    if ('code' in result) return error(400, result.code, result.message);
    return { status: 200, body: { id: result.id } };
  }

  private updateUser(id: string, req: unknown): Reply {
    const problem = validateUser(req, false);
    if (problem) return error(400, problem.code, problem.message);
    const result = this.store.upsertUser(req as Record<string, unknown>, id);
    if ('code' in result) return error(result.code === 'user_not_found' ? 404 : 400, result.code, result.message);
    return { status: 200, body: { id: result.id } };
  }

  private createEvent(req: unknown): Reply {
    const problem = validateEvent(req, false);
    if (problem) return error(400, problem.code, problem.message);
    const r = { ...(req as Record<string, unknown>) };
    if (r.timestamp === undefined) r.timestamp = new Date(this.settings.now()).toISOString();
    const added = this.store.addEvent(r, 'single');
    if ('code' in added) return error(404, added.code as string, added.message as string);
    return { status: 200, body: {} };
  }

  private createBatch(kind: JobKind, body: unknown, ctx: PostContext): Reply {
    if (!isObject(body) || !Array.isArray(body.requests)) return error(400, 'invalid_argument', 'body must be {"requests": [...]}');
    const requests = body.requests;
    if (requests.length === 0) return error(400, 'required_field', 'requests must hold at least one item');
    if (requests.length > this.settings.maxBatchRequests) {
      return error(400, 'too_many_requests_in_batch', `a batch holds at most ${this.settings.maxBatchRequests} requests`);
    }
    if (body.shared !== undefined && (kind !== 'events' || !isObject(body.shared))) {
      return error(400, 'invalid_argument', kind === 'events' ? 'shared must be an object' : 'shared is only accepted for events');
    }
    const jobs = this.jobs.unfinishedJobs();
    const ops = this.jobs.unfinishedOperations();
    if (jobs >= this.settings.maxInProgressJobs || (ops > 0 && ops + requests.length > this.settings.maxInProgressOperations)) {
      const wait = String(Math.max(1, Math.ceil(this.settings.jobLatencyMs / 1000)));
      const limited = error(429, 'too_many_requests', `too many batch imports in progress (${jobs} jobs, ${ops} operations)`, { 'retry-after': wait });
      return { ...limited, gate: true };
    }
    const shared = body.shared as Record<string, unknown> | undefined;
    if (this.settings.invalidItems === 'batch') {
      // The other reading of the docs: the create itself answers 400 for an invalid item.
      const sharedContext = isObject(shared) && shared.context !== undefined;
      for (let i = 0; i < requests.length; i++) {
        const req = requests[i];
        const problem = ctx.faults.rejects(req) ?? (kind === 'users' ? validateUser(req, true) : validateEvent(req, sharedContext));
        if (problem) return error(400, problem.code, `requests[${i}]: ${problem.message}${echoed(ctx.echo)}`);
      }
    }
    const job = this.jobs.create(kind, requests, shared, ctx);
    return { status: 200, body: { job: { id: job.id, status: job.status, created: job.created } } };
  }

  private get(x: Exchange, path: string): Reply {
    if (x.method !== 'GET') return error(404, 'resource_not_found', `no route for ${x.method} /v2${path}`);
    const m = /^\/(users|events)\/batch\/([^/]+)(?:\/(imports|errors))?$/.exec(path);
    if (m) {
      const kind = m[1] as JobKind;
      const job = this.jobs.get(kind, decodeURIComponent(m[2]!));
      if (job === undefined) return error(404, 'resource_not_found', `no ${kind} import job ${m[2]}`);
      if (m[3] === undefined) return { status: 200, body: this.jobStatus(job) };
      return this.jobPage(job, m[3] as 'imports' | 'errors', x.query.get('page_token') ?? undefined);
    }
    const one = /^\/users\/([^/]+)$/.exec(path);
    if (one) {
      const user = this.store.getUser(decodeURIComponent(one[1]!));
      if (user === undefined) return error(404, 'user_not_found', `no user with id ${one[1]}`);
      return { status: 200, body: this.userView(user) };
    }
    if (path === '/users') {
      const uid = x.query.get('uid');
      const email = x.query.get('email');
      const results = this.store.users().filter((u) => (uid === null || u.uid === uid) && (email === null || u.email === email));
      return { status: 200, body: { results: results.map((u) => this.userView(u)), total_records: String(results.length) } };
    }
    return error(404, 'resource_not_found', `no route for GET /v2${path}`);
  }

  private userView(u: SandboxUser): Record<string, unknown> {
    return { id: u.id, uid: u.uid, display_name: u.display_name, email: u.email, is_being_deleted: false, properties: u.properties };
  }

  private jobStatus(job: Job): Record<string, unknown> {
    const head = { id: job.id, status: job.status, created: job.created, ...(job.finished ? { finished: job.finished } : {}) };
    if (job.status === 'PROCESSING') return { job: head };
    // `errors` "only included for failed imports" (the spec), and on a COMPLETED job with errors (the docs' example).
    const errors = job.status === 'FAILED' || job.errors.length > 0 ? { errors: job.errors.length } : {};
    return { imports: job.imports.length, ...errors, job: head };
  }

  /** One page of imports or errors; 202 with no body while the job is processing. */
  private jobPage(job: Job, list: 'imports' | 'errors', token: string | undefined): Reply {
    if (job.status === 'PROCESSING') return { status: 202 };
    let offset = 0;
    if (token !== undefined && token !== '') {
      const decoded = decodeToken(token);
      if (decoded === undefined || decoded.job !== job.id || decoded.list !== list) return error(400, 'invalid_argument', 'invalid page_token');
      offset = decoded.offset;
    }
    const items = list === 'imports' ? job.imports : job.errors;
    const results = items.slice(offset, offset + this.settings.pageSize);
    const next = offset + results.length;
    return {
      status: 200,
      body: {
        results, total_records: String(items.length),
        ...(next < items.length ? { next_page_token: encodeToken({ job: job.id, list, offset: next }) } : {}),
      },
    };
  }
}

interface PageToken { job: string; list: string; offset: number }

function encodeToken(t: PageToken): string {
  return Buffer.from(stringifyJson(t)).toString('base64url');
}

function decodeToken(token: string): PageToken | undefined {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PageToken;
    return typeof t.job === 'string' && typeof t.list === 'string' && Number.isInteger(t.offset) && t.offset >= 0 ? t : undefined;
  } catch {
    return undefined;
  }
}
