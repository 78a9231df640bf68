/**
 * One bad item never stops the rest (issue 10, defect 7): a 400 for the whole batch (the sandbox's
 * reading of FullStory's create docs) or a 413 (body too large) splits the batch until the bad requests
 * stand alone; those are dead-lettered with FullStory's code and message, the rest land, and the run
 * exits 0, so a rerun does not die on the same batch. Black box: the built bin against the sandbox.
 */
import { describe, expect, it } from '@jest/globals';
import { binConfig, expectAccountedFor, record, runTargetBin, sandboxesPerFile, schema, singer, state } from './bin-helpers.js';

const file = sandboxesPerFile();

describe('batches FullStory refuses as a whole', () => {
  it('defect 7: a whole-batch 400 for one invalid item splits the batch; the item is dead-lettered, the others land', async () => {
    const s = await file.start({ jobLatencyMs: 20, invalidItems: 'batch' });
    s.addFaults({ method: 'POST', path: '/v2/events/batch', times: 100, action: 'reject_items', match: 'Poison', body: { code: 'invalid_event', message: 'no poison' } });
    const events = Array.from({ length: 8 }, (_, i) => record('clicks', { uid: `u${i}`, event_name: i === 5 ? 'Poison' : 'Click', n: i }));
    const config = binConfig(s, file.dir, { data_type: 'events', batch_size: 8, dead_letter_path: `${file.dir}/d7.ndjson` });
    const input = singer(schema('clicks'), ...events, state({ at: 8 }));
    const r = await runTargetBin(file.dir, config, { input });
    expect(r.code).toBe(0);
    expect(r.deadLetters).toEqual([
      expect.objectContaining({ record: { uid: 'u5', event_name: 'Poison', n: 5 }, reason: 'rejected_by_fullstory', code: 'invalid_event', message: 'requests[0]: no poison' }),
    ]);
    expect(s.events().map((e) => (e.request['properties'] as { n: number }).n).sort()).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(r.states).toEqual([{ at: 8 }]);
    expect(r.stderr).toMatch(/FullStory refused a batch as a whole \(400\); splitting it/);
    expect(expectAccountedFor(r.stderr)).toMatchObject({ records_read: 8, imported: 7, rejected: 1 });
    // Each half had its own Idempotency-Key (a refused key stays refused).
    const keys = s.requests().filter((q) => q.method === 'POST').map((q) => q.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('defect 7: a 413 splits the batch until it fits; a record too large alone is dead-lettered', async () => {
    const s = await file.start({ jobLatencyMs: 20, maxBodyBytes: 1500 });
    const users = Array.from({ length: 20 }, (_, i) => record('people', { uid: `u${i}`, note: 'x'.repeat(100) }));
    const huge = record('people', { uid: 'huge', note: 'y'.repeat(3000) });
    const config = binConfig(s, file.dir, { data_type: 'users', batch_size: 50, dead_letter_path: `${file.dir}/413.ndjson` });
    const r = await runTargetBin(file.dir, config, { input: singer(schema('people'), ...users.slice(0, 10), huge, ...users.slice(10), state({ done: 1 })) });
    expect(r.code).toBe(0);
    expect(r.deadLetters).toEqual([expect.objectContaining({ record: huge.record, reason: 'rejected_by_fullstory', code: 'payload_too_large' })]);
    expect(s.users()).toHaveLength(20);
    expect(s.requests().some((q) => q.status === 413)).toBe(true);
    expect(r.states).toEqual([{ done: 1 }]);
    expect(expectAccountedFor(r.stderr)).toMatchObject({ records_read: 21, imported: 20, rejected: 1 });
  });
});
