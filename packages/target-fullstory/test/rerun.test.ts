/**
 * A rerun from a state the target printed imports nothing twice (issue 14), in process against the
 * sandbox: the rerun is given what a deterministic tap replays after that state (its SCHEMAs, then every
 * message after the state), rebuilds the same batches, sends them under the same Idempotency-Keys, and
 * FullStory (the sandbox) answers with the jobs the first run made. Also: the key walk after saved 500s,
 * a saved whole-batch 400 and its split parts, a replayed job with errors, and the 24 h window.
 */
import { describe, expect, it } from '@jest/globals';
import type { Sandbox } from 'fullstory-sandbox';
import { record, sandboxesPerFile, schema, singer, state } from './bin-helpers.js';
import { runWith, sandboxConfig, type RunResult } from './helpers.js';

const file = sandboxesPerFile();

type Message = Record<string, unknown>;

/**
 * Users (`people`) and events (`clicks`) interleaved, a STATE after every 4th record: with batch_size 6
 * some states find a batch half full (boundaries) and some do not (skipped).
 */
function source(records = 60, extra: (i: number) => Record<string, unknown> = () => ({})): Message[] {
  const out: Message[] = [schema('people'), schema('clicks')];
  for (let i = 0; i < records; i++) {
    const uid = `p${i % 5}`;
    out.push(i % 3 === 0 ? record('people', { uid, n: i }) : record('clicks', { uid, event_name: 'Click', n: i, ...extra(i) }));
    if ((i + 1) % 4 === 0) out.push(state({ pos: i + 1 }));
  }
  return out;
}

/** What a deterministic tap sends when started from `value`: its SCHEMAs, then everything after that state. */
function replayFrom(messages: Message[], value: unknown): Message[] {
  const at = messages.findIndex((m) => m['type'] === 'STATE' && JSON.stringify(m['value']) === JSON.stringify(value));
  expect(at).toBeGreaterThanOrEqual(0);
  return [...messages.filter((m) => m['type'] === 'SCHEMA'), ...messages.slice(at + 1)];
}

const config = (s: Sandbox, dir: string, over: Record<string, unknown> = {}) =>
  sandboxConfig(s, dir, {
    streams: { people: { data_type: 'users' }, clicks: { data_type: 'events' } },
    batch_size: 6,
    max_batch_age_seconds: 300,
    ...over,
  });

