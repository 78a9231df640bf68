/**
 * The Meltano SDK target test streams (fixtures/singer/conformance/, copied from meltano/sdk@136de07f,
 * Apache-2.0, see fixtures/singer/conformance/NOTICE) through the target against the sandbox: run with
 * `data_type: "users"` and, per stream, `mapping.uid` set to the stream's key property.
 */
import { describe, expect, it } from '@jest/globals';
import { readdir } from 'node:fs/promises';
import { InputError } from '@fullstory-singer/singer-core';
import { fixturePath } from '@fullstory-singer/singer-core/testing';
import { batchPosts, runWith, sandboxConfig, sandboxPerFile, singerFixture, type RunResult } from './helpers.js';

const ctx = sandboxPerFile({ jobLatencyMs: 10 });


// Streams with no key property: the field that identifies their records.
const UID_WITHOUT_KEY: Record<string, string> = {
  test_no_pk: 'id',
  test_record_missing_required_property: 'id',
  test_object_schema_with_properties: 'object_store.id',
  test_object_schema_no_properties: 'object_store.id',
};

interface Parsed {
  text: string;
  records: number;
  lastState?: unknown;
  config: Record<string, unknown>;
}

async function load(file: string): Promise<Parsed> {
  const text = await singerFixture('conformance', file);
  const streams: Record<string, { mapping: { uid: string } }> = {};
  let records = 0;
  let lastState: unknown;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (m['type'] === 'SCHEMA') {
      const stream = m['stream'] as string;
      // pk_updates.singer nests key_properties inside the schema.
      const keys = (m['key_properties'] ?? (m['schema'] as Record<string, unknown>)['key_properties'] ?? []) as string[];
      streams[stream] = { mapping: { uid: keys[0] ?? UID_WITHOUT_KEY[stream] ?? 'id' } };
    } else if (m['type'] === 'RECORD') records++;
    else if (m['type'] === 'STATE' && Object.keys(m['value'] as object).length > 0) lastState = m['value'];
  }
  return { text, records, lastState, config: sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'users', streams }) };
}

const uids = () => ctx.sandbox.users().map((u) => u.uid).sort((a, b) => Number(a) - Number(b) || String(a).localeCompare(String(b)));
const props = (uid: string) => ctx.sandbox.users().find((u) => u.uid === uid)?.properties;

/** Every record landed, nothing rejected, exit 0, the last state written last. */
function expectAllLanded(r: RunResult, p: Parsed): void {
  expect(r.error).toBeUndefined();
  expect(r.deadLetters).toEqual([]);
  expect(r.summary).toMatchObject({ recordsRead: p.records, sent: p.records, imported: p.records, rejected: 0, unsettled: 0 });
  if (p.lastState === undefined) expect(r.states).toEqual([]);
  else expect(r.states[r.states.length - 1]).toEqual(p.lastState);
}

