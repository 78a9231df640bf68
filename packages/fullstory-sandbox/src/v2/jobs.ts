/**
 * Batch import jobs. A job is accepted (PROCESSING), waits for one of `maxRunningJobs` slots
 * (FullStory runs 100 at once and queues the rest), runs for `jobLatencyMs`, then processes its
 * items: valid ones are imported (users upserted, events stored), invalid ones become error items
 * echoing the original request. The job ends COMPLETED, or, if any item failed, FAILED (the API
 * spec) or COMPLETED with errors (FullStory's Asynchronous Workflows page), as the run is set.
 * Item faults (`reject_items`, `drop_items`) make matching items fail or vanish.
 */
import { randomBytes } from 'node:crypto';
import { stringifyJson } from '../json.js';
import type { FaultRule, JobSummary, SandboxOptions } from '../types.js';
import type { Store } from './store.js';
import { validateEvent, validateUser, type Problem } from './validate.js';

/** The item faults of one batch create. */
export interface ItemFaults {
  /** The problem a `reject_items` fault gives this item, if it matches. */
  rejects(req: unknown): Problem | undefined;
  /** Whether a `drop_items` fault makes this item vanish. */
  drops(req: unknown): boolean;
}

/** The item faults an endpoint fault (if any) asks for. */
export function itemFaults(fault: { action: string; rule: FaultRule } | undefined): ItemFaults {
  const match = fault?.rule.match;
  const hit = (req: unknown): boolean => match !== undefined && stringifyJson(req).includes(match);
  const body = (fault?.rule.body ?? {}) as { code?: unknown; message?: unknown };
  const problem: Problem = {
    code: typeof body.code === 'string' ? body.code : 'invalid_argument',
    message: typeof body.message === 'string' ? body.message : 'rejected by a sandbox fault',
  };
  return {
    rejects: (req) => (fault?.action === 'reject_items' && hit(req) ? problem : undefined),
    drops: (req) => fault?.action === 'drop_items' && hit(req),
  };
}

/** ` (request Authorization: ...)`, a careless server's echo of the header, or nothing. */
export function echoed(authorization: string | undefined): string {
  return authorization === undefined ? '' : ` (request Authorization: ${authorization})`;
}

export type JobKind = 'users' | 'events';

export interface Job {
  id: string;
  kind: JobKind;
  status: 'PROCESSING' | 'COMPLETED' | 'FAILED';
  created: string;
  finished?: string;
  /** The items, until the job is processed (then released; `requestCount` stays). */
  requests: unknown[];
  requestCount: number;
  shared?: Record<string, unknown>;
  imports: unknown[];
  errors: Record<string, unknown>[];
  state: 'queued' | 'running' | 'done';
  timer?: NodeJS.Timeout;
  /** Item faults of the create, and the Authorization header to echo in error messages. */
  faults: ItemFaults;
  echo?: string;
  /** Its running time is over; it finishes as soon as the apply order lets it. */
  elapsed?: boolean;
}

interface JobSettings {
  jobLatencyMs: number;
  maxRunningJobs: number;
  now: () => number;
  jobStatusWithErrors: NonNullable<SandboxOptions['jobStatusWithErrors']>;
  concurrentJobOrder: NonNullable<SandboxOptions['concurrentJobOrder']>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isProblem = (v: unknown): v is Problem => isObject(v) && typeof v.code === 'string' && typeof v.message === 'string' && !('id' in v);

export class JobManager {
  private jobs = new Map<string, Job>();
  private queue: Job[] = [];
  private running = 0;
  /** Running jobs, oldest first. */
  private runningJobs: Job[] = [];
  private unfinishedOps = 0;
  private highWater = 0;
  private completed = 0;
  private failed = 0;

  constructor(private readonly store: Store, private readonly settings: JobSettings) {}

  /** Jobs not finished yet (queued or running). */
  unfinishedJobs(): number {
    return this.queue.length + this.running;
  }

  /** Request objects in unfinished jobs. */
  unfinishedOperations(): number {
    return this.unfinishedOps;
  }

  maxConcurrent(): number {
    return this.highWater;
  }

  get(kind: JobKind, id: string): Job | undefined {
    const job = this.jobs.get(id);
    return job?.kind === kind ? job : undefined;
  }

  create(kind: JobKind, requests: unknown[], shared: Record<string, unknown> | undefined, extras: { faults: ItemFaults; echo?: string }): Job {
    const job: Job = {
      id: randomBytes(9).toString('base64url'), kind, status: 'PROCESSING', created: new Date(this.settings.now()).toISOString(),
      requests, requestCount: requests.length, shared, imports: [], errors: [], state: 'queued',
      faults: extras.faults, ...(extras.echo !== undefined ? { echo: extras.echo } : {}),
    };
    this.jobs.set(job.id, job);
    this.queue.push(job);
    this.unfinishedOps += requests.length;
    this.highWater = Math.max(this.highWater, this.unfinishedJobs());
    this.schedule();
    return job;
  }

