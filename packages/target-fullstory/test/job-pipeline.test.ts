import { describe, expect, it } from '@jest/globals';
import { UnavailableError } from '@fullstory-singer/singer-core';
import type { Batch, BatchKind } from '../src/batcher.js';
import type { DeadLetterEntry } from '../src/dead-letter.js';
import { JobPipeline, type BatchApi, type JobErrorItem, type JobPipelineOptions } from '../src/job-pipeline.js';

/**
 * An in-memory stand-in for the v2 batch endpoints (no HTTP: the pipeline's scheduling is tested
 * here; the HTTP path is tested against the sandbox in target-sandbox.test.ts). Jobs finish when the
 * test says so.
 */
class FakeApi implements BatchApi {
  jobs = new Map<string, { kind: BatchKind; requests: Record<string, unknown>[]; status: string; key: string; errors: JobErrorItem[] }>();
  unfinished = 0;
  maxUnfinished = 0;
  errorPagesProcessing = 0;
  createFailure?: Error;
  private n = 0;

  async createBatch(kind: BatchKind, body: { requests: unknown[] }, key: string) {
    if (this.createFailure) throw this.createFailure;
    const id = `job${++this.n}`;
    this.jobs.set(id, { kind, requests: [...body.requests] as Record<string, unknown>[], status: 'PROCESSING', key, errors: [] });
    this.unfinished++;
    this.maxUnfinished = Math.max(this.maxUnfinished, this.unfinished);
    return { id, status: 'PROCESSING' };
  }
  finish(id: string, errorsFor: (r: Record<string, unknown>) => JobErrorItem | undefined = () => undefined) {
    const job = this.jobs.get(id)!;
    job.errors = job.requests.map(errorsFor).filter((e): e is JobErrorItem => e !== undefined);
    job.status = job.errors.length > 0 ? 'FAILED' : 'COMPLETED';
    this.unfinished--;
  }
  async getJob(_kind: BatchKind, id: string) {
    const job = this.jobs.get(id)!;
    return { id, status: job.status, imports: job.requests.length - job.errors.length, errors: job.errors.length };
  }
  async getJobErrors(_kind: BatchKind, id: string, token?: string) {
    if (this.errorPagesProcessing > 0) {
      this.errorPagesProcessing--;
      return 'processing' as const;
    }
    const job = this.jobs.get(id)!;
    // Pages of one item, to exercise page tokens.
    const i = token ? Number(token) : 0;
    const page: { results: JobErrorItem[]; nextPageToken?: string } = { results: job.errors.slice(i, i + 1) };
    if (i + 1 < job.errors.length) page.nextPageToken = String(i + 1);
    return page;
  }
  running(): string[] {
    return [...this.jobs].filter(([, j]) => j.status === 'PROCESSING').map(([id]) => id);
  }
}

let batchId = 0;
function batch(stream: string, kind: BatchKind, requests: Record<string, unknown>[], firstSeq = 0): Batch {
  return {
    id: ++batchId,
    stream,
    kind,
    requests,
    records: requests.map((r) => ({ original: r })),
    firstSeq,
    openedAt: 0,
    idempotencyKey: `key-${batchId}`,
  };
}

const tick = (ms = 2): Promise<void> => new Promise((res) => setTimeout(res, ms));

