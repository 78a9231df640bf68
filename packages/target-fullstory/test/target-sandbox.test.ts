/**
 * The target end to end against the sandbox (in-process, real HTTP client): mapping of each data
 * type, timestamps, property typing, dead-letter reasons, batching, the in-flight cap, state order.
 */
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ConfigError, InputError, RejectedRecordsError } from '@fullstory-singer/singer-core';
import { fixturePath } from '@fullstory-singer/singer-core/testing';
import { startSandbox } from 'fullstory-sandbox';
import { batchPosts, runWith, sandboxConfig, sandboxPerFile, singerFixture, usersInput } from './helpers.js';

const ctx = sandboxPerFile({ jobLatencyMs: 20 });

async function fixtureConfig(over: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const base = JSON.parse(await readFile(fixturePath('config', 'target-sandbox.json'), 'utf8')) as Record<string, unknown>;
  return { ...base, ...sandboxConfig(ctx.sandbox, ctx.dir), ...over };
}


const byUid = (uid: string) => ctx.sandbox.users().find((u) => u.uid === uid);

describe('users', () => {
  it('upserts by uid with mapped fields and typed, renamed properties (users_mapping_and_types.singer)', async () => {
    const r = await runWith(await fixtureConfig(), await singerFixture('users_mapping_and_types.singer'));
    expect(r.error).toBeUndefined();
    expect(ctx.sandbox.users()).toHaveLength(2);
    const ada = byUid('1')!;
    // The later record won for the fields it sent; the rest of the properties stayed.
    expect(ada.display_name).toBe('Ada King');
    expect(ada.email).toBe('ada@example.com');
    expect(ada.properties).toMatchObject({
      plan: 'enterprise',
      days_active: 13,
      ltv: 1234.5,
      vip: true,
      signed_up: '2024-01-02T03:04:05+02:00',
      birthday: '1815-12-10',
      tags: ['math', 'poet'],
      scores: [3, 5],
      address: { city: 'London', zip_code: 'W1' },
      orders: '[{"sku":"a","qty":1}]',
      first_name: 'Ada',
    });
    expect(byUid('2')!.properties).toMatchObject({ plan: 'free', vip: false, ltv: 0 });
    expect(byUid('2')!.email).toBeUndefined();
    // Types were declared from the SCHEMA (not guessed from values); the sandbox keeps the latest request's.
    expect(byUid('2')!.schema).toEqual({ properties: { plan: 'str', days_active: 'int', ltv: 'real', vip: 'bool', signed_up: 'date' } });
    expect(ada.schema).toEqual({ properties: { plan: 'str', days_active: 'int' } });
    expect(r.states).toEqual([{ bookmarks: { crm_users: { updated_at: '2024-02-02T00:00:00Z' } } }]);
    expect(r.summary).toMatchObject({ recordsRead: 3, sent: 3, imported: 3, rejectedByTarget: 0, propertiesStringified: 1 });
    expect(r.stderr).toMatch(/property name rewritten to FullStory rules from="first name" to=first_name/);
    expect(r.stderr).toMatch(/INFO finished records_read=3 sent=3 imported=3 rejected=0/);
    expect(r.deadLetters).toEqual([]);
  });

  it('declares every property type from the SCHEMA (request bodies of a dry run)', async () => {
    const bodies = join(ctx.dir, 'bodies.ndjson');
    const r = await runWith(await fixtureConfig({ dry_run: true, dry_run_path: bodies }), await singerFixture('users_mapping_and_types.singer'));
    expect(r.error).toBeUndefined();
    const first = (JSON.parse((await readFile(bodies, 'utf8')).split('\n')[0]!) as { body: { requests: Array<Record<string, unknown>> } }).body.requests[0]!;
    expect(first['schema']).toEqual({
      properties: {
        plan: 'str',
        days_active: 'int',
        ltv: 'real',
        vip: 'bool',
        signed_up: 'date',
        birthday: 'date',
        tags: 'strs',
        scores: 'ints',
        'address.city': 'str',
        'address.zip_code': 'str',
        orders: 'str',
        first_name: 'str',
      },
    });
  });
});

