/**
 * One batch through create → poll → account (load/job.ts), against an in-memory API and a manual clock:
 * no HTTP and no real waiting. The same behaviour is tested end to end against the sandbox in
 * accounting.test.ts and refused-batches.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { BatchRefusedError } from '@fullstory-singer/fullstory-client';
import { createLogger, UnavailableError } from '@fullstory-singer/singer-core';
import { MemoryWritable } from '@fullstory-singer/singer-core/testing';
import { advance, openBatch, type Batch } from '../src/load/batch.js';
import { BufferPool } from '../src/load/texts.js';
import { RecentSet } from '../src/load/idempotency.js';
import { loadBatch, type JobContext } from '../src/load/job.js';
import type { BatchApi, Create, CreatedJob, ErrorItem, JobStatus, ListPage } from '../src/sinks/batch-api.js';
import { ManualClock } from './manual-clock.js';

interface FakeJob {
  requests: Record<string, unknown>[];
  /** Polls answered PROCESSING before the final status. */
  processing: number;
  status: Omit<JobStatus, 'id'>;
  errors: ErrorItem[];
  imports: unknown[];
}

/** A scripted batch API: `plan` decides each job's outcome from its requests. */
class FakeApi implements BatchApi {
  readonly creates: Array<{ at: number; keys: string; requests: Record<string, unknown>[] }> = [];
  readonly polls: number[] = [];
  readonly jobs = new Map<string, FakeJob>();
  errorPages: Array<ListPage<ErrorItem>> | undefined;
  importsForbidden = false;
  errorsForbidden = false;
  /** The `created` of the job the first create answers (as when FullStory replays an earlier run's job). */
  firstCreatedMs: number | undefined;

  constructor(
    private readonly clock: ManualClock,
    private readonly plan: (requests: Record<string, unknown>[]) => Omit<FakeJob, 'requests'> | BatchRefusedError,
  ) {}

  async createBatch(c: Create): Promise<CreatedJob> {
    const requests = (JSON.parse(c.body.toString('utf8')) as { requests: Record<string, unknown>[] }).requests;
    this.creates.push({ at: this.clock.now(), keys: c.idempotencyKeys(0), requests });
    const outcome = this.plan(requests);
    if (outcome instanceof BatchRefusedError) throw outcome;
    const id = `job${this.creates.length}`;
    this.jobs.set(id, { requests, ...outcome });
    const createdMs = this.creates.length === 1 ? this.firstCreatedMs : undefined;
    return { id, status: 'PROCESSING', ...(createdMs === undefined ? {} : { createdMs }) };
  }

  async getJob(_kind: string, id: string): Promise<JobStatus> {
    this.polls.push(this.clock.now());
    const job = this.jobs.get(id)!;
    if (job.processing > 0) {
      job.processing--;
      return { id, status: 'PROCESSING' };
    }
    return { id, ...job.status };
  }

  async getJobErrors(_kind: string, id: string, token: string | undefined): Promise<ListPage<ErrorItem>> {
    if (this.errorsForbidden) return 'forbidden';
    if (this.errorPages) return this.errorPages.shift() ?? { results: [] };
    const errors = this.jobs.get(id)!.errors;
    // One item per page, to exercise page tokens.
    const i = token ? Number(token) : 0;
    return { results: errors.slice(i, i + 1), ...(i + 1 < errors.length ? { nextPageToken: String(i + 1) } : {}) };
  }

  async getJobImports(_kind: string, id: string): Promise<ListPage<unknown>> {
    if (this.importsForbidden) return 'forbidden';
    return { results: this.jobs.get(id)!.imports };
  }
}

const done = (imports: number, errors?: number, status = 'COMPLETED') => ({ status, imports, ...(errors === undefined ? {} : { errors }) });

function sealed(kind: 'users' | 'events', requests: Record<string, unknown>[]): Batch {
  const b = openBatch({ requests: new BufferPool(4), records: new BufferPool(4) }, { id: 1, stream: 's', kind, ordinal: 0, firstSeq: 0, openedAt: 0 });
  for (const r of requests) {
    b.requests.push(JSON.stringify(r));
    b.records.push(JSON.stringify({ type: 'RECORD', stream: 's', record: { original: r } }));
  }
  advance(b, 'sealed');
  return b;
}

