/**
 * Every record is accounted for (issue 10, defects 3, 4 and 5, and the Standard key's 403): a record is
 * counted imported only when FullStory's job says so; a rejected one is dead-lettered with FullStory's
 * code, matched by the request it echoes; one FullStory neither imported nor named is dead-lettered as
 * `unaccounted`. Read = imported + rejected in every summary. Black box: the built bin against the sandbox.
 */
import { describe, expect, it } from '@jest/globals';
import type { Sandbox, SandboxOptions } from 'fullstory-sandbox';
import { binConfig, expectAccountedFor, record, runTargetBin, sandboxesPerFile, schema, singer, state } from './bin-helpers.js';

const file = sandboxesPerFile();
const sandboxWith = (options: SandboxOptions): Promise<Sandbox> => file.start({ jobLatencyMs: 20, ...options });

const people = schema('people', { uid: { type: 'string' }, plan: { type: 'string' } });
const gold = { method: 'POST', path: '/v2/users/batch', action: 'reject_items' as const, match: '"plan":"gold"', body: { code: 'invalid_plan', message: 'gold is not a plan' } };

describe('accounting for every record', () => {
  it('defect 3: a job COMPLETED with errors > 0 has its /errors read; the rejected record is dead-lettered, not counted imported', async () => {
    const s = await sandboxWith({ jobStatusWithErrors: 'COMPLETED' });
    s.addFaults(gold);
    const dl = `${file.dir}/d3.ndjson`;
    const r = await runTargetBin(file.dir, binConfig(s, file.dir, { data_type: 'users', dead_letter_path: dl }), {
      input: singer(people, record('people', { uid: 'a', plan: 'free' }), record('people', { uid: 'b', plan: 'gold' }), record('people', { uid: 'c' }), state({ s: 1 })),
    });
    expect(r.code).toBe(0);
    expect(s.jobs()[0]).toMatchObject({ status: 'COMPLETED', errors: 1 });
    expect(r.deadLetters).toEqual([
      expect.objectContaining({ stream: 'people', record: { uid: 'b', plan: 'gold' }, reason: 'rejected_by_fullstory', code: 'invalid_plan', message: 'gold is not a plan' }),
    ]);
    expect(expectAccountedFor(r.stderr)).toMatchObject({ records_read: 3, imported: 2, rejected: 1 });
    expect(r.states).toEqual([{ s: 1 }]);
  });

  it('defect 4: a record neither imported nor listed in /errors is dead-lettered as unaccounted with the counts, never counted imported', async () => {
    const s = await sandboxWith({});
    s.addFaults({ method: 'POST', path: '/v2/users/batch', action: 'drop_items', match: '"uid":"lost"' });
    const dl = `${file.dir}/d4.ndjson`;
    const r = await runTargetBin(file.dir, binConfig(s, file.dir, { data_type: 'users', dead_letter_path: dl }), {
      input: singer(people, record('people', { uid: 'kept-1' }), record('people', { uid: 'lost' }), record('people', { uid: 'kept-2' }), state({ s: 1 })),
    });
    expect(r.code).toBe(0);
    expect(s.jobs()[0]).toMatchObject({ status: 'COMPLETED', requests: 3, imports: 2, errors: 0 });
    expect(r.deadLetters).toEqual([
      expect.objectContaining({
        stream: 'people',
        record: { uid: 'lost' },
        reason: 'unaccounted',
        code: 'unaccounted',
        message: expect.stringMatching(/reported imports=2 errors=none for 3 requests; neither its \/errors nor its \/imports names this record/),
      }),
    ]);
    expect(expectAccountedFor(r.stderr)).toMatchObject({ records_read: 3, imported: 2, rejected: 1, unaccounted: 1 });
    expect(r.states).toEqual([{ s: 1 }]);
  });

  it('defect 5: of two requests for one uid in a batch, the one FullStory rejected is dead-lettered, not the one it imported', async () => {
    const s = await sandboxWith({});
    s.addFaults(gold);
    const dl = `${file.dir}/d5.ndjson`;
    const r = await runTargetBin(file.dir, binConfig(s, file.dir, { data_type: 'users', dead_letter_path: dl }), {
      input: singer(people, record('people', { uid: 'same', plan: 'free' }), record('people', { uid: 'same', plan: 'gold' })),
    });
    expect(r.code).toBe(0);
    expect(r.deadLetters.map((d) => d['record'])).toEqual([{ uid: 'same', plan: 'gold' }]);
    expect(s.users().find((u) => u.uid === 'same')!.properties).toEqual({ plan: 'free' });
    expect(expectAccountedFor(r.stderr)).toMatchObject({ records_read: 2, imported: 1, rejected: 1 });
  });

  it('a Standard key (403 on /errors and /imports) loses track of nothing: the job’s records are dead-lettered as job_results_forbidden', async () => {
    const s = await sandboxWith({ standardKeys: ['std-key-0001'], apiKeys: [] });
    s.addFaults(gold);
    const dl = `${file.dir}/std.ndjson`;
    const r = await runTargetBin(file.dir, binConfig(s, file.dir, { data_type: 'users', batch_size: 2, dead_letter_path: dl }), {
      apiKey: 'std-key-0001',
      input: singer(people, record('people', { uid: 'a' }), record('people', { uid: 'b', plan: 'gold' }), record('people', { uid: 'c' }), state({ s: 1 })),
    });
    expect(r.code).toBe(0);
    // The batch without an error is imported as FullStory's counts say; the one with an error cannot be told apart.
    expect(r.deadLetters.map((d) => [(d['record'] as { uid: string }).uid, d['reason'], d['code']])).toEqual([
      ['a', 'unaccounted', 'job_results_forbidden'],
      ['b', 'unaccounted', 'job_results_forbidden'],
    ]);
    expect(String(r.deadLetters[0]!['message'])).toMatch(/reported imports=1 errors=1 for 2 requests, and this key may not read the job's errors \(403\)/);
    expect(expectAccountedFor(r.stderr)).toMatchObject({ records_read: 3, imported: 1, rejected: 2 });
    expect(r.states).toEqual([{ s: 1 }]);
  });
});