/** How many times each event (by its `n`) is stored. */
function eventCounts(s: Sandbox): Map<number, number> {
  const counts = new Map<number, number>();
  for (const e of s.events()) {
    const n = (e.request['properties'] as { n: number }).n;
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return counts;
}

const posts = (s: Sandbox) => s.requests().filter((r) => r.method === 'POST');
const eventPosts = (s: Sandbox) => posts(s).filter((r) => r.path === '/v2/events/batch');
const userPosts = (s: Sandbox) => posts(s).filter((r) => r.path === '/v2/users/batch');
const eventJobs = (s: Sandbox) => s.jobs().filter((j) => j.kind === 'events');

/**
 * The users creates of a rerun: each met the earlier run's job (a replay) and was then sent once more
 * under a key of this run (not a replay), so its values are applied again after that job.
 */
function expectUsersSentAgain(creates: ReturnType<typeof posts>): void {
  const replayed = creates.filter((p) => p.replayed === true);
  const fresh = creates.filter((p) => p.replayed !== true);
  expect(fresh).toHaveLength(replayed.length);
  const keys = new Set(replayed.map((p) => p.headers['idempotency-key']));
  expect(fresh.every((p) => !keys.has(p.headers['idempotency-key']))).toBe(true);
}

/** Runs the target and checks it ended well. */
async function load(s: Sandbox, input: Message[], over: Record<string, unknown> = {}): Promise<RunResult> {
  const r = await runWith(config(s, file.dir, over), singer(...input));
  expect(r.error).toBeUndefined();
  return r;
}

describe('a rerun from the last printed state', () => {
  for (const idempotency of ['production', 'staging'] as const) {
    it(`rebuilds the batches after any printed state and meets the jobs already made: no event twice (${idempotency})`, async () => {
      const s = await file.start({ jobLatencyMs: 5, idempotency });
      const messages = source();
      const first = await load(s, messages);
      const jobs = eventJobs(s).length;
      const events = [...eventCounts(s).values()];
      expect(events).toHaveLength(40);
      expect(events.every((c) => c === 1)).toBe(true);
      // Some states were boundaries, some skipped; a STATE cut some batches short.
      expect(first.states.length).toBeGreaterThan(2);
      expect(first.states.length).toBeLessThan(15);
      expect(s.jobs().some((j, i) => j.requests < 6 && i < jobs - 2)).toBe(true);

      for (const printed of first.states) {
        const [eventsBefore, usersBefore] = [eventPosts(s).length, userPosts(s).length];
        const rerun = await load(s, replayFrom(messages, printed));
        // Every events create of the rerun got the answer saved for its key: the first run's jobs.
        expect(eventPosts(s).slice(eventsBefore).every((p) => p.replayed === true)).toBe(true);
        expect(eventJobs(s)).toHaveLength(jobs);
        expectUsersSentAgain(userPosts(s).slice(usersBefore));
        expect([...eventCounts(s).values()].every((c) => c === 1)).toBe(true);
        // It goes on exactly as the first run did after that state.
        expect(rerun.states).toEqual(first.states.slice(first.states.indexOf(printed) + 1));
      }
    });
  }

  it('after a 500 FullStory keeps under its key, the create moves to the next key; a rerun walks the same keys to the job made', async () => {
    const s = await file.start({ jobLatencyMs: 5 });
    s.addFaults({ method: 'POST', path: '/v2/events/batch', times: 2, status: 500, endpoint: true });
    const messages = source(12);
    await load(s, messages, { max_retries: 3, max_jobs_in_flight: 1 });
    const firstRun = posts(s).filter((p) => p.path === '/v2/events/batch');
    const [k0, k1, k2] = firstRun.map((p) => String(p.headers['idempotency-key']));
    expect(firstRun.map((p) => p.status).slice(0, 3)).toEqual([500, 500, 200]);
    expect([k1, k2]).toEqual([`${k0}-1`, `${k0}-2`]);
    const jobs = eventJobs(s).length;

    const before = posts(s).length;
    await load(s, messages, { max_retries: 3, max_jobs_in_flight: 1 });
    const rerun = posts(s).slice(before).filter((p) => p.path === '/v2/events/batch');
    expect(rerun.slice(0, 3).map((p) => [p.headers['idempotency-key'], p.status, p.replayed])).toEqual([
      [k0, 500, true],
      [k1, 500, true],
      [k2, 200, true],
    ]);
    expect(eventJobs(s)).toHaveLength(jobs);
    expect([...eventCounts(s).values()]).toEqual(Array(8).fill(1));
  });

  it('a whole-batch 400 is saved too: the rerun splits the batch the same way and meets each part’s saved answer', async () => {
    const s = await file.start({ jobLatencyMs: 5, invalidItems: 'batch' });
    s.addFaults({ method: 'POST', path: '/v2/events/batch', times: 1000, action: 'reject_items', match: 'Poison', body: { code: 'invalid_event', message: 'no poison' } });
    const messages = source(24, (i) => (i === 10 ? { event_name: 'Poison' } : {}));
    const first = await load(s, messages);
    expect(first.deadLetters.map((d) => d['code'])).toEqual(['invalid_event']);
    expect(posts(s).some((p) => p.status === 400)).toBe(true);
    const jobs = eventJobs(s).length;

    const before = eventPosts(s).length;
    const rerun = await load(s, messages);
    expect(eventPosts(s).slice(before).every((p) => p.replayed === true)).toBe(true);
    expect(eventJobs(s)).toHaveLength(jobs);
    expect([...eventCounts(s).values()]).toEqual(Array(15).fill(1));
    // The rerun accounts for the refused record as the first run did.
    expect(rerun.deadLetters.slice(first.deadLetters.length).map((d) => [d['code'], (d['record'] as { n: number }).n])).toEqual([['invalid_event', 10]]);
  });

  it('a job met again is polled and accounted for as usual: what FullStory rejected in it is dead-lettered again', async () => {
    const s = await file.start({ jobLatencyMs: 5, invalidItems: 'job' });
    s.addFaults({ method: 'POST', path: '/v2/events/batch', times: 1000, action: 'reject_items', match: 'Poison', body: { code: 'invalid_event', message: 'no poison' } });
    const messages = source(24, (i) => (i === 10 ? { event_name: 'Poison' } : {}));
    const first = await load(s, messages);
    const jobs = eventJobs(s).length;
    const rerun = await load(s, messages);
    expect(eventJobs(s)).toHaveLength(jobs);
    expect(rerun.summary).toMatchObject({ imported: first.summary!.imported, rejectedByFullStory: 1 });
    expect(rerun.deadLetters.slice(first.deadLetters.length).map((d) => [d['code'], (d['record'] as { n: number }).n])).toEqual([['invalid_event', 10]]);
    expect([...eventCounts(s).values()]).toEqual(Array(15).fill(1));
  });

  it('after the idempotency window (24 h) FullStory has forgotten the keys: a rerun then imports again', async () => {
    let skew = 0;
    const s = await file.start({ jobLatencyMs: 5, now: () => Date.now() + skew });
    const messages = source(12);
    await load(s, messages);
    const jobs = s.jobs().length;
    skew = 24 * 3600 * 1000;
    await load(s, messages);
    expect(s.jobs()).toHaveLength(2 * jobs);
    expect([...eventCounts(s).values()]).toEqual(Array(8).fill(2));
  });

  it('a users batch equal to one an earlier run sent is applied again: a value changed in between and back is the last in FullStory', async () => {
    const s = await file.start({ jobLatencyMs: 5 });
    const users = (plan: string) => [schema('people'), ...[0, 1, 2].map((i) => record('people', { uid: `u${i}`, plan })), state({ run: 1 })];
    await load(s, users('free'));
    await load(s, users('paid'));
    // Byte for byte the first run's batch, in the same place: FullStory answers with the first run's job.
    const before = userPosts(s).length;
    await load(s, users('free'));
    expect(s.users().map((u) => [u.uid, (u.properties as { plan?: string }).plan])).toEqual([
      ['u0', 'free'],
      ['u1', 'free'],
      ['u2', 'free'],
    ]);
    expect(userPosts(s).slice(before).map((p) => p.replayed === true)).toEqual([true, false]);
    expectUsersSentAgain(userPosts(s).slice(before));
  });

  it('within one run, a batch equal to an earlier one of the run (batch_size 1, a STATE after each record) is sent again: users end with the last value, events are stored twice', async () => {
    const s = await file.start({ jobLatencyMs: 5 });
    const plans = ['free', 'paid', 'free'];
    const input: Message[] = [schema('people'), schema('clicks')];
    plans.forEach((plan, i) => input.push(record('people', { uid: 'u0', plan }), state({ at: i, users: true })));
    [0, 1].forEach((i) => input.push(record('clicks', { uid: 'u0', event_name: 'Click', n: 7 }), state({ at: i, events: true })));
    const r = await load(s, input, { batch_size: 1 });
    expect(s.users().map((u) => [u.uid, (u.properties as { plan?: string }).plan])).toEqual([['u0', 'free']]);
    // The same click twice in the input: stored twice, counted twice.
    expect([...eventCounts(s).entries()]).toEqual([[7, 2]]);
    expect(r.summary).toMatchObject({ imported: 5 });
    // The third users create and the second events create met this run's earlier jobs and were sent again.
    expect(posts(s).filter((p) => p.replayed === true)).toHaveLength(2);
  });
});
