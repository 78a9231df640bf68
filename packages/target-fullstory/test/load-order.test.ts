/**
 * The last value always wins (issue 10, defects 1 and 2): a batch holding a uid is not created while an
 * earlier batch holding that uid, in any stream that writes users, is unsettled. The sandbox applies
 * jobs that run at once newest first (FullStory promises no order), so any two concurrent jobs for one
 * uid would let the older value land last. Black box: the built bin against the sandbox.
 */
import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { binConfig, expectAccountedFor, record, runTargetBin, schema, singer, state, until } from './bin-helpers.js';
import { sandboxPerFile } from './helpers.js';

const ctx = sandboxPerFile({ jobLatencyMs: 1500, concurrentJobOrder: 'newest-first' });

const users = (stream: string) => schema(stream, { uid: { type: 'string' }, v: { type: 'integer' } });
const valueOf = (uid: string) => ctx.sandbox.users().find((u) => u.uid === uid)?.properties['v'];
const batchPosts = () => ctx.sandbox.requests().filter((r) => r.method === 'POST' && r.path === '/v2/users/batch');

describe('load order', () => {
  it('defect 1: a full batch sealed after an aged one of the same stream is not created before it', async () => {
    // One job at a time; stream c fills the slot, then a and b age while it runs. b's next records fill a
    // newer batch holding x: it must not go before b's aged batch, which holds x's older value.
    const input = new PassThrough();
    const running = runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', batch_size: 3, max_batch_age_seconds: 0.3, max_jobs_in_flight: 1 }), { input });
    input.write(singer(users('c'), users('a'), users('b'), record('c', { uid: 'c1' }), record('c', { uid: 'c2' }), record('c', { uid: 'c3' })));
    await until(() => batchPosts().length === 1, 'the first job');
    input.write(singer(record('a', { uid: 'a1' }), record('b', { uid: 'x', v: 1 })));
    // Long enough for a and b to age (0.3 s) while c's job still runs (1.5 s).
    await new Promise((r) => setTimeout(r, 700));
    input.end(singer(record('b', { uid: 'x', v: 2 }), record('b', { uid: 'y' }), record('b', { uid: 'z' }), state({ done: true })));
    const r = await running;
    expect(r.code).toBe(0);
    expect(valueOf('x')).toBe(2);
    expect(r.states).toEqual([{ done: true }]);
    expect(expectAccountedFor(r.stderr)).toMatchObject({ records_read: 8, imported: 8 });
  }, 30_000);

  it('defect 2: two streams writing one uid (users and audience) never run jobs for it at once', async () => {
    const config = binConfig(ctx.sandbox, ctx.dir, {
      max_jobs_in_flight: 4,
      streams: {
        crm: { data_type: 'users' },
        vip: { data_type: 'audience', audience_name: 'VIP', audience_mode: 'upsert' },
        crm2: { data_type: 'users' },
      },
    });
    const r = await runTargetBin(ctx.dir, config, {
      input: singer(
        users('crm'),
        users('vip'),
        users('crm2'),
        record('crm', { uid: 'same', v: 1 }),
        record('vip', { uid: 'same', v: 2 }),
        record('crm2', { uid: 'same', v: 3 }),
        state({ s: 1 }),
      ),
    });
    expect(r.code).toBe(0);
    // The last value in the input is the last value in FullStory: three jobs, one after the other.
    expect(ctx.sandbox.users().find((u) => u.uid === 'same')!.properties).toEqual({ v: 3, vip: true });
    expect(batchPosts()).toHaveLength(3);
    expect(ctx.sandbox.maxConcurrentJobs()).toBe(1);
    expect(r.states).toEqual([{ s: 1 }]);
  }, 30_000);

  it('batches of other uids still run side by side', async () => {
    const r = await runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', batch_size: 1, max_jobs_in_flight: 4 }), {
      input: singer(users('p'), ...['a', 'b', 'c', 'd'].map((uid) => record('p', { uid }))),
    });
    expect(r.code).toBe(0);
    expect(ctx.sandbox.maxConcurrentJobs()).toBe(4);
  }, 30_000);
});
