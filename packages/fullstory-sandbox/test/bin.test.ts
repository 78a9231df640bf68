import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson } from './helpers.js';
import { BIN, exitOf, spawnSandbox } from './spawn.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('fullstory-sandbox bin', () => {
  it('prints the listening line first, serves the APIs, and exits 0 on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-bin-'));
    dirs.push(dir);
    await writeFile(join(dir, 'faults.json'), JSON.stringify([{ path: '/v2/users', status: 503 }]));
    const s = await spawnSandbox(['--api-key', 'k-one', '--api-key', 'k-two', '--bundles', '4', '--events-per-bundle', '2,3',
      '--bundle-hours', '1', '--first-bundle', '2024-02-01T00:00:00Z', '--first-bundle-id', '9007199254740993', '--faults', join(dir, 'faults.json')]);
    children.push(s.child);
    expect(s.firstLine).toMatch(/^fullstory-sandbox listening on http:\/\/127\.0\.0\.1:\d+$/);
    const list = await getJson(s.url, '/api/v1/export/list?start=0', { key: 'k-two' });
    expect(list.text).toBe(`{"exports":[${[0, 1, 2, 3].map((i) => `{"Id":${9007199254740993n + BigInt(i)},"Start":${1706745600 + 3600 * i},"Stop":${1706745600 + 3600 * (i + 1)}}`).join(',')}]}`);
    expect((await getJson(s.url, '/__sandbox/bundles')).body.map((b: { events: number }) => b.events)).toEqual([2, 3, 2, 3]);
    expect((await getJson(s.url, '/v2/users?uid=a', { key: 'k-one' })).status).toBe(503);
    expect((await getJson(s.url, '/v2/users?uid=a', { key: 'sandbox-key' })).status).toBe(401);
    s.child.kill('SIGTERM');
    expect(await exitOf(s.child)).toEqual({ code: 0, signal: null });
    expect(s.stderr()).toContain('SIGTERM');
    expect(s.stderr()).not.toMatch(/k-one|k-two/);
  });

  it('exits 0 on SIGINT', async () => {
    const s = await spawnSandbox(['--quiet']);
    children.push(s.child);
    expect((await getJson(s.url, '/api/v1/export/list?start=0')).body.exports).toHaveLength(3);
    s.child.kill('SIGINT');
    expect(await exitOf(s.child)).toEqual({ code: 0, signal: null });
    expect(s.stderr()).toBe('');
  });

  it('prints its version', async () => {
    const child = spawn(process.execPath, [BIN, '--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    expect(await exitOf(child)).toEqual({ code: 0, signal: null });
    expect(out).toBe(`${(JSON.parse(await readFile(join(BIN, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('stops, freeing its port, when the process that started it goes away (npx fullstory-sandbox & … kill %1)', async () => {
    // A shell starts the sandbox in the background and waits, as `npx` does; then the shell is killed.
    const shell = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" --port 0 --quiet & echo "pid $!"; wait`], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(shell);
    let out = '';
    const seen = new Promise<{ pid: number; port: number }>((resolve) => {
      shell.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const pid = /^pid (\d+)$/m.exec(out);
        const port = /listening on http:\/\/127\.0\.0\.1:(\d+)$/m.exec(out);
        if (pid && port) resolve({ pid: Number(pid[1]), port: Number(port[1]) });
      });
    });
    const { pid, port } = await seen;
    shell.kill('SIGKILL');
    await exitOf(shell);
    try {
      // Wait for the orphan to exit (its check runs every 500 ms); give up after 10 s.
      const deadline = Date.now() + 10_000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(isAlive(pid)).toBe(false);
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    // The port is free again.
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('exits 2 on a usage error', async () => {
    const child = spawn(process.execPath, [BIN, '--port', 'abc'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    expect(await exitOf(child)).toEqual({ code: 2, signal: null });
    expect(err).toContain('--port');
  });
});
