/**
 * Shared pieces of the reliability suite (docs/reliability.md "How it is tested"): the seed, the secret API
 * key and the check that it never leaks, spawning the real built bins, and a small seeded PRNG.
 *
 * Every scenario is seeded: `RELIABILITY_SEED` in the environment, else a fixed default. The seed is
 * never printed (tests must not write to the console); it is put in front of every failure message
 * by {@link seeded}, so a red run says how to reproduce itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath } from '@fullstory-singer/singer-core/testing';

/** The suite's seed: `RELIABILITY_SEED` (an integer) or a fixed default. */
export const SEED: number = (() => {
  const raw = process.env['RELIABILITY_SEED'];
  if (raw === undefined || raw === '') return 20261123;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`RELIABILITY_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return n;
})();

/**
 * The API key every scenario configures in the sandbox and passes to the bins (by environment
 * variable, never in a file). Distinctive, so a leak anywhere is found by a plain substring search.
 */
export const SECRET = 'na1.RELIABILITY-SECRET-7f3a9c1e5b2d8064-do-not-print';

/** Every form of `key` that must never appear in an output: raw, base64, and base64 of `key:`. */
export function secretForms(key: string): string[] {
  return [key, Buffer.from(key, 'utf8').toString('base64'), Buffer.from(`${key}:`, 'utf8').toString('base64')];
}

/** The forms of {@link SECRET} searched for, plus its distinctive middle alone (a truncated or partly escaped key). */
export const SECRET_FORMS: readonly string[] = [...secretForms(SECRET), 'RELIABILITY-SECRET-7f3a9c1e5b2d8064'];

/**
 * Wraps a test body so that any failure's message starts with the seed that produced it.
 * Use: `it('...', seeded(async () => { ... }))`.
 */
export function seeded(body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } catch (err) {
      if (err instanceof Error) {
        err.message = `[RELIABILITY_SEED=${SEED}] ${err.message}`;
        throw err;
      }
      throw new Error(`[RELIABILITY_SEED=${SEED}] ${String(err)}`);
    }
  };
}

/** Throws (with the seed, via {@link seeded}) when `cond` is false. For checks jest's matchers express badly. */
export function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

/**
 * Asserts that no form of the secret (nor of `otherKeys`, keys derived from it) is in any of the
 * given outputs (by name, for the message).
 * Buffers are searched as latin1, so every byte is seen, valid UTF-8 or not.
 */
export function expectNoSecret(outputs: Record<string, string | Buffer | undefined>, otherKeys: string[] = []): void {
  const forms = [...SECRET_FORMS, ...otherKeys.flatMap(secretForms)];
  for (const [name, value] of Object.entries(outputs)) {
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value : value.toString('latin1');
    forms.forEach((form, i) => check(!text.includes(form), `an API key (form ${i}) appears in ${name}`));
  }
}

/** mulberry32, the sandbox's own seeded PRNG in [0, 1): same seed, same sequence, on every machine. */
export { mulberry32 as prng } from 'fullstory-sandbox';

/** An integer in [lo, hi] drawn from `random`. */
export function randomInt(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

/** A seeded Fisher–Yates shuffle (a copy; the input is left alone). */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export type BinName = 'tap-fullstory' | 'target-fullstory';

/** Path of a built bin; fails clearly when it was not built (`npx tsc -b`). */
export function builtBin(name: BinName): string {
  const path = binPath(name);
  check(existsSync(path), `${path} is missing: build first (npx tsc -b)`);
  return path;
}

/** How a spawned bin ended and every byte it printed. */
export interface BinRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  /** Complete stdout lines (a line cut short by a kill is left out), as text. */
  lines: string[];
}

/** Options of {@link spawnBin}. */
export interface SpawnOptions {
  args: string[];
  /** Extra environment (the API key goes here). */
  env?: Record<string, string>;
  /** stdin: bytes, or an async source of chunks (piped with backpressure). Default: empty. */
  input?: Buffer | string | AsyncIterable<Buffer | string>;
  /** SIGKILL after this long (a hung bin fails its test rather than the whole run). */
  timeoutMs: number;
  cwd?: string;
  /**
   * Called with each complete stdout line as it arrives (0-based line number). Return true to
   * SIGKILL the child right there. Lines already in the pipe still arrive and are kept.
   */
  onLine?: (line: string, index: number, child: ChildProcess) => boolean | void;
  /** Called once the child is started (e.g. to kill it on a condition seen elsewhere, like the sandbox). */
  onSpawn?: (child: ChildProcess) => void;
}

// Variables of the developer's shell (or of jest) that would change a bin's behaviour.
const STRIPPED_ENV = /^(TAP_FULLSTORY_|TARGET_FULLSTORY_|LOG_LEVEL$|NODE_OPTIONS$|RELIABILITY_SEED$)/;

/** This process's environment without what would steer a bin (see STRIPPED_ENV), plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !STRIPPED_ENV.test(k)) env[k] = v;
  return Object.assign(env, extra);
}

/** Children still running, so a failed test's afterEach can end them. */
const live = new Set<ChildProcess>();

/** SIGKILLs every child this module started that is still running (for afterEach/afterAll). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/**
 * Spawns `node <bin> ...args` and collects its output as bytes. Never rejects on a non-zero exit
 * or a signal: the caller asserts on them.
 */
export function spawnBin(name: BinName, opts: SpawnOptions): Promise<BinRun> {
  const path = builtBin(name);
  const env = childEnv(opts.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path, ...opts.args], { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    opts.onSpawn?.(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const lines: string[] = [];
    let partial = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (!killed && opts.onLine?.(line, lines.length - 1, child) === true) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      live.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err), lines });
    });
    // The child may exit (or be killed) before reading all its input: that EPIPE is expected.
    child.stdin.on('error', () => undefined);
    const input = opts.input;
    if (input === undefined) child.stdin.end();
    else if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
    else void pump(input, child.stdin);
  });
}

/** Writes an async source into a writable with backpressure; stops quietly when the reader goes away. */
async function pump(source: AsyncIterable<Buffer | string>, sink: NodeJS.WritableStream): Promise<void> {
  try {
    for await (const chunk of source) {
      if ((sink as { destroyed?: boolean }).destroyed) return;
      if (!sink.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            sink.removeListener('drain', done);
            sink.removeListener('close', done);
            sink.removeListener('error', done);
            resolve();
          };
          sink.on('drain', done);
          sink.on('close', done);
          sink.on('error', done);
        });
      }
    }
    sink.end();
  } catch {
    // The child closed its stdin early (killed or exited on bad input).
  }
}

/** Lines of stderr that carry the bin's fatal error (`<name>: error: ...`). */
export function errorLines(run: BinRun, name: BinName): string[] {
  return run.stderr
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${name}: error:`));
}

