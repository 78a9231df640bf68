import { afterEach, describe, expect, it } from '@jest/globals';
import { startSandbox, type Sandbox, type SandboxOptions } from '../src/index.js';
import { getJson, postJson, waitFor } from './helpers.js';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: SandboxOptions = {}): Promise<Sandbox> {
  sandbox = await startSandbox({ jobLatencyMs: 50, ...options });
  return sandbox;
}

/** Adds a short label (body excerpt and expected code) to each [body, code] case. */
function labelled(cases: [unknown, string][]): [string, unknown, string][] {
  return cases.map(([body, code]) => {
    const text = JSON.stringify(body);
    return [`${text.length > 70 ? `${text.slice(0, 70)}...` : text} with 400 ${code}`, body, code];
  });
}

/** Polls a job until it leaves PROCESSING. */
async function finished(url: string, kind: string, id: string): Promise<any> {
  return waitFor(async () => {
    const r = await getJson(url, `/v2/${kind}/batch/${id}`);
    return r.body.job.status === 'PROCESSING' ? undefined : r.body;
  });
}

describe('POST /v2/users', () => {
  it('creates, then upserts by uid merging properties (last write wins)', async () => {
    const s = await start();
    const a = await postJson(s.url, '/v2/users', { uid: 'u1', display_name: 'Ann', properties: { plan: 'free', seats: 2, address: { city: 'Oslo', zip: '0150' } } });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ id: expect.stringMatching(/^\d+$/) });
    const b = await postJson(s.url, '/v2/users', { uid: 'u1', email: 'ann@example.com', properties: { plan: 'paid', address: { city: 'Bergen' }, big: 9007199254740993n.toString() } });
    expect(b.body.id).toBe(a.body.id);
    const anon = await postJson(s.url, '/v2/users', { properties: { x: true } });
    expect(anon.status).toBe(200);
    expect(anon.body.id).not.toBe(a.body.id);
    const users = s.users();
    expect(users).toHaveLength(2);
    expect(users.find((u) => u.uid === 'u1')).toMatchObject({
      id: a.body.id, display_name: 'Ann', email: 'ann@example.com',
      properties: { plan: 'paid', seats: 2, address: { city: 'Bergen', zip: '0150' }, big: '9007199254740993' },
    });
    const one = await getJson(s.url, `/v2/users/${a.body.id}`);
    expect(one.body).toMatchObject({ id: a.body.id, uid: 'u1', properties: { plan: 'paid' } });
    const byUid = await getJson(s.url, '/v2/users?uid=u1');
    expect(byUid.body).toMatchObject({ total_records: '1', results: [{ id: a.body.id }] });
  });

  it('keeps integers above 2^53 exact', async () => {
    const s = await start();
    const res = await postJson(s.url, '/v2/users', '{"uid":"big","properties":{"n":9007199254740993}}');
    expect(res.status).toBe(200);
    expect(s.users()[0]!.properties.n).toBe(9007199254740993n);
    const inspected = await getJson(s.url, '/__sandbox/users');
    expect(inspected.text).toContain('"n":9007199254740993}');
  });

  it.each(labelled([
    [{ uid: 'x'.repeat(257) }, 'field_too_long'],
    [{ uid: 'ok', display_name: 'd'.repeat(257) }, 'field_too_long'],
    [{ uid: 'ok', email: `${'e'.repeat(120)}@example.com` }, 'field_too_long'],
    [{ uid: 'ok', properties: { '1st': 1 } }, 'invalid_property_name'],
    [{ uid: 'ok', properties: { 'has-dash': 1 } }, 'invalid_property_name'],
    [{ uid: 'ok', properties: { a: { [`b${'c'.repeat(511)}`]: 1 } } }, 'invalid_property_name'],
    [{ uid: 'ok', properties: { list: [{ a: 1 }] } }, 'invalid_property_value'],
    [{ uid: 'ok', properties: { text: 'y'.repeat(8193) } }, 'property_value_too_large'],
    [{ uid: 'ok', properties: Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`p${i}`, i])) }, 'too_many_properties'],
    [{ uid: 'ok', schema: { properties: { a: 'float' } } }, 'invalid_argument'],
    [[1, 2], 'invalid_argument'],
  ]))('rejects %s', async (_label, body, code) => {
    const s = await start();
    const res = await postJson(s.url, '/v2/users', body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code, message: expect.any(String) });
    expect(s.users()).toHaveLength(0);
  });

  it('accepts the limits exactly (uid 256, value 8192 bytes, dotted path 512)', async () => {
    const s = await start();
    const res = await postJson(s.url, '/v2/users', {
      uid: 'u'.repeat(256), display_name: 'd'.repeat(256), email: `${'e'.repeat(116)}@example.com`,
      properties: { text: 'y'.repeat(8192), a: { [`b${'c'.repeat(509)}`]: 1 }, tags: ['a', 'b'], n: null },
    });
    expect(res.status).toBe(200);
  });

  it('answers 400 for a body that is not JSON, 404 for an unknown route, and 403 on writes with a read-only key', async () => {
    const s = await start({ readOnlyKeys: ['ro'] });
    expect((await postJson(s.url, '/v2/users', '{"uid":')).body.code).toBe('invalid_argument');
    expect((await postJson(s.url, '/v2/nothing', {})).status).toBe(404);
    const ro = await postJson(s.url, '/v2/users', { uid: 'a' }, { key: 'ro' });
    expect(ro.status).toBe(403);
    expect(ro.body.code).toBe('forbidden');
    expect((await getJson(s.url, '/v2/users?uid=a', { key: 'ro' })).status).toBe(200);
    expect((await getJson(s.url, '/api/v1/export/list?start=0', { key: 'ro' })).status).toBe(200);
  });

  it('serves the /v2beta mirror and answers 413 for a body over maxBodyBytes', async () => {
    const s = await start({ maxBodyBytes: 1000 });
    expect((await postJson(s.url, '/v2beta/users', { uid: 'beta' })).status).toBe(200);
    expect(s.users().map((u) => u.uid)).toEqual(['beta']);
    const big = await postJson(s.url, '/v2/users', { uid: 'x', properties: { text: 'y'.repeat(2000) } });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('payload_too_large');
  });

  it('updates by id with POST /v2/users/{id} and refuses to change a uid', async () => {
    const s = await start();
    const { body } = await postJson(s.url, '/v2/users', { uid: 'keep' });
    expect((await postJson(s.url, `/v2/users/${body.id}`, { properties: { a: 1 } })).status).toBe(200);
    const change = await postJson(s.url, `/v2/users/${body.id}`, { uid: 'other' });
    expect(change.status).toBe(400);
    expect((await postJson(s.url, '/v2/users/999', { properties: {} })).status).toBe(404);
  });
});

