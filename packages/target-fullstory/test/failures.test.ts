/**
 * Failure handling against the sandbox's scripted faults: 429 with Retry-After (and the lowered
 * in-flight cap), 5xx and connection resets retried with the same Idempotency-Key, retries exhausted
 * (exit 5, only safe states emitted), and a refused key (exit 4, never printed).
 */
import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { AuthError, UnavailableError } from '@fullstory-singer/singer-core';
import { batchPosts, runWith, sandboxConfig, sandboxPerFile, usersInput } from './helpers.js';

const ctx = sandboxPerFile({ jobLatencyMs: 20, apiKeys: ['sandbox-key'] });


const state = (value: unknown) => `${JSON.stringify({ type: 'STATE', value })}\n`;

describe('failures', () => {
  it('429: waits Retry-After, retries the same request, and lowers the jobs in flight', async () => {
    ctx.sandbox.addFaults({ method: 'POST', path: '/v2/users/batch', times: 2, status: 429, headers: { 'Retry-After': '0' } });
    const r = await runWith(sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'users', max_jobs_in_flight: 8 }), `${usersInput('p', 3)}${state({ s: 1 })}`);
    expect(r.error).toBeUndefined();
    expect(ctx.sandbox.users()).toHaveLength(3);
    const posts = batchPosts(ctx.sandbox);
    expect(posts.map((p) => p.status)).toEqual([429, 429, 200]);
    // The same batch, the same Idempotency-Key on every attempt.
    expect(new Set(posts.map((p) => p.headers['idempotency-key'])).size).toBe(1);
    expect(r.stderr).toMatch(/fewer jobs in flight for a while max_jobs_in_flight=4/);
    expect(r.stderr).toMatch(/max_jobs_in_flight=2/);
    expect(r.states).toEqual([{ s: 1 }]);
  });

  it('5xx and connection resets: backs off and retries; nothing is lost or doubled', async () => {
    ctx.sandbox.addFaults([
      { method: 'POST', path: '/v2/events/batch', times: 2, status: 503 },
      { method: 'POST', path: '/v2/events/batch', times: 1, action: 'reset' },
      { method: 'GET', path: '/v2/events/batch/', times: 2, status: 500 },
      { method: 'GET', path: '/v2/events/batch/', times: 1, action: 'reset' },
    ]);
    const lines = [JSON.stringify({ type: 'SCHEMA', stream: 'ev', schema: { type: 'object', properties: {} }, key_properties: [] })];
    for (let i = 0; i < 12; i++) lines.push(JSON.stringify({ type: 'RECORD', stream: 'ev', record: { uid: `u${i}`, event_name: 'E', n: i } }));
    const r = await runWith(sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'events', batch_size: 5 }), `${lines.join('\n')}\n${state({ s: 'end' })}`);
    expect(r.error).toBeUndefined();
    expect(ctx.sandbox.faults()).toEqual([]);
    // Each event exactly once: a retried create with the same key never made a second job.
    expect(ctx.sandbox.events().map((e) => (e.request['properties'] as { n: number }).n).sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    const posts = batchPosts(ctx.sandbox, 'events');
    const keys = posts.map((p) => p.headers['idempotency-key']);
    expect(posts.filter((p) => p.status === 200)).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    expect(r.states).toEqual([{ s: 'end' }]);
  });

  it('5xx past max_retries: exit 5, having emitted only the states whose records are safe', async () => {
    const input = new PassThrough();
    const states: unknown[] = [];
    const running = runWith(sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'users', batch_size: 2 }), '', {
      stream: input,
      maxRetries: 2,
      onState: (v) => states.push(v),
    });
    input.write(`${usersInput('p', 2)}${state({ s: 1 })}`);
    const deadline = Date.now() + 10_000;
    while (states.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    expect(states).toEqual([{ s: 1 }]);
    ctx.sandbox.addFaults({ method: 'POST', path: '/v2/users/batch', times: 100, status: 503 });
    input.end(
      [
        JSON.stringify({ type: 'RECORD', stream: 'p', record: { uid: 'late-1' } }),
        JSON.stringify({ type: 'RECORD', stream: 'p', record: { uid: 'late-2' } }),
        JSON.stringify({ type: 'STATE', value: { s: 2 } }),
      ].join('\n'),
    );
    const r = await running;
    expect(r.error).toBeInstanceOf(UnavailableError);
    expect(r.error!.exitCode).toBe(5);
    expect(r.states).toEqual([{ s: 1 }]);
    expect(ctx.sandbox.users().map((u) => u.uid).sort()).toEqual(['u0', 'u1']);
    // The failing batch was tried 1 + max_retries times.
    expect(batchPosts(ctx.sandbox).filter((p) => p.status === 503)).toHaveLength(3);
  });

  it('a fatal failure ends the run at once, even while stdin stays open and quiet', async () => {
    const input = new PassThrough();
    const running = runWith(sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'users', batch_size: 2, api_key: 'na1.not-accepted-key' }), '', { stream: input });
    input.write(usersInput('p', 2));
    // The input is never ended: the run must not wait for it.
    const r = await running;
    expect(r.error).toBeInstanceOf(AuthError);
    expect(r.states).toEqual([]);
    input.destroy();
  });

  it('a refused key: exit 4, no state, the key never printed', async () => {
    const secret = 'na1.definitely-not-a-valid-key-42';
    const r = await runWith(sandboxConfig(ctx.sandbox, ctx.dir, { data_type: 'users', api_key: secret }), `${usersInput('p', 2)}${state({ s: 1 })}`);
    expect(r.error).toBeInstanceOf(AuthError);
    expect(r.error!.exitCode).toBe(4);
    expect(r.states).toEqual([]);
    for (const text of [r.error!.message, r.stderr, r.stdout, JSON.stringify(r.deadLetters)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(secret).toString('base64'));
    }
  });
});