/** A fresh temporary directory and its remover. */
export async function makeTemp(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `reliability-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Describes a run for failure messages: exit, signal and the tail of stderr (secrets redacted). */
export function describeRun(run: BinRun): string {
  let tail = run.stderr.toString('utf8').slice(-1500);
  for (const form of SECRET_FORMS) tail = tail.split(form).join('[SECRET]');
  return `exit=${run.code} signal=${run.signal}; stderr tail:\n${tail}`;
}

/** Options of {@link spawnPipeline}: each side's arguments and environment. */
export interface PipelineOptions {
  tap: { args: string[]; env?: Record<string, string> };
  target: { args: string[]; env?: Record<string, string> };
  timeoutMs: number;
  /** Called once both are started (e.g. to kill the target on a condition seen in the sandbox). */
  onSpawn?: (children: { tap: ChildProcess; target: ChildProcess }) => void;
  /** Called with each complete stdout line of the target as it arrives. */
  onTargetLine?: (line: string) => void;
}

/**
 * Runs `tap-fullstory ... | target-fullstory ...` through a real OS pipe (with its backpressure),
 * keeping a copy of every byte the tap printed. Resolves when both have ended.
 */
export function spawnPipeline(opts: PipelineOptions): Promise<{ tap: BinRun; target: BinRun }> {
  const start = (name: BinName, side: PipelineOptions['tap']) => {
    const child = spawn(process.execPath, [builtBin(name), ...side.args], { env: childEnv(side.env), stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => undefined);
    const done = new Promise<BinRun>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        live.delete(child);
        const stdout = Buffer.concat(out);
        const lines = stdout.toString('utf8').split('\n');
        lines.pop();
        resolve({ code, signal, stdout, stderr: Buffer.concat(err), lines });
      });
    });
    return { child, done };
  };
  const tap = start('tap-fullstory', opts.tap);
  const target = start('target-fullstory', opts.target);
  const onLine = opts.onTargetLine;
  if (onLine) {
    let partial = '';
    target.child.stdout.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) onLine(line);
    });
  }
  opts.onSpawn?.({ tap: tap.child, target: target.child });
  tap.child.stdin.end();
  tap.child.stdout.pipe(target.child.stdin);
  const timer = setTimeout(() => {
    tap.child.kill('SIGKILL');
    target.child.kill('SIGKILL');
  }, opts.timeoutMs);
  return Promise.all([tap.done, target.done]).then(([t, g]) => {
    clearTimeout(timer);
    return { tap: t, target: g };
  });
}