describe('POST /v2/events', () => {
  it('stores an event for a user uid and answers {}', async () => {
    const s = await start();
    const res = await postJson(s.url, '/v2/events', {
      user: { uid: 'buyer' }, session: { use_most_recent: true }, name: 'Order Completed', timestamp: '2024-01-01T00:00:00Z',
      context: { browser: { url: 'https://example.com' } }, properties: { revenue: 12.5 }, schema: { properties: { revenue: 'real' } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    const events = s.events();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ via: 'single', request: { name: 'Order Completed', properties: { revenue: 12.5 } } });
    expect(s.users().map((u) => u.uid)).toEqual(['buyer']);
    expect(events[0]!.user_id).toBe(s.users()[0]!.id);
  });

  it('accepts session.id alone', async () => {
    const s = await start();
    expect((await postJson(s.url, '/v2/events', { session: { id: '123456789:987654321' }, name: 'x' })).status).toBe(200);
  });

  it.each(labelled([
    [{ user: { uid: 'a' } }, 'required_field'],
    [{ user: { uid: 'a' }, name: '' }, 'required_field'],
    [{ user: { uid: 'a' }, name: 'n'.repeat(251) }, 'field_too_long'],
    [{ name: 'x' }, 'required_field'],
    [{ user: { uid: 'a' }, session: { id: '1:2' }, name: 'x' }, 'invalid_identification'],
    [{ user: { uid: 'a', id: '5' }, name: 'x' }, 'invalid_identification'],
    [{ session: { id: '1:2', uid: 's' }, name: 'x' }, 'invalid_identification'],
    [{ session: { id: 'nope' }, name: 'x' }, 'invalid_argument'],
    [{ user: { uid: 'a' }, name: 'x', timestamp: 'yesterday' }, 'invalid_argument'],
    [{ user: { uid: 'a' }, name: 'x', properties: { 'bad name': 1 } }, 'invalid_property_name'],
  ]))('rejects %s', async (_label, body, code) => {
    const s = await start();
    const res = await postJson(s.url, '/v2/events', body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(code);
    expect(s.events()).toHaveLength(0);
  });

  it('answers 404 user_not_found for an unknown user.id', async () => {
    const s = await start();
    const res = await postJson(s.url, '/v2/events', { user: { id: '42' }, name: 'x' });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('user_not_found');
  });
});

describe('batch imports', () => {
  it('runs a users job: PROCESSING, 202 lists, then COMPLETED with paged imports', async () => {
    const s = await start({ jobLatencyMs: 300, jobPageSize: 2 });
    const created = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'a' }, { uid: 'b', properties: { n: 1 } }, { uid: 'c' }, { uid: 'a', email: 'a@x.io' }, { uid: 'd' }] });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ job: { id: expect.any(String), status: 'PROCESSING', created: expect.any(String) } });
    const id = created.body.job.id as string;
    const processing = await getJson(s.url, `/v2/users/batch/${id}`);
    expect(processing.body.job.status).toBe('PROCESSING');
    const early = await getJson(s.url, `/v2/users/batch/${id}/imports`);
    expect(early.status).toBe(202);
    expect(early.text).toBe('');
    expect((await getJson(s.url, `/v2/users/batch/${id}/errors`)).status).toBe(202);
    const done = await finished(s.url, 'users', id);
    expect(done).toEqual({ imports: 5, job: { id, status: 'COMPLETED', created: created.body.job.created, finished: expect.any(String) } });
    const results: any[] = [];
    let token: string | undefined;
    const totals = new Set<string>();
    let pages = 0;
    do {
      const page = await getJson(s.url, `/v2/users/batch/${id}/imports${token ? `?page_token=${encodeURIComponent(token)}` : ''}`);
      expect(page.status).toBe(200);
      totals.add(page.body.total_records);
      results.push(...page.body.results);
      token = page.body.next_page_token;
      pages++;
    } while (token !== undefined);
    expect(pages).toBe(3);
    expect([...totals]).toEqual(['5']);
    expect(results.map((r) => r.uid)).toEqual(['a', 'b', 'c', 'a', 'd']);
    expect(results[1]).toMatchObject({ id: expect.any(String), uid: 'b', properties: { n: 1 }, schema: null, type_conflicts: null });
    expect(s.users()).toHaveLength(4);
    expect(s.users().find((u) => u.uid === 'a')!.email).toBe('a@x.io');
    expect((await getJson(s.url, `/v2/users/batch/${id}/imports?page_token=garbage`)).status).toBe(400);
    // A users job id is not an events job.
    expect((await getJson(s.url, `/v2/events/batch/${id}`)).status).toBe(404);
  });

  it('partially fails: valid items imported, invalid ones in errors echoing the request', async () => {
    const s = await start();
    const bad = { user: { uid: 'z' }, name: '' };
    const alsoBad = { user: { uid: 'z' }, session: { id: '1:2' }, name: 'x' };
    const created = await postJson(s.url, '/v2/events/batch', {
      requests: [{ user: { uid: 'y' }, name: 'Good', properties: { a: 1 } }, bad, { user: { uid: 'y' }, name: 'Also good' }, alsoBad],
      shared: { context: { browser: { url: 'https://shared.example.com' } } },
    });
    const id = created.body.job.id as string;
    const done = await finished(s.url, 'events', id);
    expect(done).toMatchObject({ imports: 2, errors: 2, job: { status: 'FAILED' } });
    const errors = await getJson(s.url, `/v2/events/batch/${id}/errors`);
    expect(errors.body.total_records).toBe('2');
    expect(errors.body.next_page_token).toBeUndefined();
    expect(errors.body.results).toEqual([
      { code: 'required_field', message: expect.any(String), event: bad, shared: { context: { browser: { url: 'https://shared.example.com' } } } },
      { code: 'invalid_identification', message: expect.any(String), event: alsoBad, shared: expect.any(Object) },
    ]);
    const imports = await getJson(s.url, `/v2/events/batch/${id}/imports`);
    expect(imports.body.results.map((r: any) => r.name)).toEqual(['Good', 'Also good']);
    expect(imports.body.results[0]).toMatchObject({ user: { uid: 'y', id: expect.any(String) }, context: { browser: { url: 'https://shared.example.com' } } });
    expect(s.events().map((e) => e.request.name)).toEqual(['Good', 'Also good']);
    expect(s.events()[0]!.via).toBe(id);
  });

  it('fails an item that sets context when shared.context is set', async () => {
    const s = await start();
    const created = await postJson(s.url, '/v2/events/batch', {
      requests: [{ user: { uid: 'a' }, name: 'x', context: { browser: { url: 'https://a' } } }], shared: { context: { browser: { url: 'https://b' } } },
    });
    const done = await finished(s.url, 'events', created.body.job.id);
    expect(done).toMatchObject({ imports: 0, errors: 1, job: { status: 'FAILED' } });
  });

  it('reports users-batch item errors with the original request as `user`', async () => {
    const s = await start();
    const created = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'ok' }, { uid: 'x'.repeat(300) }, { id: 'nobody' }] });
    const id = created.body.job.id as string;
    await finished(s.url, 'users', id);
    const errors = (await getJson(s.url, `/v2/users/batch/${id}/errors`)).body.results;
    expect(errors.map((e: any) => e.code)).toEqual(['field_too_long', 'user_not_found']);
    expect(errors[1].user).toEqual({ id: 'nobody' });
  });

  it('rejects empty batches and batches over the request cap with 400', async () => {
    const s = await start({ maxBatchRequests: 3 });
    expect((await postJson(s.url, '/v2/users/batch', { requests: [] })).status).toBe(400);
    expect((await postJson(s.url, '/v2/users/batch', { nope: 1 })).status).toBe(400);
    const tooMany = await postJson(s.url, '/v2/users/batch', { requests: [{}, {}, {}, {}] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.code).toBe('too_many_requests_in_batch');
    expect((await postJson(s.url, '/v2/users/batch', { requests: [{}, {}, {}] })).status).toBe(200);
  });

  it('caps the default at 50,000 requests', async () => {
    const s = await start();
    const over = await postJson(s.url, '/v2/users/batch', { requests: Array.from({ length: 50_001 }, () => ({})) });
    expect(over.status).toBe(400);
    const at = await postJson(s.url, '/v2/users/batch', { requests: Array.from({ length: 50_000 }, (_, i) => ({ uid: `u${i}` })) });
    expect(at.status).toBe(200);
  });

  it('answers 429 with Retry-After at the in-progress job limit, and queues beyond the running limit', async () => {
    const s = await start({ jobLatencyMs: 300, maxRunningJobs: 2, maxInProgressJobs: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: `u${i}` }] });
      expect(r.status).toBe(200);
      ids.push(r.body.job.id);
    }
    expect(s.stats().jobs).toMatchObject({ running: 2, queued: 1 });
    expect(s.jobs().map((j) => j.state)).toEqual(['running', 'running', 'queued']);
    const limited = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'late' }] });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('too_many_requests');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    for (const id of ids) await finished(s.url, 'users', id);
    expect(s.maxConcurrentJobs()).toBe(3);
    expect((await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'late' }] })).status).toBe(200);
    expect((await getJson(s.url, '/__sandbox/stats')).body.jobs.maxConcurrent).toBe(3);
  });

  it('answers 429 at the in-progress operations limit', async () => {
    const s = await start({ jobLatencyMs: 300, maxInProgressOperations: 5 });
    expect((await postJson(s.url, '/v2/events/batch', { requests: Array.from({ length: 4 }, () => ({ user: { uid: 'a' }, name: 'x' })) })).status).toBe(200);
    expect((await postJson(s.url, '/v2/events/batch', { requests: Array.from({ length: 2 }, () => ({ user: { uid: 'a' }, name: 'x' })) })).status).toBe(429);
    expect((await postJson(s.url, '/v2/events/batch', { requests: [{ user: { uid: 'a' }, name: 'x' }] })).status).toBe(200);
  });
});