describe('events', () => {
  it('normalises every timestamp form and dead-letters the rest (events_timestamp_forms.singer)', async () => {
    const r = await runWith(await fixtureConfig(), await singerFixture('events_timestamp_forms.singer'));
    expect(r.error).toBeUndefined();
    const expected: Record<string, string> = {
      rfc3339_utc: '2024-03-15T14:23:23.000Z',
      rfc3339_offset: '2024-03-15T14:23:23.250Z',
      date: '2024-03-15T00:00:00.000Z',
      epoch_seconds: '2024-03-15T14:23:23.000Z',
      epoch_milliseconds: '2024-03-15T14:23:23.123Z',
      epoch_seconds_string: '2024-03-15T14:23:23.000Z',
      epoch_milliseconds_string: '2024-03-15T14:23:23.123Z',
      epoch_seconds_fraction: '2024-03-15T14:23:23.500Z',
    };
    const events = ctx.sandbox.events().map((e) => e.request);
    expect(events).toHaveLength(8);
    const got = Object.fromEntries(events.map((e) => [(e['properties'] as Record<string, unknown>)['form'], e['timestamp']]));
    expect(got).toEqual(expected);
    for (const e of events) {
      expect(e).toMatchObject({ name: 'Order Completed', user: { uid: expect.stringMatching(/^u[0-2]$/) } });
      // `quantity` is excluded by the config; price is declared real.
      expect(Object.keys(e['properties'] as object).sort()).toEqual(['form', 'price']);
      expect(e['schema']).toEqual({ properties: { form: 'str', price: 'real' } });
    }
    expect(r.deadLetters.map((d) => [d['reason'], d['code'], (d['record'] as Record<string, unknown>)['form']])).toEqual([
      ['invalid_value', 'invalid_timestamp', 'no_offset'],
      ['invalid_value', 'invalid_timestamp', 'impossible_date'],
    ]);
    expect(r.states).toEqual([{ app_events: '2024-03-15' }]);
  });

  it('sends session ids and most-recent-session requests as FullStory wants them', async () => {
    const input = [
      { type: 'SCHEMA', stream: 's', schema: { type: 'object', properties: {} }, key_properties: [] },
      { type: 'RECORD', stream: 's', record: { uid: 'a', event_name: 'Opened', sid: '123:456' } },
      { type: 'RECORD', stream: 's', record: { uid: 'b', event_name: 'Opened', sid: 'not-a-session' } },
    ]
      .map((m) => JSON.stringify(m))
      .join('\n');
    const r = await runWith(
      sandboxConfig(ctx.sandbox, ctx.dir, { streams: { s: { data_type: 'events', mapping: { session_id: 'sid' }, properties: { exclude: ['sid'] } } } }),
      input,
    );
    expect(r.error).toBeUndefined();
    // Identified by session alone (FullStory refuses user beside session.id); uid is a mapped field, not a property.
    const sent = ctx.sandbox.events().map((e) => e.request);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ session: { id: '123:456' }, name: 'Opened' });
    expect(sent[0]!['user']).toBeUndefined();
    expect(sent[0]!['properties']).toBeUndefined();
    // The sandbox (like FullStory) refuses a malformed session id: the record is dead-lettered as sent.
    expect(r.deadLetters).toEqual([
      expect.objectContaining({ stream: 's', reason: 'rejected_by_fullstory', code: 'invalid_argument', record: { uid: 'b', event_name: 'Opened', sid: 'not-a-session' } }),
    ]);

    ctx.sandbox.reset();
    const recent = await runWith(
      sandboxConfig(ctx.sandbox, ctx.dir, {
        dead_letter_path: join(ctx.dir, 'r2.ndjson'),
        streams: { s: { data_type: 'events', mapping: { use_most_recent_session: { value: true } }, properties: { include: [] } } },
      }),
      input,
    );
    expect(recent.error).toBeUndefined();
    expect(ctx.sandbox.events().map((e) => e.request)).toEqual([
      { user: { uid: 'a' }, session: { use_most_recent: true }, name: 'Opened', timestamp: expect.any(String) },
      { user: { uid: 'b' }, session: { use_most_recent: true }, name: 'Opened', timestamp: expect.any(String) },
    ]);
  });
});

