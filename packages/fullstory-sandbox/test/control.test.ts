import { afterEach, describe, expect, it } from '@jest/globals';
import { startSandbox, type Sandbox } from '../src/index.js';
import { call, getJson, postJson, waitFor } from './helpers.js';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe('/__sandbox inspection routes', () => {
  it('logs API requests without the Authorization header, and not the control routes', async () => {
    const lines: string[] = [];
    const s = (sandbox = await startSandbox({ apiKeys: ['secret-key-123'], logger: (l) => lines.push(l), jobLatencyMs: 10 }));
    await postJson(s.url, '/v2/users', { uid: 'a' }, { key: 'secret-key-123', headers: { 'x-trace': 't1' } });
    await getJson(s.url, '/api/v1/export/list?start=5', { key: 'secret-key-123' });
    await getJson(s.url, '/api/v1/export/list?start=5', { key: null });
    await getJson(s.url, '/__sandbox/stats');
    const log = (await getJson(s.url, '/__sandbox/requests')).body;
    expect(log).toEqual([
      { method: 'POST', path: '/v2/users', query: '', status: 200, headers: expect.objectContaining({ 'x-trace': 't1' }), time: expect.any(String) },
      { method: 'GET', path: '/api/v1/export/list', query: '?start=5', status: 200, headers: expect.any(Object), time: expect.any(String) },
      { method: 'GET', path: '/api/v1/export/list', query: '?start=5', status: 401, headers: expect.any(Object), time: expect.any(String) },
    ]);
    const all = JSON.stringify(log) + JSON.stringify(s.requests()) + lines.join('\n');
    expect(all).not.toContain('secret-key-123');
    expect(log.every((e: { headers: Record<string, unknown> }) => !('authorization' in e.headers))).toBe(true);
    expect(Number.isNaN(Date.parse(log[0].time))).toBe(false);
  });

  it('lists users, events and stats, and reset forgets them', async () => {
    const s = (sandbox = await startSandbox({ jobLatencyMs: 10 }));
    await postJson(s.url, '/v2/users', { uid: 'u1', properties: { a: 1 } });
    await postJson(s.url, '/v2/events', { user: { uid: 'u1' }, name: 'Clicked' });
    const job = await postJson(s.url, '/v2/events/batch', { requests: [{ user: { uid: 'u2' }, name: 'Viewed' }] });
    await waitFor(async () => (s.stats().jobs.completed === 1 ? true : undefined));
    s.addFaults({ path: '/nowhere', status: 500 });
    const users = (await getJson(s.url, '/__sandbox/users')).body;
    expect(users.map((u: { uid: string }) => u.uid).sort()).toEqual(['u1', 'u2']);
    const events = (await getJson(s.url, '/__sandbox/events')).body;
    expect(events.map((e: { request: { name: string }; via: string }) => [e.request.name, e.via])).toEqual([['Clicked', 'single'], ['Viewed', job.body.job.id]]);
    expect((await getJson(s.url, '/__sandbox/jobs')).body).toEqual([{
      id: job.body.job.id, kind: 'events', status: 'COMPLETED', state: 'done', created: expect.any(String), finished: expect.any(String),
      requests: 1, imports: 1, errors: 0,
    }]);
    const stats = (await getJson(s.url, '/__sandbox/stats')).body;
    expect(stats).toEqual({
      users: 2, events: 2, requests: 3, downloads: 0,
      jobs: { total: 1, queued: 0, running: 0, completed: 1, failed: 0, maxConcurrent: 1 },
    });
    const reset = await call(s.url, '/__sandbox/reset', { method: 'POST', key: null });
    expect(reset.status).toBe(200);
    await reset.arrayBuffer();
    expect((await getJson(s.url, '/__sandbox/users')).body).toEqual([]);
    expect((await getJson(s.url, '/__sandbox/events')).body).toEqual([]);
    expect((await getJson(s.url, '/__sandbox/requests')).body).toEqual([]);
    expect((await getJson(s.url, '/__sandbox/faults')).body).toEqual([]);
    expect(s.maxConcurrentJobs()).toBe(0);
    expect(s.bundles()).toHaveLength(3);
    expect((await getJson(s.url, `/v2/events/batch/${job.body.job.id}`)).status).toBe(404);
  });

  it('keeps only counts with retainEvents false, and answers 404 for an unknown control route', async () => {
    const s = (sandbox = await startSandbox({ retainEvents: false }));
    await postJson(s.url, '/v2/events', { user: { uid: 'u1' }, name: 'Clicked' });
    expect(s.events()).toEqual([]);
    expect(s.stats().events).toBe(1);
    expect((await getJson(s.url, '/__sandbox/nothing')).status).toBe(404);
  });
});