describe('Idempotency-Key', () => {
  it('replays the same answer for the same key and body without a new job', async () => {
    const s = await start();
    const body = { requests: [{ uid: 'once' }] };
    const headers = { 'idempotency-key': 'k-1' };
    const first = await postJson(s.url, '/v2/users/batch', body, { headers });
    const again = await postJson(s.url, '/v2/users/batch', body, { headers });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(s.stats().jobs.total).toBe(1);
    const other = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'twice' }] }, { headers });
    expect(other.status).toBe(400);
    expect(other.body.code).toBe('idempotency_key_reused');
    expect(s.stats().jobs.total).toBe(1);
    // The same key on another route is a different key.
    expect((await postJson(s.url, '/v2/users', { uid: 'single' }, { headers })).status).toBe(200);
  });

  it('replays single creates (no second user) and stored 400s, but not 429s', async () => {
    const s = await start({ maxInProgressJobs: 1, jobLatencyMs: 300 });
    const h = { 'idempotency-key': 'u-1' };
    const a = await postJson(s.url, '/v2/users', { uid: 'x', properties: { n: 1 } }, { headers: h });
    const b = await postJson(s.url, '/v2/users', { uid: 'x', properties: { n: 1 } }, { headers: h });
    expect(b.body).toEqual(a.body);
    const bad = { uid: 'y'.repeat(300) };
    expect((await postJson(s.url, '/v2/users', bad, { headers: { 'idempotency-key': 'bad' } })).status).toBe(400);
    expect((await postJson(s.url, '/v2/users', bad, { headers: { 'idempotency-key': 'bad' } })).status).toBe(400);
    const first = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'a' }] });
    const throttled = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'b' }] }, { headers: { 'idempotency-key': 'b-1' } });
    expect(throttled.status).toBe(429);
    await finished(s.url, 'users', first.body.job.id);
    const retried = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'b' }] }, { headers: { 'idempotency-key': 'b-1' } });
    expect(retried.status).toBe(200);
  });
});

