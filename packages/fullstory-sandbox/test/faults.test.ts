import { afterEach, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { generateBundleEvents, startSandbox, type Sandbox, type SandboxOptions } from '../src/index.js';
import { call, getJson, KEY, postJson } from './helpers.js';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: SandboxOptions = {}): Promise<Sandbox> {
  sandbox = await startSandbox({ downloadsPerMinute: 0, jobLatencyMs: 10, ...options });
  return sandbox;
}

/** Raw GET with node:http: the bytes received before the end or the error, and how it ended. */
function rawGet(url: string): Promise<{ status?: number; bytes: Buffer; error?: NodeJS.ErrnoException; elapsedMs: number; firstByteMs?: number; gapMs: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let last = t0;
    let gap = 0;
    let firstByteMs: number | undefined;
    let status: number | undefined;
    const done = (error?: NodeJS.ErrnoException): void => resolve({ status, bytes: Buffer.concat(chunks), error, elapsedMs: Date.now() - t0, firstByteMs, gapMs: gap });
    const req = request(url, { headers: { authorization: `Basic ${KEY}` }, agent: false }, (res) => {
      status = res.statusCode;
      res.on('data', (c: Buffer) => {
        const now = Date.now();
        if (firstByteMs === undefined) firstByteMs = now - t0;
        else gap = Math.max(gap, now - last);
        last = now;
        chunks.push(c);
      });
      res.on('end', () => done());
      res.on('error', (e) => done(e));
      res.on('aborted', () => done(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
    });
    req.on('error', (e) => done(e));
    req.end();
  });
}

