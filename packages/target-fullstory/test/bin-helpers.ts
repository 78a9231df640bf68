/**
 * Black-box harness: the built CLI (dist/target-fullstory.js, by `npm run build`) spawned against a sandbox on 127.0.0.1:0, its
 * config written to a file, the key passed by environment variable, stdout, stderr and the
 * dead-letter file captured. Input is a string or a stream the test writes to over time.
 */
import { afterAll, beforeAll } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseJson } from '@fullstory-singer/singer-core';
import { binPath, logLines, removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';
import { startSandbox, type Sandbox, type SandboxOptions } from 'fullstory-sandbox';

export const BIN = binPath('target-fullstory');

/**
 * For test files whose tests each start a sandbox of their own (port 0, no bundles, `options` on
 * top): `start` makes one; all are closed, and the file's temp folder `dir` removed, after the file.
 */
export function sandboxesPerFile(): { start: (options: SandboxOptions) => Promise<Sandbox>; readonly dir: string } {
  const started: Sandbox[] = [];
  const ctx = {
    dir: '',
    start: async (options: SandboxOptions): Promise<Sandbox> => {
      const s = await startSandbox({ port: 0, bundles: 0, ...options });
      started.push(s);
      return s;
    },
  };
  beforeAll(async () => {
    ctx.dir = await tempDir();
  });
  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()));
    await removeTempDir(ctx.dir);
  });
  return ctx;
}

export interface BinRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Bare state values printed, in order. */
  states: unknown[];
  /** Dead-letter lines (parsed), and the file's bytes. */
  deadLetters: Array<Record<string, unknown>>;
  deadLetterText: string;
}

export interface BinOptions {
  /** stdin: the whole input, or a stream the test writes to. */
  input: string | Readable;
  /** Default `sandbox-key`; null: none. */
  apiKey?: string | null;
  env?: Record<string, string>;
  args?: string[];
  /** Called with each stdout line as it arrives. */
  onLine?: (line: string, child: ChildProcess) => void;
  /** Called with each stderr line as it arrives. */
  onStderrLine?: (line: string, child: ChildProcess) => void;
  /** Called once the child started. */
  onSpawn?: (child: ChildProcess) => void;
  /** Run through `bash -c` with these commands first (e.g. `ulimit -f 16`). */
  shellPrefix?: string;
  timeoutMs?: number;
}

let configs = 0;

/** Config aimed at the sandbox (fast polls, a dead-letter file in `dir`), with `over` on top. */
export function binConfig(sandbox: Sandbox | undefined, dir: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...(sandbox ? { base_url: sandbox.url } : {}),
    job_poll_interval_seconds: 0.05,
    dead_letter_path: join(dir, 'rejected.ndjson'),
    ...over,
  };
}

/** Spawn the bin with `config` (written to a file in `dir`) and wait for it to end. */
export async function runTargetBin(dir: string, config: Record<string, unknown>, o: BinOptions): Promise<BinRun> {
  const path = join(dir, `config-${++configs}.json`);
  await writeFile(path, JSON.stringify(config));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(TARGET_FULLSTORY_|LOG_LEVEL$|NODE_OPTIONS$)/.test(k)) env[k] = v;
  const key = o.apiKey === undefined ? 'sandbox-key' : o.apiKey;
  if (key !== null) env['TARGET_FULLSTORY_API_KEY'] = key;
  Object.assign(env, o.env);
  const args = ['--config', path, ...(o.args ?? [])];
  const child =
    o.shellPrefix === undefined
      ? spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `${o.shellPrefix}; exec "$@"`, 'bash', process.execPath, BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  o.onSpawn?.(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out.push(chunk);
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop()!;
    for (const line of parts) if (line !== '') o.onLine?.(line, child);
  });
  let errPartial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err.push(chunk);
    const parts = (errPartial + chunk.toString('utf8')).split('\n');
    errPartial = parts.pop()!;
    for (const line of parts) o.onStderrLine?.(line, child);
  });
  child.stdin!.on('error', () => undefined);
  if (typeof o.input === 'string') child.stdin!.end(o.input);
  else o.input.pipe(child.stdin!);
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  clearTimeout(timer);
  const stdout = Buffer.concat(out).toString('utf8');
  const deadLetterPath = String(config['dead_letter_path']);
  const deadLetterText = existsSync(deadLetterPath) ? await readFile(deadLetterPath, 'utf8') : '';
  return {
    code,
    signal,
    stdout,
    stderr: Buffer.concat(err).toString('utf8'),
    states: stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => parseJson(l)),
    deadLetters: deadLetterText
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => parseJson(l) as Record<string, unknown>),
    deadLetterText,
  };
}

/** Singer text from messages (objects become one JSON line each). */
export function singer(...messages: unknown[]): string {
  return messages.map((m) => `${JSON.stringify(m)}\n`).join('');
}

export const schema = (stream: string, properties: Record<string, unknown> = {}) => ({
  type: 'SCHEMA',
  stream,
  schema: { type: 'object', properties },
  key_properties: [],
});
export const record = (stream: string, rec: Record<string, unknown>) => ({ type: 'RECORD', stream, record: rec });
export const state = (value: unknown) => ({ type: 'STATE', value });

/** Resolves once `cond` holds (checked every 10 ms), or rejects after `timeoutMs` naming `what`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The `summary` fields of the bin's `finished` line (numbers). */
export function summaryOf(stderr: string): Record<string, number | string> {
  const line = logLines(stderr).find((l) => /^INFO (dry run )?finished/.test(l));
  if (!line) throw new Error(`no summary line in stderr:\n${stderr.slice(-2000)}`);
  const out: Record<string, number | string> = {};
  for (const m of line.matchAll(/ (\w+)=(\S+)/g)) out[m[1]!] = /^\d+$/.test(m[2]!) ? Number(m[2]) : m[2]!;
  return out;
}

/** read = imported + rejected + unsettled, from the summary line. */
export function expectAccountedFor(stderr: string): Record<string, number | string> {
  const s = summaryOf(stderr);
  const n = (k: string): number => (typeof s[k] === 'number' ? (s[k] as number) : 0);
  if (n('records_read') !== n('imported') + n('rejected') + n('unsettled')) {
    throw new Error(`records do not add up: ${JSON.stringify(s)}`);
  }
  return s;
}