function setup(over: Partial<JobPipelineOptions> = {}) {
  const api = new FakeApi();
  const dead: DeadLetterEntry[] = [];
  const safe: Batch[] = [];
  let t = 0;
  const p = new JobPipeline({
    api,
    maxJobsInFlight: 2,
    pollIntervalMs: 1,
    jobTimeoutMs: 60_000,
    waitForJobs: true,
    deadLetter: { write: async (e) => void dead.push(e) },
    onBatchSafe: (b) => safe.push(b),
    sleep: () => tick(1),
    now: () => t,
    ...over,
  });
  return { api, p, dead, safe, setNow: (v: number) => (t = v) };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await tick(2);
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('JobPipeline', () => {
  it('never has more than max_jobs_in_flight unfinished jobs; submit waits for a slot', async () => {
    const { api, p, safe } = setup();
    await p.submit(batch('a', 'events', [{ name: '1' }]));
    await p.submit(batch('a', 'events', [{ name: '2' }]));
    let third = false;
    const pending = p.submit(batch('a', 'events', [{ name: '3' }])).then(() => (third = true));
    await until(() => api.jobs.size === 2, 'two jobs');
    await tick(20);
    expect(third).toBe(false);
    api.finish('job1');
    await pending;
    await until(() => api.jobs.size === 3, 'third job');
    api.finish('job2');
    await until(() => api.running().length === 1, 'one running');
    api.finish('job3');
    await p.drain();
    expect(api.maxUnfinished).toBe(2);
    expect(safe).toHaveLength(3);
    expect(p.stats).toMatchObject({ jobsCreated: 3, jobsCompleted: 3, sent: 3, imported: 3, rejected: 0 });
  });

  it('sends each batch with its own idempotency key', async () => {
    const { api, p } = setup();
    const b = batch('a', 'users', [{ uid: 'x' }]);
    await p.submit(b);
    await until(() => api.jobs.size === 1, 'job');
    expect(api.jobs.get('job1')!.key).toBe(b.idempotencyKey);
    api.finish('job1');
    await p.drain();
  });

  it('dead-letters the original record of each failed request, across error pages and 202s', async () => {
    const { api, p, dead, safe } = setup();
    api.errorPagesProcessing = 2;
    const b = batch('people', 'users', [{ uid: 'a' }, { uid: 'b' }, { uid: 'c' }, { uid: 'b' }]);
    await p.submit(b);
    await until(() => api.jobs.size === 1, 'job');
    api.finish('job1', (r) => (r['uid'] === 'b' ? { code: 'invalid_property', message: 'nope', user: { ...r } } : undefined));
    await p.drain();
    expect(dead).toEqual([
      { stream: 'people', record: { original: { uid: 'b' } }, reason: 'rejected_by_fullstory', code: 'invalid_property', message: 'nope' },
      { stream: 'people', record: { original: { uid: 'b' } }, reason: 'rejected_by_fullstory', code: 'invalid_property', message: 'nope' },
    ]);
    // The two 'b' records are distinct objects: each error matched a different one.
    expect(new Set(dead.map((d) => d.record)).size).toBe(2);
    expect(p.stats).toMatchObject({ jobsFailed: 1, imported: 2, rejected: 2, unaccounted: 0 });
    expect(safe).toEqual([b]);
  });

  it('keeps an error item that matches no record, with the echoed request', async () => {
    const { api, p, dead } = setup();
    await p.submit(batch('ev', 'events', [{ user: { uid: 'u' }, name: 'n' }]));
    await until(() => api.jobs.size === 1, 'job');
    api.finish('job1', () => ({ code: 'x', message: 'y', event: { user: { uid: 'other' }, name: 'n' } }));
    await p.drain();
    expect(dead).toEqual([
      { stream: 'ev', record: null, request: { user: { uid: 'other' }, name: 'n' }, reason: 'rejected_by_fullstory', code: 'x', message: 'y' },
    ]);
  });

  it('matches an echoed event whose timestamp differs by uid and name', async () => {
    const { api, p, dead } = setup();
    const sent = [
      { user: { uid: 'u' }, name: 'n', timestamp: '2024-01-01T00:00:00.000Z' },
      { user: { uid: 'u' }, name: 'n', timestamp: '2024-01-02T00:00:00.000Z' },
    ];
    await p.submit(batch('ev', 'events', sent.map((r) => ({ ...r }))));
    await until(() => api.jobs.size === 1, 'job');
    api.finish('job1', (r) =>
      r['timestamp'] === '2024-01-02T00:00:00.000Z'
        ? { code: 'x', message: 'y', event: { ...r, timestamp: '2024-01-02T00:00:00+00:00' } }
        : r['timestamp'] === '2024-01-01T00:00:00.000Z'
          ? { code: 'x', message: 'y', event: { user: { uid: 'u' }, name: 'n', timestamp: '2030-01-01T00:00:00Z' } }
          : undefined,
    );
    await p.drain();
    // The first item (a timestamp never sent) matches only by uid and name; the second exactly (the same
    // instant spelt differently). Each record is used once.
    expect(dead.map((d) => d.record)).toEqual([{ original: sent[0] }, { original: sent[1] }]);
  });

  it('holds a users batch while a running job of the stream has one of its uids (last value wins)', async () => {
    const { api, p } = setup({ maxJobsInFlight: 5 });
    await p.submit(batch('u', 'users', [{ uid: '1' }, { uid: '2' }]));
    await p.submit(batch('other', 'users', [{ uid: '1' }]));
    let created = false;
    const second = p.submit(batch('u', 'users', [{ uid: '3' }, { uid: '2' }])).then(() => (created = true));
    await tick(20);
    expect(created).toBe(false);
    expect(api.jobs.size).toBe(2);
    api.finish('job1');
    await second;
    await until(() => api.jobs.size === 3, 'third job');
    api.finish('job2');
    api.finish('job3');
    await p.drain();
  });

  it('with wait_for_jobs false, a batch is safe once its job is created', async () => {
    const { api, p, safe } = setup({ waitForJobs: false });
    const b = batch('a', 'events', [{ name: 'x' }]);
    await p.submit(b);
    await until(() => safe.length === 1, 'safe');
    expect(api.running()).toEqual(['job1']);
    api.finish('job1');
    await p.drain();
    expect(safe).toEqual([b]);
  });

  it('halves the cap for a while after a 429, then restores it', async () => {
    const { api, p, setNow } = setup({ maxJobsInFlight: 4, throttleWindowMs: 100 });
    p.throttle(50);
    expect(p.currentCap()).toBe(2);
    p.throttle(50);
    expect(p.currentCap()).toBe(1);
    p.throttle(50);
    expect(p.currentCap()).toBe(1);
    expect(p.stats.throttled).toBe(3);
    await p.submit(batch('a', 'events', [{ name: '1' }]));
    let second = false;
    const pending = p.submit(batch('a', 'events', [{ name: '2' }])).then(() => (second = true));
    await tick(20);
    expect(second).toBe(false);
    setNow(101);
    await pending;
    expect(p.currentCap()).toBe(4);
    api.finish('job1');
    await until(() => api.jobs.size === 2, 'second job');
    api.finish('job2');
    await p.drain();
  });

  it('a job still processing after job_timeout_seconds is an UnavailableError, and stops new jobs', async () => {
    const { p, setNow } = setup({ jobTimeoutMs: 1000 });
    await p.submit(batch('a', 'events', [{ name: '1' }]));
    setNow(5000);
    await until(() => p.fatal !== undefined, 'fatal');
    expect(p.fatal).toBeInstanceOf(UnavailableError);
    expect(p.fatal!.message).toMatch(/job1 still processing after 5 s/);
    await expect(p.submit(batch('a', 'events', [{ name: '2' }]))).rejects.toBe(p.fatal);
    await expect(p.drain()).rejects.toBeInstanceOf(UnavailableError);
  });

  it('a failed creation is fatal and the batch is never safe', async () => {
    const { api, p, safe } = setup();
    api.createFailure = new UnavailableError('down');
    await p.submit(batch('a', 'events', [{ name: '1' }]));
    await expect(p.drain()).rejects.toThrow('down');
    expect(safe).toEqual([]);
  });
});
