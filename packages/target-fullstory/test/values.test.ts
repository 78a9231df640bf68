/**
 * Values FullStory cannot take are never changed silently (issue 10, defect 6): property names that
 * collide once rewritten, a literal dotted key beside a mapped nested path, a number JSON cannot carry,
 * and values past FullStory's documented limits. Black box: the built bin against the sandbox.
 */
import { describe, expect, it } from '@jest/globals';
import { binConfig, expectAccountedFor, record, runTargetBin, schema, singer } from './bin-helpers.js';
import { sandboxPerFile } from './helpers.js';

const ctx = sandboxPerFile({ jobLatencyMs: 20 });

const user = (uid: string) => ctx.sandbox.users().find((u) => u.uid === uid);

describe('values', () => {
  it('defect 6: names that collide once rewritten reject the record (named code), instead of overwriting four of six values', async () => {
    const colliding = { uid: 'collide', 'a-b': 1, a_b: 2, 'a.b': 3, 'a b': 4, '😀': 5, '😎': 6 };
    const r = await runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', dead_letter_path: `${ctx.dir}/collide.ndjson` }), {
      input: singer(schema('p'), record('p', colliding), record('p', { uid: 'fine', 'a-b': 1, c: 2 })),
    });
    expect(r.code).toBe(0);
    expect(r.deadLetters).toEqual([
      expect.objectContaining({ record: colliding, reason: 'invalid_value', code: 'property_name_collision', message: expect.stringMatching(/"a-b" and "a_b" are both sent as property "a_b"/) }),
    ]);
    expect(user('collide')).toBeUndefined();
    expect(user('fine')!.properties).toEqual({ a_b: 1, c: 2 });
    expect(expectAccountedFor(r.stderr)).toMatchObject({ records_read: 2, imported: 1, rejected: 1 });
  });

  it('defect 6: a literal top-level "profile.id" beside a mapping of the nested path profile.id is sent as a property', async () => {
    const config = binConfig(ctx.sandbox, ctx.dir, { streams: { p: { data_type: 'users', mapping: { uid: 'profile.id' } } }, dead_letter_path: `${ctx.dir}/dotted.ndjson` });
    const r = await runTargetBin(ctx.dir, config, { input: singer(schema('p'), record('p', { profile: { id: 'u7', tier: 'gold' }, 'profile.id': 'literal' })) });
    expect(r.code).toBe(0);
    expect(user('u7')!.properties).toEqual({ profile: { tier: 'gold' }, profile_id: 'literal' });
    expect(r.deadLetters).toEqual([]);
  });

  it('defect 6: 1e400 (Infinity once parsed) rejects the record as non_finite_number instead of being sent as null typed real', async () => {
    const numeric = schema('p', { uid: { type: 'string' }, score: { type: 'number' }, n: { type: 'integer' } });
    const input = `${singer(numeric)}{"type":"RECORD","stream":"p","record":{"uid":"inf","score":1e400}}\n{"type":"RECORD","stream":"p","record":{"uid":"neg","n":-1e999}}\n${singer(record('p', { uid: 'ok', score: 1.5 }))}`;
    const r = await runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', dead_letter_path: `${ctx.dir}/inf.ndjson` }), { input });
    expect(r.code).toBe(0);
    expect(r.deadLetters.map((d) => [(d['record'] as { uid: string }).uid, d['code']])).toEqual([
      ['inf', 'non_finite_number'],
      ['neg', 'non_finite_number'],
    ]);
    expect(ctx.sandbox.users().map((u) => u.uid)).toEqual(['ok']);
    expect(user('ok')!.schema).toEqual({ properties: { score: 'real' } });
  });

  it('values past the documented limits are dead-lettered before sending, naming the limit', async () => {
    const r = await runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', dead_letter_path: `${ctx.dir}/limits.ndjson` }), {
      input: singer(
        schema('p'),
        record('p', { uid: 'u'.repeat(257) }),
        record('p', { uid: 'long-name', display_name: 'd'.repeat(257) }),
        record('p', { uid: 'long-email', email: `${'e'.repeat(120)}@example.com` }),
        record('p', { uid: 'many', ...Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`p${i}`, i])) }),
        record('p', { uid: '🙂'.repeat(256) }),
      ),
    });
    expect(r.code).toBe(0);
    expect(r.deadLetters.map((d) => d['code'])).toEqual(['uid_too_long', 'display_name_too_long', 'email_too_long', 'too_many_properties']);
    // 256 emoji are 512 UTF-16 units but 256 characters: within the limit.
    expect(ctx.sandbox.users().map((u) => [...u.uid!].length)).toEqual([256]);
  });
});