describe('Meltano SDK target test streams', () => {
  it('the copy holds all 20 streams', async () => {
    const files = (await readdir(fixturePath('singer', 'conformance'))).filter((f) => f.endsWith('.singer'));
    expect(files).toHaveLength(20);
  });

  it('record_before_schema: exit 3 naming the line, nothing sent', async () => {
    const p = await load('record_before_schema.singer');
    const r = await runWith(p.config, p.text);
    expect(r.error).toBeInstanceOf(InputError);
    expect(r.error!.exitCode).toBe(3);
    expect(r.error!.message).toBe('stdin:1: RECORD for stream "test_record_before_schema" arrived before its SCHEMA');
    expect(ctx.sandbox.requests()).toEqual([]);
  });

  it('invalid_schema: exit 3 naming the line', async () => {
    const p = await load('invalid_schema.singer');
    const r = await runWith(p.config, p.text);
    expect(r.error).toBeInstanceOf(InputError);
    expect(r.error!.message).toBe('stdin:1: SCHEMA for stream "test_invalid_schema" has no "properties"');
  });

  it('record_missing_key_property: a dead-letter line, exit 0', async () => {
    const p = await load('record_missing_key_property.singer');
    const r = await runWith(p.config, p.text);
    expect(r.error).toBeUndefined();
    expect(r.deadLetters).toEqual([
      expect.objectContaining({ stream: 'test_record_missing_key_property', record: { metric: 8214 }, reason: 'missing_required_field', code: 'required_field' }),
    ]);
  });

  it('record_missing_required_property: fails its schema, a dead-letter line, exit 0', async () => {
    const p = await load('record_missing_required_property.singer');
    const r = await runWith(p.config, p.text);
    expect(r.error).toBeUndefined();
    expect(r.deadLetters).toEqual([
      expect.objectContaining({ record: { metric: 3215 }, reason: 'schema_validation', code: 'required', message: "/: must have required property 'id'" }),
    ]);
  });

  it('multiple_state_messages: states in input order, each after its records are imported', async () => {
    const p = await load('multiple_state_messages.singer');
    const expectedStates: unknown[] = [];
    const uidsBefore = new Map<string, Set<string>>();
    const seenUids = new Set<string>();
    for (const line of p.text.split('\n').filter((l) => l !== '')) {
      const m = JSON.parse(line) as { type: string; record?: { id: number }; value?: unknown };
      if (m.type === 'RECORD') seenUids.add(String(m.record!.id));
      if (m.type === 'STATE') {
        expectedStates.push(m.value);
        uidsBefore.set(JSON.stringify(m.value), new Set(seenUids));
      }
    }
    const problems: string[] = [];
    const r = await runWith({ ...p.config, batch_size: 1 }, p.text, {
      onState: (v) => {
        const have = new Set(ctx.sandbox.users().map((u) => u.uid));
        for (const uid of uidsBefore.get(JSON.stringify(v)) ?? []) if (!have.has(uid)) problems.push(`${JSON.stringify(v)} before ${uid}`);
      },
    });
    expectAllLanded(r, p);
    expect(problems).toEqual([]);
    // Each written state is one of the input's, in input order.
    const positions = r.states.map((s) => expectedStates.findIndex((e) => JSON.stringify(e) === JSON.stringify(s)));
    expect(positions.every((i) => i >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('schema_updates: every record lands with the properties of its own SCHEMA', async () => {
    const p = await load('schema_updates.singer');
    const r = await runWith(p.config, p.text);
    expectAllLanded(r, p);
    // Each SCHEMA change sent the open batch first: one batch per schema.
    expect(batchPosts(ctx.sandbox)).toHaveLength(4);
    expect(props('1')).toEqual({ a1: 101, a2: 'string1' });
    expect(props('2')).toEqual({ a1: 102, a2: 'string2', a3: true });
    expect(props('3')).toEqual({ a1: 103, a2: 'string3', a3: false, a4: { id: 1, value: 1 }, a5: ['banana', 'apple'] });
    expect(props('6')).toEqual({ a1: 106, a2: 'string6', a3: true, a4: { id: 4, value: 444 }, a5: ['banana', 'orange'], a6: 341 });
    expect(ctx.sandbox.users().find((u) => u.uid === '6')!.schema).toEqual({
      properties: { a1: 'real', a2: 'str', a3: 'bool', 'a4.id': 'int', 'a4.value': 'int', a5: 'strs', a6: 'int' },
    });
  });

  it('special_chars_in_attributes: property names rewritten to FullStory rules, each logged once', async () => {
    const p = await load('special_chars_in_attributes.singer');
    const r = await runWith(p.config, p.text);
    expectAllLanded(r, p);
    expect(props('a2e98886')).toEqual({ d: { env: 'prod', agent_type: 'desktop', agent_os_version: '10.13.1' } });
    const rewrites = r.stderr.split('\n').filter((l) => l.includes('property name rewritten'));
    expect(rewrites).toEqual([
      'INFO property name rewritten to FullStory rules from=agent:type to=agent_type',
      'INFO property name rewritten to FullStory rules from=agent:os:version to=agent_os_version',
    ]);
  });

  it('camelcase: names already valid stay as they are', async () => {
    const p = await load('camelcase.singer');
    const r = await runWith(p.config, p.text);
    expectAllLanded(r, p);
    expect(props('1')).toEqual({ clientName: 'Gitter Windows Desktop App' });
    expect(props('2')).toEqual({ clientName: 'Gitter iOS App' });
  });

  it('camelcase_complex_schema: two SCHEMAs and no records: nothing sent, exit 0', async () => {
    const p = await load('camelcase_complex_schema.singer');
    const r = await runWith(p.config, p.text);
    expectAllLanded(r, p);
    expect(ctx.sandbox.requests()).toEqual([]);
  });

  it('array_data: arrays of strings land typed strs', async () => {
    const p = await load('array_data.singer');
    const r = await runWith(p.config, p.text);
    expectAllLanded(r, p);
    expect(uids()).toEqual(['1', '2', '3', '4']);
    expect(props('4')).toEqual({ fruits: ['orange', 'banana', 'apple', 'pear'] });
    expect(ctx.sandbox.users().find((u) => u.uid === '4')!.schema).toEqual({ properties: { fruits: 'strs' } });
  });

  it('encoded_string_data: every string arrives byte for byte', async () => {
    const p = await load('encoded_string_data.singer');
    const r = await runWith(p.config, p.text);
    expectAllLanded(r, p);
    // Three streams share the uids 1..11; upserts merge their properties, the last value wins.
    expect(props('2')).toMatchObject({ info: { name: 'greek', value: 'απλή συμβολοσειρά' }, strings: ['chaîne simple', 'quoted "string"'] });
    expect(props('11')).toEqual({ info: { name: 'Control Characters in string', value: '\u0000 A \u0001' } });
    expect(props('6')).toMatchObject({ strings: ['bbb', 'Control Characters in string: \u0000 A \u0001'] });
  });

  it.each(['optional_attributes.singer', 'record_missing_fields.singer'])('%s: absent optional fields are simply not sent', async (file) => {
    const p = await load(file);
    const r = await runWith(p.config, p.text);
    expectAllLanded(r, p);
    expect(props('2')).toEqual({});
  });

  it('record_missing_fields: its `{}` state is never written', async () => {
    const p = await load('record_missing_fields.singer');
    const r = await runWith(p.config, p.text);
    expect(r.states).toEqual([]);
  });

  it('duplicate_records: upserted by uid, the last value wins', async () => {
    const p = await load('duplicate_records.singer');
    const r = await runWith(p.config, p.text);
    expectAllLanded(r, p);
    expect(uids()).toEqual(['1', '2']);
    expect(props('1')).toEqual({ metric: 100 });
    expect(props('2')).toEqual({ metric: 20 });
  });

  it('duplicate_records: the last value wins even with one record per batch and many jobs in flight', async () => {
    const p = await load('duplicate_records.singer');
    const r = await runWith({ ...p.config, batch_size: 1, max_jobs_in_flight: 10 }, p.text);
    expectAllLanded(r, p);
    expect(props('1')).toEqual({ metric: 100 });
    expect(props('2')).toEqual({ metric: 20 });
  });

  it.each(['no_primary_keys.singer', 'no_primary_keys_append.singer'])('%s: every record lands', async (file) => {
    const p = await load(file);
    const r = await runWith(p.config, p.text);
    expectAllLanded(r, p);
    expect(uids()).toHaveLength(p.records);
  });

  it.each(['user_location_data.singer', 'user_location_upsert_data.singer'])('%s: every record lands (users upserted by uid)', async (file) => {
    const p = await load(file);
    const r = await runWith(p.config, p.text);
    expectAllLanded(r, p);
  });

  it('user_location_upsert_data: later records of a uid win', async () => {
    const p = await load('user_location_upsert_data.singer');
    await runWith(p.config, p.text);
    // uid 1: test_users "Johny", test_locations "Philly", then test_user_in_location (info, user_id...).
    expect(props('1')).toEqual({ name: 'Philly', user_id: 1, location_id: 4, info: { weather: 'rainy', mood: 'sad' } });
    expect(props('14')).toMatchObject({ info: { weather: 'cloudy', mood: 'ok' } });
  });

  it('schema_no_properties: nested objects, with or without declared properties, land', async () => {
    const p = await load('schema_no_properties.singer');
    const r = await runWith(p.config, p.text);
    expectAllLanded(r, p);
    // uid comes from object_store.id; the rest of the object is a property.
    expect(props('1')).toEqual({ object_store: { metric: 1 } });
    expect(props('2')).toEqual({ object_store: { metric: 2 } });
  });

  // The SCHEMA's key_properties sit inside `schema`, not at the top level: read as [].
  it('pk_updates: every record lands (a SCHEMA whose key_properties sit inside the schema)', async () => {
    const p = await load('pk_updates.singer');
    const r = await runWith(p.config, p.text);
    expectAllLanded(r, p);
    // The stream's last SCHEMA names `email` as its key, so the test config maps uid <- email.
    expect(props('alice@example.com')).toMatchObject({ name: 'Alice', id: 1 });
    expect(props('bob@example.com')).toMatchObject({ name: 'Bob', id: 2 });
  });
});