  /** Every job, oldest first, without items. */
  summaries(): JobSummary[] {
    return [...this.jobs.values()].map((j) => ({
      id: j.id, kind: j.kind, status: j.status, state: j.state, created: j.created, ...(j.finished ? { finished: j.finished } : {}),
      requests: j.requestCount, imports: j.imports.length, errors: j.errors.length,
    }));
  }

  stats(): { total: number; queued: number; running: number; completed: number; failed: number; maxConcurrent: number } {
    return { total: this.jobs.size, queued: this.queue.length, running: this.running, completed: this.completed, failed: this.failed, maxConcurrent: this.highWater };
  }

  /** Stops timers and forgets every job. */
  reset(): void {
    for (const job of this.jobs.values()) clearTimeout(job.timer);
    this.jobs = new Map();
    this.queue = [];
    this.running = 0;
    this.runningJobs = [];
    this.unfinishedOps = 0;
    this.highWater = 0;
    this.completed = 0;
    this.failed = 0;
  }

  private schedule(): void {
    while (this.running < this.settings.maxRunningJobs && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      this.runningJobs.push(job);
      job.state = 'running';
      job.timer = setTimeout(() => {
        job.timer = undefined;
        job.elapsed = true;
        this.finishElapsed();
      }, this.settings.jobLatencyMs);
      job.timer.unref();
    }
  }

  /**
   * Finish the jobs whose time is over, in the run's apply order. FullStory promises no order between
   * jobs that run at once; `newest-first` plays the adversarial one: a job does not finish while a job
   * created after it still runs, so its updates land last.
   */
  private finishElapsed(): void {
    if (this.settings.concurrentJobOrder === 'oldest-first') {
      for (const job of this.runningJobs.filter((j) => j.elapsed)) this.finish(job);
      return;
    }
    for (;;) {
      const newest = this.runningJobs[this.runningJobs.length - 1];
      if (newest === undefined || newest.elapsed !== true) return;
      this.finish(newest);
    }
  }

  private finish(job: Job): void {
    this.runningJobs.splice(this.runningJobs.indexOf(job), 1);
    if (job.kind === 'users') this.processUsers(job);
    else this.processEvents(job);
    job.status = job.errors.length > 0 ? this.settings.jobStatusWithErrors : 'COMPLETED';
    if (job.status === 'FAILED') this.failed++;
    else this.completed++;
    job.finished = new Date(this.settings.now()).toISOString();
    job.state = 'done';
    this.running--;
    this.unfinishedOps -= job.requestCount;
    // Imports and errors keep what they need; drop the rest so long runs stay lighter.
    job.requests = [];
    this.schedule();
  }

  private processUsers(job: Job): void {
    for (const req of job.requests) {
      if (job.faults.drops(req)) continue;
      const problem = job.faults.rejects(req) ?? validateUser(req, true);
      const result = problem ?? this.store.upsertUser(req as Record<string, unknown>, (req as { id?: string }).id);
      if (isProblem(result)) {
        job.errors.push({ code: result.code, message: result.message + echoed(job.echo), user: req });
        continue;
      }
      job.imports.push({
        id: result.id, uid: result.uid, display_name: result.display_name, email: result.email,
        // The properties this request set (not the merged user), as the docs' example shows.
        properties: (req as { properties?: unknown }).properties ?? {}, schema: null, type_conflicts: null,
      });
    }
  }

  private processEvents(job: Job): void {
    const sharedContext = isObject(job.shared) && job.shared.context !== undefined;
    for (const req of job.requests) {
      if (job.faults.drops(req)) continue;
      const problem = job.faults.rejects(req) ?? validateEvent(req, sharedContext);
      if (problem) {
        job.errors.push({ code: problem.code, message: problem.message + echoed(job.echo), event: req, ...(job.shared ? { shared: job.shared } : {}) });
        continue;
      }
      const r = req as Record<string, unknown>;
      const merged: Record<string, unknown> = sharedContext ? { ...r, context: job.shared!.context } : { ...r };
      if (merged.timestamp === undefined) merged.timestamp = new Date(this.settings.now()).toISOString();
      const added = this.store.addEvent(merged, job.id);
      if (isProblem(added)) {
        job.errors.push({ code: added.code, message: added.message + echoed(job.echo), event: req, ...(job.shared ? { shared: job.shared } : {}) });
        continue;
      }
      const user = r.user as Record<string, unknown> | undefined;
      job.imports.push({
        user: user === undefined ? undefined : { id: added.userId ?? user.id, uid: user.uid },
        session: r.session, context: merged.context, name: r.name, timestamp: merged.timestamp,
        properties: r.properties, schema: r.schema,
      });
    }
  }
}
