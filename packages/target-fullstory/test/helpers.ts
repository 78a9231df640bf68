/**
 * Test harness: runs the target in-process (`run` with the real fullstory-client) against a sandbox on
 * 127.0.0.1:0, with stdout, stderr and the dead-letter file captured. The config goes through a file
 * and the same validation (and schema defaults) as the CLI's.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from '@jest/globals';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createLogger, MessageWriter, parseJson, ProgressReporter, Redactor } from '@fullstory-singer/singer-core';
import { fixturePath, MemoryWritable, parseOutputLines, removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';
import { ServerApiClient } from '@fullstory-singer/fullstory-client';
import { startSandbox, type Sandbox, type SandboxOptions } from 'fullstory-sandbox';
import type { Clock } from '../src/clock.js';
import { loadSettings } from '../src/config.js';
import { dryRunDeadLetterPath } from '../src/dead-letter.js';
import { run } from '../src/run.js';
import { fullStoryApi } from '../src/sinks/fullstory.js';
import type { RunSummary } from '../src/summary.js';

export interface RunResult {
  summary?: RunSummary;
  error?: Error & { exitCode?: number };
  /** Bare state values written to stdout, in order. */
  states: unknown[];
  stdout: string;
  stderr: string;
  deadLetters: Array<Record<string, unknown>>;
}

export interface RunOptions {
  /** Extra fields for the client (e.g. fewer retries). */
  maxRetries?: number;
  throttleWindowMs?: number;
  /** Input as a stream (for slow producers); default: `input` in one chunk. */
  stream?: Readable | AsyncIterable<string | Buffer>;
  /** Report progress to the captured stderr on every update. */
  progress?: boolean;
  /** Called with each state value as it is written to stdout (before the run ends). */
  onState?: (value: unknown) => void;
  /** The run's stop signal (a graceful stop, as SIGINT/SIGTERM ask for). */
  stop?: AbortSignal;
  clock?: Clock;
}

/** A stdout that hands each complete line to `onLine` as it is written. */
class LineWatcher extends MemoryWritable {
  private partial = '';
  constructor(private readonly onLine: (line: string) => void) {
    super();
  }
  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const text = this.partial + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) if (l !== '') this.onLine(l);
    super._write(chunk, encoding, callback);
  }
}

/** What {@link sandboxPerFile} sets up: valid inside tests and hooks, not at module load. */
export interface SandboxContext {
  readonly sandbox: Sandbox;
  readonly dir: string;
}

/**
 * One sandbox for the test file (no bundles; `options` on top), reset before each test, and a fresh
 * temp folder per test for dead-letter files and configs.
 */
export function sandboxPerFile(options: SandboxOptions): SandboxContext {
  const ctx = {} as { sandbox: Sandbox; dir: string };
  beforeAll(async () => {
    ctx.sandbox = await startSandbox({ port: 0, bundles: 0, ...options });
  });
  afterAll(async () => {
    await ctx.sandbox.close();
  });
  beforeEach(async () => {
    ctx.sandbox.reset();
    ctx.dir = await tempDir();
  });
  afterEach(async () => {
    await removeTempDir(ctx.dir);
  });
  return ctx;
}

/** Read a fixture under fixtures/singer. */
export function singerFixture(...parts: string[]): Promise<string> {
  return readFile(fixturePath('singer', ...parts), 'utf8');
}

/** Config with the sandbox's URL, fast polling and a dead-letter file in `dir`. */
export function sandboxConfig(sandbox: Sandbox | undefined, dir: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    api_key: 'sandbox-key',
    ...(sandbox ? { base_url: sandbox.url } : {}),
    job_poll_interval_seconds: 0.05,
    dead_letter_path: join(dir, 'rejected.ndjson'),
    ...over,
  };
}

let configs = 0;

/** Run the target over `input` with `config` (snake_case, as in a config file). */
export async function runWith(config: Record<string, unknown>, input: string, options: RunOptions = {}): Promise<RunResult> {
  const onState = options.onState;
  const stdout = onState ? new LineWatcher((l) => onState(parseJson(l))) : new MemoryWritable();
  const stderr = new MemoryWritable();
  const redactor = new Redactor();
  const logger = createLogger({ level: 'debug', out: stderr, redactor });
  const output = new MessageWriter(stdout);
  const result: RunResult = { states: [], stdout: '', stderr: '', deadLetters: [] };
  let deadLetterPath: string | undefined;
  try {
    // Through a file, as the CLI reads it: the same validation and schema defaults.
    const file = join(tmpdir(), `target-fullstory-test-${process.pid}-${++configs}.json`);
    await writeFile(file, JSON.stringify(config));
    const settings = await loadSettings({ files: [file], env: {}, redactor }).finally(() => rm(file, { force: true }));
    deadLetterPath = settings.dryRun ? dryRunDeadLetterPath(settings.deadLetterPath) : settings.deadLetterPath;
    result.summary = await run({
      settings,
      input: options.stream ?? Readable.from([Buffer.from(input)]),
      output,
      logger,
      redactor,
      connect: (hooks) =>
        fullStoryApi(
          new ServerApiClient({
            apiKey: settings.apiKey!,
            baseUrl: settings.baseUrl!,
            userAgent: 'target-fullstory-test',
            timeoutMs: 10_000,
            maxRetries: options.maxRetries ?? 3,
            backoffBaseMs: 5,
            backoffCapMs: 50,
            logger,
            onThrottle: hooks.onThrottle,
          }),
        ),
      ...(options.progress ? { progress: new ProgressReporter({ out: stderr, isTTY: false, intervalMs: 0 }) } : {}),
      ...(options.throttleWindowMs !== undefined ? { throttleWindowMs: options.throttleWindowMs } : {}),
      ...(options.stop ? { stop: options.stop } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
  } catch (err) {
    result.error = err as RunResult['error'];
  }
  await output.end().catch(() => undefined);
  result.stdout = stdout.text();
  result.stderr = stderr.text();
  result.states = parseOutputLines(result.stdout);
  try {
    const text = await readFile(deadLetterPath!, 'utf8');
    result.deadLetters = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => parseJson(l) as Record<string, unknown>);
  } catch {
    // No file: nothing was rejected.
  }
  return result;
}

/** Singer lines for `n` users records of `stream` (uid `<prefix><i>`), with a SCHEMA first. */
export function usersInput(stream: string, n: number, prefix = 'u', extra: (i: number) => string[] = () => []): string {
  const lines = [
    JSON.stringify({ type: 'SCHEMA', stream, schema: { type: 'object', properties: { uid: { type: 'string' }, n: { type: 'integer' } } }, key_properties: ['uid'] }),
  ];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ type: 'RECORD', stream, record: { uid: `${prefix}${i}`, n: i } }));
    lines.push(...extra(i));
  }
  return `${lines.join('\n')}\n`;
}

/** Batch-create requests the sandbox saw, in order. */
export function batchPosts(sandbox: Sandbox, kind: 'users' | 'events' = 'users'): ReturnType<Sandbox['requests']> {
  return sandbox.requests().filter((r) => r.method === 'POST' && r.path === `/v2/${kind}/batch`);
}