describe('both readings of the docs', () => {
  const itemsWithOneBad = { requests: [{ uid: 'good-1' }, { uid: '' }, { uid: 'good-2' }] };

  it('jobStatusWithErrors COMPLETED: a job with errors ends COMPLETED, with its errors counted and listed', async () => {
    const s = await start({ jobStatusWithErrors: 'COMPLETED' });
    const created = await postJson(s.url, '/v2/users/batch', itemsWithOneBad);
    const done = await finished(s.url, 'users', created.body.job.id);
    expect(done).toMatchObject({ imports: 2, errors: 1, job: { status: 'COMPLETED' } });
    const errors = await getJson(s.url, `/v2/users/batch/${created.body.job.id}/errors`);
    expect(errors.body.results).toEqual([{ code: 'invalid_argument', message: expect.any(String), user: { uid: '' } }]);
  });

  it('invalidItems batch: one invalid item fails the whole create with 400 naming it; nothing is imported', async () => {
    const s = await start({ invalidItems: 'batch' });
    const res = await postJson(s.url, '/v2/users/batch', itemsWithOneBad);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'invalid_argument', message: 'requests[1]: uid must not be empty' });
    expect(s.stats().jobs.total).toBe(0);
    // Problems only the store can see (an unknown id) still fail inside the job.
    const later = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'ok' }, { id: 'nobody' }] });
    expect(later.status).toBe(200);
    expect(await finished(s.url, 'users', later.body.job.id)).toMatchObject({ imports: 1, errors: 1 });
  });

  it('concurrentJobOrder newest-first: of two jobs running at once, the newer applies first, so the older value wins', async () => {
    const s = await start({ concurrentJobOrder: 'newest-first', jobLatencyMs: 100 });
    const older = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'u', properties: { v: 1 } }] });
    const newer = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'u', properties: { v: 2 } }] });
    await finished(s.url, 'users', older.body.job.id);
    await finished(s.url, 'users', newer.body.job.id);
    const jobs = s.jobs();
    expect(Date.parse(jobs[1]!.finished!)).toBeLessThanOrEqual(Date.parse(jobs[0]!.finished!));
    expect(s.users()[0]!.properties).toEqual({ v: 1 });
  });

  it('answers 413 above maxBodyBytes before anything else', async () => {
    const s = await start({ maxBodyBytes: 200 });
    const res = await postJson(s.url, '/v2/events/batch', { requests: Array.from({ length: 10 }, (_, i) => ({ user: { uid: `u${i}` }, name: 'n' })) });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
    expect((await postJson(s.url, '/v2/events/batch', { requests: [{ user: { uid: 'a' }, name: 'n' }] })).status).toBe(200);
  });

  it('echoAuthorization: job error messages and whole-batch 400s quote the Authorization header', async () => {
    const s = await start({ echoAuthorization: true });
    const created = await postJson(s.url, '/v2/users/batch', itemsWithOneBad);
    await finished(s.url, 'users', created.body.job.id);
    const errors = await getJson(s.url, `/v2/users/batch/${created.body.job.id}/errors`);
    expect(errors.body.results[0].message).toBe('uid must not be empty (request Authorization: Basic sandbox-key)');
    await s.close();
    const whole = await start({ echoAuthorization: true, invalidItems: 'batch' });
    expect((await postJson(whole.url, '/v2/users/batch', itemsWithOneBad)).body.message).toContain('Basic sandbox-key');
  });
});