describe('audience', () => {
  it('upsert mode sets the membership flag and the mapped fields (audience_members.singer)', async () => {
    const r = await runWith(await fixtureConfig(), await singerFixture('audience_members.singer'));
    expect(r.error).toBeUndefined();
    expect(byUid('c1')).toMatchObject({ email: 'c1@example.com', properties: { high_value_customers: true, ltv: 5000.5 } });
    expect(byUid('c2')!.properties).toMatchObject({ high_value_customers: true, ltv: 7200 });
    expect(byUid('c2')!.schema).toMatchObject({ properties: { high_value_customers: 'bool', ltv: 'real' } });
    expect(r.states).toEqual([{ high_value_customers: 'c2' }]);
  });

  it('add mode sends only the flag, under a configured property name', async () => {
    const config = await fixtureConfig();
    const streams = config['streams'] as Record<string, Record<string, unknown>>;
    streams['high_value_customers'] = { ...streams['high_value_customers'], audience_mode: 'add', audience_property: 'is_vip' };
    const r = await runWith(config, await singerFixture('audience_members.singer'));
    expect(r.error).toBeUndefined();
    expect(byUid('c1')).toMatchObject({ properties: { is_vip: true } });
    expect(byUid('c1')!.email).toBeUndefined();
    expect(Object.keys(byUid('c1')!.properties)).toEqual(['is_vip']);
  });

  it('an audience stream without audience_name is a config error naming it', async () => {
    const r = await runWith(sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'audience' }), usersInput('vip', 1));
    expect(r.error).toBeInstanceOf(ConfigError);
    expect(r.error!.message).toBe('streams.vip.audience_name: required for data_type "audience"');
  });
});

describe('dead-letter file', () => {
  it('holds every rejected record, by us or by FullStory, with its reason (rejections_each_reason.singer)', async () => {
    const r = await runWith(await fixtureConfig(), await singerFixture('rejections_each_reason.singer'));
    expect(r.error).toBeUndefined();
    const lines = r.deadLetters.map((d) => [(d['record'] as Record<string, unknown>)['id'], d['reason'], d['code']]);
    expect(lines).toEqual([
      ['two', 'schema_validation', 'type'],
      [3, 'schema_validation', 'format'],
      [4, 'missing_required_field', 'required_field'],
      [5, 'missing_required_field', 'required_field'],
      [6, 'invalid_value', 'invalid_uid'],
      // Past FullStory's documented limits: rejected before sending.
      [7, 'invalid_value', 'email_too_long'],
      [8, 'invalid_value', 'uid_too_long'],
    ]);
    for (const d of r.deadLetters) {
      expect(d).toEqual({ stream: 'accounts', record: expect.any(Object), reason: expect.any(String), code: expect.any(String), message: expect.any(String), at: expect.stringMatching(/Z$/) });
    }
    // The records are the originals, as read.
    expect(r.deadLetters[6]!['record']).toEqual({ id: 8, uid: 'u'.repeat(300) });
    expect(r.deadLetters[1]!['message']).toBe('/updated: must match format "date-time"');
    expect(ctx.sandbox.users().map((u) => u.uid).sort()).toEqual(['ok-1', 'ok-9']);
    expect(r.states).toEqual([{ accounts: 9 }]);
    expect(r.summary).toMatchObject({ recordsRead: 9, sent: 2, imported: 2, rejected: 7, rejectedByTarget: 7, rejectedByFullStory: 0, unsettled: 0 });
    expect(r.stderr).toMatch(/rejected=7 .*dead_letter=\S*rejected\.ndjson/);
  });

  it('fail_on_rejected exits 6 after writing the state', async () => {
    const r = await runWith(await fixtureConfig({ fail_on_rejected: true }), await singerFixture('rejections_each_reason.singer'));
    expect(r.error).toBeInstanceOf(RejectedRecordsError);
    expect(r.error!.exitCode).toBe(6);
    expect(r.states).toEqual([{ accounts: 9 }]);
  });

  it('validate_records false lets a record that breaks its schema through', async () => {
    const input = [
      JSON.stringify({ type: 'SCHEMA', stream: 'p', schema: { type: 'object', properties: { uid: { type: 'integer' } } }, key_properties: [] }),
      JSON.stringify({ type: 'RECORD', stream: 'p', record: { uid: 'text' } }),
    ].join('\n');
    const strict = await runWith(sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'users' }), input);
    expect(strict.deadLetters).toHaveLength(1);
    const lax = await runWith(sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'users', validate_records: false, dead_letter_path: join(ctx.dir, 'x') }), input);
    expect(lax.deadLetters).toHaveLength(0);
    expect(byUid('text')).toBeDefined();
  });
});

