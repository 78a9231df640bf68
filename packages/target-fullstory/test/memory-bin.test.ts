/**
 * Memory without NODE_OPTIONS (issue 10, defect 11), black box: the built bin loads 400,000 records at
 * batch_size 5000 into the sandbox, and its peak resident memory (VmHWM, sampled from /proc) stays
 * under 250 MB. Kept on the heap as objects, the in-flight batches made V8 grow its heap to several times
 * what was live: this input peaked near 290 MB, and 1,000,000 records at 300-850 MB.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { binPath } from '@fullstory-singer/singer-core/testing';
import { BIN, sandboxesPerFile } from './bin-helpers.js';

const file = sandboxesPerFile();

/** The sandbox as its own process (as in `npm run bench`), so it does not share this process's CPU. */
async function sandboxProcess(args: string[]): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [binPath('fullstory-sandbox'), '--port', '0', '--quiet', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the sandbox exited with ${code}`)));
  });
  const exited = new Promise((r) => child.once('close', r));
  return { url, stop: async () => void (child.kill('SIGTERM'), await exited) };
}

/** The process's peak resident set (kB), or undefined once it is gone. */
function peakKb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Chunks of Singer text: `n` users with 8 fields, then `n` events with 7, a state every 10,000. */
function* input(n: number): Generator<string> {
  const users = { type: 'object', properties: { uid: { type: 'string' }, display_name: { type: 'string' }, email: { type: 'string' }, plan: { type: 'string' }, seats: { type: 'integer' }, monthly_revenue: { type: 'number' }, on_trial: { type: 'boolean' }, signed_up_at: { type: 'string', format: 'date-time' } } };
  const events = { type: 'object', properties: { uid: { type: 'string' }, event_name: { type: 'string' }, timestamp: { type: 'string', format: 'date-time' }, order_id: { type: 'string' }, amount: { type: 'number' }, items: { type: 'integer' }, coupon: { type: 'boolean' } } };
  yield `${JSON.stringify({ type: 'SCHEMA', stream: 'u', schema: users, key_properties: ['uid'] })}\n`;
  let chunk = '';
  for (let i = 1; i <= n; i++) {
    chunk += `{"type":"RECORD","stream":"u","record":{"uid":"u${i}","display_name":"User ${i}","email":"user${i}@example.com","plan":"team","seats":${i % 9},"monthly_revenue":${i * 12.5},"on_trial":${i % 5 === 0},"signed_up_at":"2025-12-31T00:00:00.000Z"}}\n`;
    if (i % 10_000 === 0) chunk += `{"type":"STATE","value":{"u":${i}}}\n`;
    if (i % 500 === 0) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}${JSON.stringify({ type: 'SCHEMA', stream: 'e', schema: events, key_properties: [] })}\n`;
  chunk = '';
  for (let i = 1; i <= n; i++) {
    chunk += `{"type":"RECORD","stream":"e","record":{"uid":"u${(i % n) + 1}","event_name":"Order Completed","timestamp":"${new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString()}","order_id":"o${i}","amount":${(i % 1000) / 10},"items":${(i % 7) + 1},"coupon":${i % 3 === 0}}}\n`;
    if (i % 10_000 === 0) chunk += `{"type":"STATE","value":{"e":${i}}}\n`;
    if (i % 500 === 0) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

describe('memory', () => {
  it('defect 11: 400,000 records at batch_size 5000 peak under 250 MB of resident memory, with no NODE_OPTIONS', async () => {
    const sandbox = await sandboxProcess(['--job-latency-ms', '50', '--no-retain-events', '--api-key', 'sandbox-key']);
    const config = join(file.dir, 'memory.json');
    await writeFile(
      config,
      JSON.stringify({ data_type: 'users', streams: { e: { data_type: 'events' } }, base_url: sandbox.url, batch_size: 5000, job_poll_interval_seconds: 0.05, dead_letter_path: join(file.dir, 'r.ndjson') }),
    );
    // From a file, as fast as the target reads: a slow producer leaves the collector idle time and
    // hides how the heap grows.
    const singerFile = join(file.dir, 'input.singer');
    const out = createWriteStream(singerFile);
    for (const chunk of input(200_000)) if (!out.write(chunk)) await once(out, 'drain');
    out.end();
    await once(out, 'close');
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(TARGET_FULLSTORY_|LOG_LEVEL$|NODE_OPTIONS$)/.test(k)) env[k] = v;
    env['TARGET_FULLSTORY_API_KEY'] = 'sandbox-key';
    const child = spawn(process.execPath, [BIN, '--config', config], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, peakKb(child.pid!) ?? 0)), 25);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString('utf8')).slice(-100_000);
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin!.on('error', () => undefined);
    createReadStream(singerFile, { highWaterMark: 1 << 16 }).pipe(child.stdin!);
    const code = await closed;
    clearInterval(sampler);
    const stats = (await (await fetch(`${sandbox.url}/__sandbox/stats`)).json()) as { users: number; events: number };
    await sandbox.stop();
    expect(code).toBe(0);
    expect(stderr).toMatch(/INFO finished records_read=400000 sent=400000 imported=400000 rejected=0/);
    expect(stats).toMatchObject({ users: 200_000, events: 200_000 });
    expect(peak / 1024).toBeLessThan(250);
  }, 120_000);
});