describe('item faults', () => {
  it('reject_items fails the matching items of the next batch with the given code; drop_items makes them vanish', async () => {
    const s = await start();
    s.addFaults([
      { method: 'POST', path: '/v2/users/batch', action: 'reject_items', match: '"v":2', body: { code: 'nope', message: 'not this one' } },
      { method: 'POST', path: '/v2/users/batch', action: 'drop_items', match: '"lost"' },
    ]);
    const first = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'same', properties: { v: 1 } }, { uid: 'same', properties: { v: 2 } }] });
    const done = await finished(s.url, 'users', first.body.job.id);
    expect(done).toMatchObject({ imports: 1, errors: 1, job: { status: 'FAILED' } });
    const errors = await getJson(s.url, `/v2/users/batch/${first.body.job.id}/errors`);
    expect(errors.body.results).toEqual([{ code: 'nope', message: 'not this one', user: { uid: 'same', properties: { v: 2 } } }]);
    expect(s.users().find((u) => u.uid === 'same')!.properties).toEqual({ v: 1 });

    const second = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'kept' }, { uid: 'lost' }] });
    // Neither imported nor listed: the counts do not add up to the requests sent.
    expect(await finished(s.url, 'users', second.body.job.id)).toEqual({ imports: 1, job: expect.objectContaining({ status: 'COMPLETED' }) });
    expect((await getJson(s.url, `/v2/users/batch/${second.body.job.id}/errors`)).body.results).toEqual([]);
    expect(s.users().map((u) => u.uid).sort()).toEqual(['kept', 'same']);
    expect(s.faults()).toEqual([]);
  });

  it('reject_items with invalidItems batch answers the create with 400', async () => {
    const s = await start({ invalidItems: 'batch' });
    s.addFaults({ method: 'POST', path: '/v2/events/batch', times: 5, action: 'reject_items', match: 'poison', body: { code: 'bad_event', message: 'no' } });
    const res = await postJson(s.url, '/v2/events/batch', { requests: [{ user: { uid: 'a' }, name: 'ok' }, { user: { uid: 'a' }, name: 'poison' }] });
    expect(res).toMatchObject({ status: 400, body: { code: 'bad_event', message: 'requests[1]: no' } });
    expect((await postJson(s.url, '/v2/events/batch', { requests: [{ user: { uid: 'a' }, name: 'ok' }] })).status).toBe(200);
  });
});