describe('batching', () => {
  it('cuts batches at batch_size and sends the rest at the end', async () => {
    const lines = [JSON.stringify({ type: 'SCHEMA', stream: 'ev', schema: { type: 'object', properties: {} }, key_properties: [] })];
    for (let i = 0; i < 25; i++) lines.push(JSON.stringify({ type: 'RECORD', stream: 'ev', record: { uid: `u${i}`, event_name: 'E' } }));
    const r = await runWith(sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'events', batch_size: 10 }), lines.join('\n'), { progress: true });
    expect(r.error).toBeUndefined();
    // Progress lines on stderr as jobs finish; the last one counts everything.
    expect(r.stderr).toMatch(/INFO progress: records read=25 sent=25 imported=25 rejected=0 jobs_in_flight=\d/);
    const sizes = new Map<string, number>();
    for (const e of ctx.sandbox.events()) sizes.set(e.via, (sizes.get(e.via) ?? 0) + 1);
    expect([...sizes.values()]).toEqual([10, 10, 5]);
    const posts = batchPosts(ctx.sandbox, 'events');
    expect(posts).toHaveLength(3);
    // One Idempotency-Key per batch.
    expect(new Set(posts.map((p) => p.headers['idempotency-key'])).size).toBe(3);
  });

  it('a STATE does not cut a batch; a changed SCHEMA does', async () => {
    const schema = (extra: Record<string, unknown>) =>
      JSON.stringify({ type: 'SCHEMA', stream: 'p', schema: { type: 'object', properties: { uid: { type: 'string' }, ...extra } }, key_properties: [] });
    const rec = (uid: string) => JSON.stringify({ type: 'RECORD', stream: 'p', record: { uid } });
    const input = [schema({}), rec('a'), JSON.stringify({ type: 'STATE', value: { s: 1 } }), rec('b'), schema({}), rec('c'), schema({ x: { type: 'integer' } }), rec('d')];
    const r = await runWith(sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'users' }), input.join('\n'));
    expect(r.error).toBeUndefined();
    // a+b (the repeated identical SCHEMA changes nothing), then c, then d.
    expect(batchPosts(ctx.sandbox)).toHaveLength(2);
    expect(ctx.sandbox.users()).toHaveLength(4);
  });

  it('sends a partial batch once it is max_batch_age_seconds old, while input is still open', async () => {
    const stream = new PassThrough();
    const states: unknown[] = [];
    const running = runWith(sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'users', max_batch_age_seconds: 0.2 }), '', {
      stream,
      onState: (v) => states.push(v),
    });
    stream.write(`${usersInput('p', 3)}${JSON.stringify({ type: 'STATE', value: { at: 3 } })}\n`);
    const deadline = Date.now() + 10_000;
    while (states.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    // The batch went out and its state was written before the input ended.
    expect(states).toEqual([{ at: 3 }]);
    expect(ctx.sandbox.users()).toHaveLength(3);
    stream.end();
    const r = await running;
    expect(r.error).toBeUndefined();
    expect(batchPosts(ctx.sandbox)).toHaveLength(1);
  });
});