function context(api: BatchApi, clock: ManualClock, over: Partial<JobContext> = {}) {
  const rejected: Array<{ record: unknown; reason: string; code: string; message: string; request?: unknown }> = [];
  let imported = 0;
  const stderr = new MemoryWritable();
  const ctx: JobContext = {
    api,
    clock,
    signal: new AbortController().signal,
    pollIntervalMs: 2000,
    jobTimeoutMs: 60_000,
    logger: createLogger({ level: 'debug', out: stderr }),
    runStartedMs: 1_000,
    runId: 'this-run',
    jobsMade: new RecentSet(),
    reject: (_stream, record, r, request) => rejected.push({ record, ...r, ...(request !== undefined ? { request } : {}) }),
    imported: (_stream, n) => {
      imported += n;
    },
    created: () => undefined,
    ...over,
  };
  return { ctx, rejected, imported: () => imported, stderr };
}

describe('loadBatch', () => {
  it('a users create answered with a job made before the run began waits for that job, then sends the batch again under a key of this run', async () => {
    const clock = new ManualClock();
    clock.advance(5_000);
    const api = new FakeApi(clock, () => ({ processing: 2, status: done(2), errors: [], imports: [] }));
    api.firstCreatedMs = 500;
    const batch = sealed('users', [{ uid: 'a' }, { uid: 'b' }]);
    const { ctx, imported, stderr } = context(api, clock);
    await clock.drive(loadBatch(batch, ctx));
    expect(api.creates).toHaveLength(2);
    expect(api.creates[1]!.requests).toEqual(api.creates[0]!.requests);
    expect(api.creates[1]!.keys).not.toBe(api.creates[0]!.keys);
    // The second create came only once the earlier job had ended (its two PROCESSING polls, then done).
    expect(api.polls.filter((t) => t <= api.creates[1]!.at)).toHaveLength(3);
    // Accounted once, from this run's job.
    expect(imported()).toBe(2);
    expect(batch.accounted).toBe(2);
    expect(stderr.text()).toContain('this users batch equals one sent by an earlier run');
  });

  it('an events create answered with an earlier run’s job is accounted from that job, not sent again', async () => {
    const clock = new ManualClock();
    clock.advance(5_000);
    const api = new FakeApi(clock, () => ({ processing: 1, status: done(2), errors: [], imports: [] }));
    api.firstCreatedMs = 500;
    const { ctx, imported } = context(api, clock);
    await clock.drive(loadBatch(sealed('events', [{ name: 'x' }, { name: 'y' }]), ctx));
    expect(api.creates).toHaveLength(1);
    expect(imported()).toBe(2);
  });

  it('a create answered with a job this run already got for another batch is sent again, events too', async () => {
    const clock = new ManualClock();
    const api = new FakeApi(clock, () => ({ processing: 0, status: done(1), errors: [], imports: [] }));
    const { ctx, imported } = context(api, clock);
    // FakeApi names its first job job1: as if an earlier batch of this run had been answered with it.
    ctx.jobsMade.add('job1');
    await clock.drive(loadBatch(sealed('events', [{ name: 'x' }]), ctx));
    expect(api.creates).toHaveLength(2);
    expect(api.creates[1]!.keys).not.toBe(api.creates[0]!.keys);
    expect(imported()).toBe(1);
    expect(ctx.jobsMade.has('job2')).toBe(true);
  });

  it('a users create answered with a job made during this run is not sent again', async () => {
    const clock = new ManualClock();
    clock.advance(5_000);
    const api = new FakeApi(clock, () => ({ processing: 1, status: done(1), errors: [], imports: [] }));
    api.firstCreatedMs = 1_000;
    const { ctx } = context(api, clock);
    await clock.drive(loadBatch(sealed('users', [{ uid: 'a' }]), ctx));
    expect(api.creates).toHaveLength(1);
  });

  it('polls after 0.1 s, then doubling up to the poll interval, until the job ends', async () => {
    const clock = new ManualClock();
    const api = new FakeApi(clock, () => ({ processing: 6, status: done(2), errors: [], imports: [] }));
    const batch = sealed('users', [{ uid: 'a' }, { uid: 'b' }]);
    const { ctx, imported } = context(api, clock);
    await clock.drive(loadBatch(batch, ctx));
    expect(api.polls).toEqual([100, 300, 700, 1500, 3100, 5100, 7100]);
    expect(batch.phase).toBe('settled');
    expect(batch.accounted).toBe(2);
    expect(imported()).toBe(2);
  });

  it('a job still processing after job_timeout_seconds is an UnavailableError', async () => {
    const clock = new ManualClock();
    const api = new FakeApi(clock, () => ({ processing: 1_000_000, status: done(1), errors: [], imports: [] }));
    const { ctx } = context(api, clock, { jobTimeoutMs: 10_000 });
    await expect(clock.drive(loadBatch(sealed('events', [{ name: 'x' }]), ctx))).rejects.toThrow(UnavailableError);
    expect(clock.now()).toBeGreaterThan(10_000);
  });

  it('an aborted signal ends the wait at once with its reason', async () => {
    const clock = new ManualClock();
    const api = new FakeApi(clock, () => ({ processing: 1_000_000, status: done(1), errors: [], imports: [] }));
    const stop = new AbortController();
    const { ctx } = context(api, clock, { signal: stop.signal });
    const running = loadBatch(sealed('events', [{ name: 'x' }]), ctx);
    const reason = new Error('given up');
    clock.advance(100);
    stop.abort(reason);
    await expect(clock.drive(running)).rejects.toBe(reason);
  });

  it('reads /errors of a COMPLETED job with errors, across pages and 202s, matching each item to the request it echoes', async () => {
    const clock = new ManualClock();
    const requests = [{ uid: 'a', properties: { v: 1 } }, { uid: 'a', properties: { v: 2 } }, { uid: 'b' }, { uid: 'a', properties: { v: 2 } }];
    const api = new FakeApi(clock, (reqs) => ({ processing: 0, status: done(1, 3), errors: [], imports: [reqs[0]] }));
    // FullStory's echo: keys in another order, and one item that matches no request.
    api.errorPages = [
      'processing',
      { results: [{ code: 'c1', message: 'm1', user: { properties: { v: 2 }, uid: 'a' } }], nextPageToken: 't1' },
      { results: [{ code: 'c2', message: 'm2', user: { properties: { v: 2 }, uid: 'a' } }, { code: 'c3', message: 'm3', user: { uid: 'zz' } }], nextPageToken: 't1' },
    ];
    const batch = sealed('users', requests);
    const { ctx, rejected, imported } = context(api, clock);
    await clock.drive(loadBatch(batch, ctx));
    // Equal requests: the first error item takes the first, the second the next; the stray item is kept.
    // FullStory counts 1 import for the 2 requests left: /imports says it was a's first; b is unaccounted.
    expect(rejected).toEqual([
      { record: { original: requests[1] }, reason: 'rejected_by_fullstory', code: 'c1', message: 'm1' },
      { record: { original: requests[3] }, reason: 'rejected_by_fullstory', code: 'c2', message: 'm2' },
      { record: null, reason: 'rejected_by_fullstory', code: 'c3', message: 'm3', request: { uid: 'zz' } },
      expect.objectContaining({ record: { original: requests[2] }, reason: 'unaccounted', code: 'unaccounted' }),
    ]);
    expect(imported()).toBe(1);
    expect(batch.accounted).toBe(4);
  });

  it('when counts fall short, /imports says which landed; the rest are unaccounted with the counts', async () => {
    const clock = new ManualClock();
    const api = new FakeApi(clock, (reqs) => ({ processing: 0, status: done(2), errors: [], imports: [reqs[0], reqs[2]].map((r) => ({ id: '1', ...r })) }));
    const batch = sealed('events', [
      { user: { uid: 'u' }, name: 'A', timestamp: '2024-01-01T00:00:00.000Z' },
      { user: { uid: 'u' }, name: 'B' },
      { user: { uid: 'v' }, name: 'A' },
    ]);
    const { ctx, rejected, imported } = context(api, clock);
    await clock.drive(loadBatch(batch, ctx));
    expect(imported()).toBe(2);
    expect(rejected).toEqual([
      expect.objectContaining({ record: { original: { user: { uid: 'u' }, name: 'B' } }, reason: 'unaccounted', code: 'unaccounted', message: expect.stringMatching(/imports=2 errors=none for 3 requests/) }),
    ]);
    expect(batch.accounted).toBe(3);
  });

  it('a key that may not read /errors (403) dead-letters the job’s records as job_results_forbidden, never counting them imported', async () => {
    const clock = new ManualClock();
    const api = new FakeApi(clock, () => ({ processing: 0, status: done(1, 1, 'FAILED'), errors: [], imports: [] }));
    api.errorsForbidden = true;
    const batch = sealed('users', [{ uid: 'a' }, { uid: 'b' }]);
    const { ctx, rejected, imported } = context(api, clock);
    await clock.drive(loadBatch(batch, ctx));
    expect(imported()).toBe(0);
    expect(rejected.map((r) => [r.reason, r.code])).toEqual([
      ['unaccounted', 'job_results_forbidden'],
      ['unaccounted', 'job_results_forbidden'],
    ]);
    expect(batch.phase).toBe('settled');
  });

  it('a FAILED job without counts has both lists read', async () => {
    const clock = new ManualClock();
    const api = new FakeApi(clock, (reqs) => ({ processing: 0, status: { status: 'FAILED' }, errors: [{ code: 'x', message: 'y', user: reqs[1]! }], imports: [reqs[0]] }));
    const { ctx, rejected, imported } = context(api, clock);
    await clock.drive(loadBatch(sealed('users', [{ uid: 'a' }, { uid: 'b' }]), ctx));
    expect(imported()).toBe(1);
    expect(rejected.map((r) => r.code)).toEqual(['x']);
  });

  it('a refused batch is split in halves, one after the other, each with its own key, until the bad request stands alone', async () => {
    const clock = new ManualClock();
    const refuse = new BatchRefusedError('refused', { status: 400, apiCode: 'bad_item', apiMessage: 'item 5 is bad' });
    const api = new FakeApi(clock, (reqs) => (reqs.some((r) => r['uid'] === 'u5') ? refuse : { processing: 0, status: done(reqs.length), errors: [], imports: [] }));
    const batch = sealed('users', Array.from({ length: 8 }, (_, i) => ({ uid: `u${i}` })));
    const created: Batch[] = [];
    const { ctx, rejected, imported } = context(api, clock, { onCreated: (b) => created.push(b) });
    await clock.drive(loadBatch(batch, ctx));
    expect(api.creates.map((c) => c.requests.map((r) => r['uid']).join(','))).toEqual([
      'u0,u1,u2,u3,u4,u5,u6,u7',
      'u0,u1,u2,u3',
      'u4,u5,u6,u7',
      'u4,u5',
      'u4',
      'u5',
      'u6,u7',
    ]);
    expect(new Set(api.creates.map((c) => c.keys)).size).toBe(7);
    expect(rejected).toEqual([{ record: { original: { uid: 'u5' } }, reason: 'rejected_by_fullstory', code: 'bad_item', message: 'item 5 is bad' }]);
    expect(imported()).toBe(7);
    expect(batch.accounted).toBe(8);
    // Created once, when its last part was.
    expect(created).toEqual([batch]);
    expect(batch.phase).toBe('settled');
  });

  it('other failures of a create are not split: they stop the batch', async () => {
    const clock = new ManualClock();
    const api: BatchApi = {
      createBatch: async () => {
        throw new UnavailableError('down');
      },
      getJob: async () => ({ id: 'x', status: 'COMPLETED' }),
      getJobErrors: async () => ({ results: [] }),
      getJobImports: async () => ({ results: [] }),
    };
    const batch = sealed('users', [{ uid: 'a' }, { uid: 'b' }]);
    await expect(clock.drive(loadBatch(batch, context(api, clock).ctx))).rejects.toThrow('down');
    expect(batch.phase).toBe('sealed');
  });
});