describe('Idempotency-Key modes', () => {
  const endpoint500 = { method: 'POST', path: '/v2/users/batch', times: 1, status: 500, endpoint: true };
  const body = { requests: [{ uid: 'k' }] };
  const headers = { 'idempotency-key': 'key-500' };

  it('production (default): an endpoint 500 is saved and replayed to a retry with the same key', async () => {
    const s = await start();
    s.addFaults(endpoint500);
    expect((await postJson(s.url, '/v2/users/batch', body, { headers })).status).toBe(500);
    const retry = await postJson(s.url, '/v2/users/batch', body, { headers });
    expect(retry.status).toBe(500);
    expect(s.stats().jobs.total).toBe(0);
    // Another key runs the endpoint.
    expect((await postJson(s.url, '/v2/users/batch', body, { headers: { 'idempotency-key': 'key-2' } })).status).toBe(200);
  });

  it('staging: an endpoint 500 is not saved, so the retry runs and creates the job', async () => {
    const s = await start({ idempotency: 'staging' });
    s.addFaults(endpoint500);
    expect((await postJson(s.url, '/v2/users/batch', body, { headers })).status).toBe(500);
    const retry = await postJson(s.url, '/v2/users/batch', body, { headers });
    expect(retry.status).toBe(200);
    expect((await postJson(s.url, '/v2/users/batch', body, { headers })).body).toEqual(retry.body);
    expect(s.stats().jobs.total).toBe(1);
  });

  it('a saved answer is kept for the window (24 h by default) and then forgotten; replays are marked in the request log', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const s = await start({ now: () => now, idempotencyWindowMs: 60_000 });
    s.addFaults(endpoint500);
    expect((await postJson(s.url, '/v2/users/batch', body, { headers })).status).toBe(500);
    now += 59_999;
    expect((await postJson(s.url, '/v2/users/batch', body, { headers })).status).toBe(500);
    now += 1;
    // Past the window: the key runs the endpoint again, and its new answer is saved.
    const fresh = await postJson(s.url, '/v2/users/batch', body, { headers });
    expect(fresh.status).toBe(200);
    expect((await postJson(s.url, '/v2/users/batch', body, { headers })).body).toEqual(fresh.body);
    expect(s.stats().jobs.total).toBe(1);
    expect(s.requests().map((r) => [r.status, r.replayed === true])).toEqual([[500, false], [500, true], [200, false], [200, true]]);
  });

  it('the window defaults to 24 hours', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const s = await start({ now: () => now });
    const first = await postJson(s.url, '/v2/users/batch', body, { headers });
    now += 24 * 3600 * 1000 - 1;
    expect((await postJson(s.url, '/v2/users/batch', body, { headers })).body).toEqual(first.body);
    now += 1;
    expect((await postJson(s.url, '/v2/users/batch', body, { headers })).body).not.toEqual(first.body);
    expect(s.stats().jobs.total).toBe(2);
  });

  it('a fault answered in front of the endpoint is never saved, in either mode', async () => {
    const s = await start();
    s.addFaults({ method: 'POST', path: '/v2/users/batch', times: 1, status: 503 });
    expect((await postJson(s.url, '/v2/users/batch', body, { headers })).status).toBe(503);
    expect((await postJson(s.url, '/v2/users/batch', body, { headers })).status).toBe(200);
  });
});

describe('permissions', () => {
  it('a Standard key creates batch jobs and reads their status; imports, errors, users and Data Export answer 403', async () => {
    const s = await start({ standardKeys: ['std'] });
    const created = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'a' }, { uid: '' }] }, { key: 'std' });
    expect(created.status).toBe(200);
    const id = created.body.job.id as string;
    const status = await waitFor(async () => {
      const r = await getJson(s.url, `/v2/users/batch/${id}`, { key: 'std' });
      return r.body.job.status === 'PROCESSING' ? undefined : r;
    });
    expect(status).toMatchObject({ status: 200, body: { imports: 1, errors: 1 } });
    for (const path of [`/v2/users/batch/${id}/errors`, `/v2/users/batch/${id}/imports`, '/v2/users?uid=a', '/api/v1/export/list?start=0']) {
      const r = await getJson(s.url, path, { key: 'std' });
      expect([path, r.status, r.body.code]).toEqual([path, 403, 'forbidden']);
    }
    expect((await postJson(s.url, '/v2/users', { uid: 'single' }, { key: 'std' })).status).toBe(200);
    expect((await getJson(s.url, `/v2/users/batch/${id}/errors`)).status).toBe(200);
  });
});
