import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { generateEventJson, startSandbox, type Sandbox, type SandboxOptions } from '../src/index.js';
import { call, downloadText, getJson, postJson } from './helpers.js';

let sandbox: Sandbox | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function start(options: SandboxOptions = {}): Promise<Sandbox> {
  sandbox = await startSandbox({ downloadsPerMinute: 0, ...options });
  return sandbox;
}

describe('GET /api/v1/export/list', () => {
  it('answers at most 20 bundles whose Stop is after start, oldest first', async () => {
    const s = await start({ bundles: 45, eventsPerBundle: 1, bundleHours: 1, firstBundle: '2024-03-01T00:00:00Z' });
    const first = await getJson(s.url, '/api/v1/export/list?start=0');
    expect(first.status).toBe(200);
    const page1 = first.body.exports as { Id: number; Start: number; Stop: number }[];
    expect(page1).toHaveLength(20);
    expect(page1[0]).toEqual({ Id: 1000000, Start: 1709251200, Stop: 1709254800 });
    for (let i = 1; i < page1.length; i++) {
      expect(page1[i]!.Start).toBe(page1[i - 1]!.Stop);
      expect(page1[i]!.Id).toBeGreaterThan(page1[i - 1]!.Id);
    }
    // Paging the way the tap does: start = last Stop.
    const all = [...page1];
    let cursor = page1[19]!.Stop;
    for (;;) {
      const page = (await getJson(s.url, `/api/v1/export/list?start=${cursor}`)).body.exports as typeof page1;
      all.push(...page);
      if (page.length < 20) break;
      cursor = page[page.length - 1]!.Stop;
    }
    expect(all).toHaveLength(45);
    expect(new Set(all.map((b) => b.Id)).size).toBe(45);
    // A start inside a bundle's window still lists that bundle (its Stop is after start).
    const mid = (await getJson(s.url, `/api/v1/export/list?start=${page1[3]!.Start + 10}`)).body.exports;
    expect(mid[0].Id).toBe(page1[3]!.Id);
    // Past the last bundle: empty.
    expect((await getJson(s.url, `/api/v1/export/list?start=${all[44]!.Stop}`)).body).toEqual({ exports: [] });
  });

  it('accepts POST with a JSON body, and rejects a missing or bad start with 400', async () => {
    const s = await start({ bundles: 2 });
    const post = await postJson(s.url, '/api/v1/export/list', { start: 0 });
    expect(post.status).toBe(200);
    expect(post.body.exports).toHaveLength(2);
    const missing = await getJson(s.url, '/api/v1/export/list');
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ code: 'invalid_argument', message: expect.stringContaining('start') });
    expect((await getJson(s.url, '/api/v1/export/list?start=yesterday')).status).toBe(400);
  });

  it('writes ids above 2^53 as exact integer literals', async () => {
    const s = await start({ bundles: 2, eventsPerBundle: 3, firstBundleId: '9007199254740993' });
    const { text } = await getJson(s.url, '/api/v1/export/list?start=0');
    expect(text).toContain('"Id":9007199254740993,');
    expect(text).toContain('"Id":9007199254740994,');
    const body = await downloadText(s.url, '9007199254740994');
    expect(body.status).toBe(200);
    expect(body.text).toBe(`[${[...generateEventJson(1, 9007199254740994n, 3, { start: 1704153600, stop: 1704240000 })].join(',')}]`);
  });

  it('requires a known key (401) and refuses a key without permission (403)', async () => {
    const s = await start({ apiKeys: ['k1'], forbiddenKeys: ['nope'] });
    const none = await getJson(s.url, '/api/v1/export/list?start=0', { key: null });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ code: 'unauthorized', message: expect.any(String) });
    expect((await getJson(s.url, '/api/v1/export/list?start=0', { key: 'wrong' })).status).toBe(401);
    const bearer = await fetch(`${s.url}/api/v1/export/list?start=0`, { headers: { authorization: 'Bearer k1' } });
    expect(bearer.status).toBe(401);
    await bearer.arrayBuffer();
    const forbidden = await getJson(s.url, '/api/v1/export/list?start=0', { key: 'nope' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('forbidden');
    expect((await getJson(s.url, '/api/v1/export/list?start=0', { key: 'k1' })).status).toBe(200);
    // The key never appears in the error body.
    expect(JSON.stringify(none.body) + JSON.stringify(forbidden.body)).not.toMatch(/k1|nope|wrong/);
  });
});