describe('jobs in flight', () => {
  it('never has more than max_jobs_in_flight unfinished jobs (checked by the sandbox)', async () => {
    const slow = await startSandbox({ port: 0, bundles: 0, jobLatencyMs: 60 });
    try {
      const r = await runWith(sandboxConfig(slow, ctx.dir, { data_type: 'users', batch_size: 2, max_jobs_in_flight: 3 }), usersInput('p', 40));
      expect(r.error).toBeUndefined();
      expect(slow.users()).toHaveLength(40);
      expect(slow.maxConcurrentJobs()).toBeLessThanOrEqual(3);
      expect(slow.maxConcurrentJobs()).toBeGreaterThanOrEqual(2);
      expect(r.summary?.jobs).toBe(20);
    } finally {
      await slow.close();
    }
  });

  it('stops reading stdin at the cap: records held never exceed batch_size x (jobs in flight + 1)', async () => {
    const slow = await startSandbox({ port: 0, bundles: 0, jobLatencyMs: 50 });
    try {
      let pulled = 0;
      let maxHeld = 0;
      async function* input(): AsyncGenerator<string> {
        yield usersInput('p', 0);
        for (let i = 0; i < 120; i++) {
          // Everything pulled and not yet in the sandbox is held by the target (buffered or in a job).
          maxHeld = Math.max(maxHeld, pulled - slow.users().length);
          pulled++;
          yield `${JSON.stringify({ type: 'RECORD', stream: 'p', record: { uid: `u${i}` } })}\n`;
        }
      }
      const r = await runWith(sandboxConfig(slow, ctx.dir, { data_type: 'users', batch_size: 10, max_jobs_in_flight: 2 }), '', { stream: input() });
      expect(r.error).toBeUndefined();
      expect(slow.users()).toHaveLength(120);
      expect(maxHeld).toBeLessThanOrEqual(10 * (2 + 1));
      // The cap was reached, so the bound was really exercised.
      expect(slow.maxConcurrentJobs()).toBe(2);
    } finally {
      await slow.close();
    }
  });

  it('emits each state in order, only after every record before it is imported (slow jobs)', async () => {
    const slow = await startSandbox({ port: 0, bundles: 0, jobLatencyMs: 40 });
    try {
      const seen: number[] = [];
      const problems: string[] = [];
      const r = await runWith(
        sandboxConfig(slow, ctx.dir, { data_type: 'users', batch_size: 3, max_jobs_in_flight: 4 }),
        usersInput('p', 30, 'u', (i) => [JSON.stringify({ type: 'STATE', value: { done: i } })]),
        {
          onState: (v) => {
            const done = (v as { done: number }).done;
            seen.push(done);
            const have = new Set(slow.users().map((u) => u.uid));
            for (let i = 0; i <= done; i++) if (!have.has(`u${i}`)) problems.push(`state ${done} before u${i} was imported`);
          },
        },
      );
      expect(r.error).toBeUndefined();
      expect(problems).toEqual([]);
      expect(seen.length).toBeGreaterThan(1);
      expect([...seen].sort((a, b) => a - b)).toEqual(seen);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen[seen.length - 1]).toBe(29);
    } finally {
      await slow.close();
    }
  });

  it('keeps states in input order across streams (states_interleaved_two_streams.singer)', async () => {
    const r = await runWith(await fixtureConfig({ batch_size: 1 }), await singerFixture('states_interleaved_two_streams.singer'));
    expect(r.error).toBeUndefined();
    const steps = r.states.map((s) => (s as { step: number }).step);
    expect([...steps].sort()).toEqual(steps);
    expect(steps[steps.length - 1]).toBe(4);
    expect(ctx.sandbox.users()).toHaveLength(3);
    expect(ctx.sandbox.events()).toHaveLength(2);
    expect(r.stderr).toMatch(/message type not used by this target; skipped type=ACTIVATE_VERSION/);
  });

  it('with wait_for_jobs false, a state may go out once its jobs are created', async () => {
    const slow = await startSandbox({ port: 0, bundles: 0, jobLatencyMs: 400 });
    try {
      const usersAtState: number[] = [];
      const r = await runWith(
        sandboxConfig(slow, ctx.dir, { data_type: 'users', wait_for_jobs: false }),
        `${usersInput('p', 2)}${JSON.stringify({ type: 'STATE', value: { s: 1 } })}\n`,
        { onState: () => usersAtState.push(slow.users().length) },
      );
      expect(r.error).toBeUndefined();
      expect(usersAtState).toEqual([0]);
      // The run still waits for the jobs before it ends.
      expect(slow.users()).toHaveLength(2);
    } finally {
      await slow.close();
    }
  });
});