describe('fault rules', () => {
  it('answers a scripted status with headers and body for the next `times` matching requests', async () => {
    const s = await start({ bundles: 1, eventsPerBundle: 2 });
    const armed = await postJson(s.url, '/__sandbox/faults', {
      method: 'GET', path: '/api/v1/export/get', times: 2, status: 429, headers: { 'Retry-After': '2' }, body: { code: 'too_many_requests', message: 'slow down' },
    });
    expect(armed.status).toBe(200);
    expect(armed.body).toEqual([expect.objectContaining({ path: '/api/v1/export/get', times: 2 })]);
    for (let i = 0; i < 2; i++) {
      const r = await getJson(s.url, '/api/v1/export/get?id=1000000');
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('2');
      expect(r.body).toEqual({ code: 'too_many_requests', message: 'slow down' });
    }
    // Other paths and methods never matched; the rule is used up now.
    expect((await getJson(s.url, '/api/v1/export/list?start=0')).status).toBe(200);
    expect((await getJson(s.url, '/__sandbox/faults')).body).toEqual([]);
    expect((await call(s.url, '/api/v1/export/get?id=1000000')).status).toBe(200);
    expect(s.requests().filter((r) => r.fault === 'status')).toHaveLength(2);
  });

  it('uses a default {code, message} body, or a text body', async () => {
    const s = await start();
    s.addFaults([{ path: '/v2/', status: 503 }, { path: '/v2/', status: 500, body: 'oops' }]);
    const a = await postJson(s.url, '/v2/users', { uid: 'a' });
    expect(a.status).toBe(503);
    expect(a.body).toEqual({ code: 'service_unavailable', message: expect.any(String) });
    const b = await call(s.url, '/v2/users', { method: 'POST', json: { uid: 'a' } });
    expect(b.status).toBe(500);
    expect(await b.text()).toBe('oops');
    expect(s.users()).toHaveLength(0);
  });

  it('resets the connection', async () => {
    const s = await start();
    s.addFaults({ method: 'POST', path: '/v2/users/batch', times: 2, action: 'reset' });
    for (let i = 0; i < 2; i++) {
      const err = await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'a' }] }).then(() => undefined, (e: Error) => e);
      // fetch's errors come from another realm under jest, so check the shape, not instanceof.
      expect(err?.message).toBe('fetch failed');
      expect(((err as Error & { cause?: { code?: string } }).cause)?.code).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
    }
    expect((await postJson(s.url, '/v2/users/batch', { requests: [{ uid: 'a' }] })).status).toBe(200);
    expect(s.requests().map((r) => [r.status, r.fault])).toEqual([[0, 'reset'], [0, 'reset'], [200, undefined]]);
    expect(s.stats().jobs.total).toBe(1);
  });

  it('stalls a response', async () => {
    const s = await start();
    s.addFaults({ method: 'GET', path: '/v2/', times: 1, action: 'stall', ms: 400 });
    const t0 = Date.now();
    const r = await getJson(s.url, '/v2/users?uid=x');
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
  });

  it('stalls a body midway with after_bytes', async () => {
    const s = await start({ bundles: 1, eventsPerBundle: 3000 });
    s.addFaults({ path: '/api/v1/export/get', action: 'stall', ms: 500, after_bytes: 1000 });
    const r = await rawGet(`${s.url}/api/v1/export/get?id=1000000`);
    expect(r.status).toBe(200);
    expect(r.error).toBeUndefined();
    expect(r.gapMs).toBeGreaterThanOrEqual(400);
    expect((JSON.parse(gunzipSync(r.bytes).toString()) as unknown[]).length).toBe(3000);
  });

  it('truncates a gzip body after N bytes and destroys the socket', async () => {
    const s = await start({ bundles: 1, eventsPerBundle: 5000 });
    s.addFaults({ method: 'GET', path: '/api/v1/export/get', times: 1, action: 'truncate', after_bytes: 4096 });
    const cut = await rawGet(`${s.url}/api/v1/export/get?id=1000000`);
    expect(cut.status).toBe(200);
    expect(cut.error).toBeDefined();
    expect(cut.bytes.length).toBe(4096);
    expect(() => gunzipSync(cut.bytes)).toThrow(/unexpected end of file/);
    const whole = await rawGet(`${s.url}/api/v1/export/get?id=1000000`);
    expect(whole.error).toBeUndefined();
    expect(whole.bytes.length).toBeGreaterThan(4096);
    expect(whole.bytes.subarray(0, 4096)).toEqual(cut.bytes);
  });

  it('truncates a JSON body too', async () => {
    const s = await start({ bundles: 25, eventsPerBundle: 0 });
    s.addFaults({ path: '/api/v1/export/list', action: 'truncate', after_bytes: 10 });
    const cut = await rawGet(`${s.url}/api/v1/export/list?start=0`);
    expect(cut.bytes.toString()).toBe('{"exports"');
    expect(cut.error).toBeDefined();
  });

  it('stale_list ignores start; string_ids lists each Id as a decimal string', async () => {
    const s = await start({ bundles: 3, eventsPerBundle: 0 });
    const last = s.bundles()[2]!;
    s.addFaults([
      { path: '/api/v1/export/list', action: 'stale_list' },
      { path: '/api/v1/export/list', action: 'string_ids' },
    ]);
    const stale = (await getJson(s.url, `/api/v1/export/list?start=${last.start}`)).body as { exports: Array<{ Id: unknown }> };
    expect(stale.exports.map((e) => e.Id)).toEqual([1000000, 1000001, 1000002]);
    const strings = (await getJson(s.url, '/api/v1/export/list?start=0')).body as { exports: Array<{ Id: unknown }> };
    expect(strings.exports.map((e) => e.Id)).toEqual(['1000000', '1000001', '1000002']);
    const healthy = (await getJson(s.url, `/api/v1/export/list?start=${last.start}`)).body as { exports: Array<{ Id: unknown }> };
    expect(healthy.exports.map((e) => e.Id)).toEqual([1000002]);
  });

  it('bad_event serves one generated event as the given bytes; trailing_bytes appends bytes after the gzip data', async () => {
    const s = await start({ bundles: 1, eventsPerBundle: 5 });
    s.addFaults({ path: '/api/v1/export/get', action: 'bad_event', index: 2, text: '{"a":tru}' });
    const bad = gunzipSync((await rawGet(`${s.url}/api/v1/export/get?id=1000000`)).bytes).toString('latin1');
    const good = gunzipSync((await rawGet(`${s.url}/api/v1/export/get?id=1000000`)).bytes).toString('latin1');
    const meta = s.bundles()[0]!;
    const events = [...generateBundleEvents(1, meta.id, 5, { start: meta.start, stop: meta.stop })];
    expect(good).toBe(`[${events.join(',')}]`);
    expect(bad).toBe(`[${[...events.slice(0, 2), '{"a":tru}', ...events.slice(3)].join(',')}]`);
    s.addFaults({ path: '/api/v1/export/get', action: 'trailing_bytes', text: '\n\u00ff' });
    const withTail = (await rawGet(`${s.url}/api/v1/export/get?id=1000000`)).bytes;
    expect(withTail.subarray(-2)).toEqual(Buffer.from([0x0a, 0xff]));
    expect(gunzipSync(withTail.subarray(0, -2)).toString('latin1')).toBe(good);
    for (const rule of [{ action: 'bad_event', text: 'x' }, { action: 'bad_event', index: 1 }, { action: 'trailing_bytes', text: '€' }]) {
      expect(() => s.addFaults(rule as never)).toThrow(/needs/);
    }
  });

  it('applies a seeded probabilistic rule repeatably until removed', async () => {
    const s = await start();
    const rule = { method: 'GET', path: '/v2/users', status: 500, probability: 0.2, seed: 42 };
    const run = async (): Promise<number[]> => {
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) statuses.push((await getJson(s.url, '/v2/users?uid=a')).status);
      return statuses;
    };
    await postJson(s.url, '/__sandbox/faults', rule);
    expect((await getJson(s.url, '/__sandbox/faults')).body).toEqual([rule]);
    const first = await run();
    const failures = first.filter((c) => c === 500).length;
    expect(failures).toBeGreaterThan(5);
    expect(failures).toBeLessThan(40);
    expect(first.filter((c) => c !== 500).every((c) => c === 200)).toBe(true);
    const cleared = await call(s.url, '/__sandbox/faults', { method: 'DELETE', key: null });
    expect(await cleared.json()).toEqual([]);
    expect((await run()).every((c) => c === 200)).toBe(true);
    s.addFaults(rule);
    expect(await run()).toEqual(first);
  });

  it('rejects invalid rules with 400 and arms nothing from a bad array', async () => {
    const s = await start();
    for (const bad of [{ action: 'explode' }, { path: '/v2/' }, { status: 99 }, { action: 'stall' }, { action: 'truncate' }, { status: 500, probability: 2 }, { status: 500, colour: 'red' },
      { action: 'reject_items' }, { action: 'drop_items', match: '' }, { status: 500, match: 'x' }, { action: 'reset', endpoint: true }, { status: 500, endpoint: 'yes' }]) {
      const r = await postJson(s.url, '/__sandbox/faults', bad);
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('invalid_argument');
    }
    expect((await postJson(s.url, '/__sandbox/faults', [{ status: 500 }, { action: 'nope' }])).status).toBe(400);
    expect(s.faults()).toEqual([]);
    expect(() => s.addFaults({ action: 'reset', times: 0 })).toThrow(/times/);
  });

  it('arms rules given at start', async () => {
    const s = await start({ faults: [{ path: '/api/v1/export/list', status: 502 }] });
    expect((await getJson(s.url, '/api/v1/export/list?start=0')).status).toBe(502);
    expect((await getJson(s.url, '/api/v1/export/list?start=0')).status).toBe(200);
  });
});