describe('GET /api/v1/export/get', () => {
  it('serves a gzipped JSON array byte-identical to generateEventJson', async () => {
    const s = await start({ bundles: 2, eventsPerBundle: [250, 0], seed: 99 });
    const [b1, b2] = s.bundles();
    const res = await downloadText(s.url, b1!.id);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    expect(res.headers.get('content-disposition')).toContain('DataExport.json.gz');
    expect(res.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const expected = `[${[...generateEventJson(99, b1!.id, 250, { start: b1!.start, stop: b1!.stop })].join(',')}]`;
    expect(res.text).toBe(expected);
    expect((JSON.parse(res.text) as unknown[]).length).toBe(250);
    const empty = await downloadText(s.url, b2!.id);
    expect(empty.text).toBe('[]');
  });

  it('serves identity and Content-Encoding variants', async () => {
    const s = await start({ bundles: 1, eventsPerBundle: 20, downloadEncoding: 'identity' });
    const plain = await call(s.url, '/api/v1/export/get?id=1000000');
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect((JSON.parse(await plain.text()) as unknown[]).length).toBe(20);
    await s.close();
    const s2 = await start({ bundles: 1, eventsPerBundle: 20, downloadEncoding: 'content-encoding' });
    // fetch decodes Content-Encoding: gzip transparently.
    const decoded = await call(s2.url, '/api/v1/export/get?id=1000000');
    expect(decoded.headers.get('content-encoding')).toBe('gzip');
    expect((JSON.parse(await decoded.text()) as unknown[]).length).toBe(20);
  });

  it('answers 404 for an unknown id and 400 for a bad one', async () => {
    const s = await start({ bundles: 1 });
    const missing = await getJson(s.url, '/api/v1/export/get?id=123');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('resource_not_found');
    expect((await getJson(s.url, '/api/v1/export/get?id=abc')).status).toBe(400);
    expect((await getJson(s.url, '/api/v1/export/get')).status).toBe(400);
  });

  it('limits downloads per rolling minute with 429 and Retry-After', async () => {
    let now = 1_700_000_000_000;
    const s = await start({ bundles: 1, eventsPerBundle: 2, downloadsPerMinute: 2, now: () => now });
    expect((await downloadText(s.url, 1000000)).status).toBe(200);
    now += 10_000;
    expect((await downloadText(s.url, 1000000)).status).toBe(200);
    now += 5_000;
    const limited = await getJson(s.url, '/api/v1/export/get?id=1000000');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('45');
    expect(limited.body).toEqual({ code: 'too_many_requests', message: expect.any(String) });
    now += 45_000;
    expect((await downloadText(s.url, 1000000)).status).toBe(200);
    expect(s.stats().downloads).toBe(3);
  });
});

describe('fixture bundles', () => {
  it('serves <Id>.json and <Id>.json.gz files with windows from bundles.json or derived from EventStart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-fixtures-'));
    dirs.push(dir);
    const a = '[{"IndvId":9007199254740993,"EventStart":"2024-05-01T10:15:00.000Z","EventType":"click"}]';
    const b = '[\n  {"IndvId":1,"EventStart":"2024-05-01T11:20:00.000Z"},\n  {"IndvId":2,"EventStart":"2024-05-01T12:40:00.000Z"}\n]';
    await writeFile(join(dir, '501.json'), a);
    await writeFile(join(dir, '502.json.gz'), gzipSync(b));
    await writeFile(join(dir, '503.json'), '[]');
    await writeFile(join(dir, 'bundles.json'), JSON.stringify([{ Id: 501, Start: 1714550400, Stop: 1714557600 }]));
    await writeFile(join(dir, 'README.txt'), 'ignored');
    const s = await start({ fixturesDir: dir, firstBundle: '2024-05-02T00:00:00Z' });
    const list = (await getJson(s.url, '/api/v1/export/list?start=0')).body.exports;
    expect(list).toEqual([
      { Id: 501, Start: 1714550400, Stop: 1714557600 },
      // derived: 11:20 rounded down, 12:40 rounded up to the hour
      { Id: 502, Start: Date.parse('2024-05-01T11:00:00Z') / 1000, Stop: Date.parse('2024-05-01T13:00:00Z') / 1000 },
      // empty, no manifest entry: the hour after the previous bundle
      { Id: 503, Start: Date.parse('2024-05-01T13:00:00Z') / 1000, Stop: Date.parse('2024-05-01T14:00:00Z') / 1000 },
    ]);
    const ra = await downloadText(s.url, 501);
    expect(ra.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(ra.text).toBe(a);
    expect((await downloadText(s.url, 502)).text).toBe(b);
    // Generated bundles can still be published after the fixtures.
    const published = await postJson(s.url, '/__sandbox/bundles', { events: 5 });
    expect(published.body).toEqual([expect.objectContaining({ id: 504, start: list[2].Stop, events: 5, source: 'generated' })]);
  });
});

describe('/__sandbox/bundles', () => {
  it('lists bundles and publishes more at run time', async () => {
    const s = await start({ bundles: 2, eventsPerBundle: [3, 4], bundleHours: 2, seed: 5 });
    const listed = await getJson(s.url, '/__sandbox/bundles');
    expect(listed.body).toEqual([
      { id: 1000000, start: 1704067200, stop: 1704074400, events: 3, source: 'generated', seed: 5 },
      { id: 1000001, start: 1704074400, stop: 1704081600, events: 4, source: 'generated', seed: 5 },
    ]);
    const lastStop = 1704081600;
    expect((await getJson(s.url, `/api/v1/export/list?start=${lastStop}`)).body.exports).toEqual([]);
    const pub = await postJson(s.url, '/__sandbox/bundles', { events: [7, 8], hours: 1 });
    expect(pub.status).toBe(200);
    expect(pub.body.map((b: { id: number; events: number }) => [b.id, b.events])).toEqual([[1000002, 7], [1000003, 8]]);
    const next = (await getJson(s.url, `/api/v1/export/list?start=${lastStop}`)).body.exports;
    expect(next).toEqual([
      { Id: 1000002, Start: lastStop, Stop: lastStop + 3600 },
      { Id: 1000003, Start: lastStop + 3600, Stop: lastStop + 7200 },
    ]);
    const body = await downloadText(s.url, 1000003);
    expect(body.text).toBe(`[${[...generateEventJson(5, 1000003, 8, { start: lastStop + 3600, stop: lastStop + 7200 })].join(',')}]`);
    expect((await postJson(s.url, '/__sandbox/bundles', { events: -1 })).status).toBe(400);
    expect(s.bundles()).toHaveLength(4);
  });
});