describe('bad input and config', () => {
  it('exits 3 naming the line after finishing what came before it (bad_line_after_records.singer)', async () => {
    const r = await runWith(await fixtureConfig(), await singerFixture('bad_line_after_records.singer'));
    expect(r.error).toBeInstanceOf(InputError);
    expect(r.error!.exitCode).toBe(3);
    expect(r.error!.message).toMatch(/^stdin:5: not valid JSON/);
    expect(ctx.sandbox.users().map((u) => u.uid).sort()).toEqual(['before-1', 'before-2']);
    expect(r.states).toEqual([{ people: 'before-2' }]);
  });

  it('a SCHEMA that is not a valid JSON Schema exits 3 naming its line', async () => {
    const input = [
      JSON.stringify({ type: 'SCHEMA', stream: 'p', schema: { type: 'object', properties: { uid: { $ref: '#/definitions/missing' } } }, key_properties: [] }),
      JSON.stringify({ type: 'RECORD', stream: 'p', record: { uid: 'x' } }),
    ].join('\n');
    const r = await runWith(sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'users' }), input);
    expect(r.error).toBeInstanceOf(InputError);
    expect(r.error!.message).toMatch(/^stdin:1: SCHEMA for stream "p" is not a valid JSON Schema/);
    expect(ctx.sandbox.requests()).toEqual([]);
  });

  it('a stream with no data type is a config error at its SCHEMA, naming the stream', async () => {
    const input = `${usersInput('known', 2)}${usersInput('unknown_stream', 1)}`;
    const r = await runWith(sandboxConfig(ctx.sandbox, ctx.dir, { streams: { known: { data_type: 'users' } } }), input);
    expect(r.error).toBeInstanceOf(ConfigError);
    expect(r.error!.message).toMatch(/stream "unknown_stream": no data type/);
    // What was read before it still went out.
    expect(ctx.sandbox.users()).toHaveLength(2);
  });
});

describe('dry run', () => {
  it('maps, validates and batches, sends nothing, writes the bodies, emits no state', async () => {
    const cfg = JSON.parse(await readFile(fixturePath('config', 'target-dry-run.json'), 'utf8')) as Record<string, unknown>;
    const bodies = join(ctx.dir, 'bodies.ndjson');
    const r = await runWith(
      { ...cfg, dead_letter_path: join(ctx.dir, 'rejected.ndjson'), dry_run_path: bodies },
      `${usersInput('p', 5)}${JSON.stringify({ type: 'RECORD', stream: 'p', record: { n: 1 } })}\n${JSON.stringify({ type: 'STATE', value: { s: 1 } })}\n`,
    );
    expect(r.error).toBeUndefined();
    expect(ctx.sandbox.requests()).toEqual([]);
    expect(r.states).toEqual([]);
    const lines = (await readFile(bodies, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => (l['body'] as { requests: unknown[] }).requests.length)).toEqual([2, 2, 1]);
    expect(lines[0]).toMatchObject({ stream: 'p', endpoint: '/v2/users/batch', body: { requests: [{ uid: 'u0', properties: { n: 0 } }, { uid: 'u1' }] } });
    expect(r.deadLetters).toHaveLength(1);
    // The dry run's jobs answer COMPLETED at once: its records count as imported, as they would be.
    expect(r.summary).toMatchObject({ dryRun: true, sent: 5, jobs: 3, imported: 5, rejectedByTarget: 1, unsettled: 0 });
    expect(r.stderr).toMatch(/dry run finished \(nothing was sent\)/);
  });
});
