/**
 * `@fullstory-singer/singer-core/testing`: helpers for the CLIs' tests. Not for production code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type ConfigValidator } from '../config.js';
import { parseJson } from '../json.js';
import type { JsonSchema, OtherMessage, SingerMessage } from '../messages.js';
import { parseMessageText } from '../reader.js';

export { MemoryWritable } from './memory-writable.js';
export { runBin, type RunBinResult } from './run-bin.js';
export { screenRows } from './screen.js';

/**
 * Parses newline-delimited JSON output (e.g. a bin's stdout) losslessly; blank lines are skipped.
 * @throws Error naming the line that is not JSON.
 */
export function parseOutputLines(text: string): unknown[] {
  const values: unknown[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      values.push(parseJson(line));
    } catch (err) {
      throw new Error(`output line ${i + 1} is not JSON: ${line.slice(0, 200)}`, { cause: err });
    }
  });
  return values;
}

/**
 * Parses Singer output into messages, checked like the reader checks stdin (so a malformed
 * message fails the test with its line number). Messages of unknown types are kept as they are.
 */
export function collectMessages(text: string): SingerMessage[] {
  const messages: SingerMessage[] = [];
  text.split('\n').forEach((line, i) => {
    const message = parseMessageText(line, i + 1, 'output');
    if (message !== undefined) messages.push(message as SingerMessage);
  });
  return messages;
}

/** Messages of one type, narrowed (e.g. `messagesOfType(msgs, 'RECORD')`). */
export function messagesOfType<T extends SingerMessage['type']>(
  messages: Array<SingerMessage | OtherMessage>,
  type: T,
): Array<Extract<SingerMessage, { type: T }>> {
  return messages.filter((m) => m.type === type) as Array<Extract<SingerMessage, { type: T }>>;
}

let cachedRoot: string | undefined;

/** The monorepo root (the directory whose package.json declares the workspaces). */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && Array.isArray((JSON.parse(readFileSync(pkg, 'utf8')) as { workspaces?: unknown }).workspaces)) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('repoRoot: no package.json with "workspaces" above this file');
    dir = parent;
  }
}

/** A path under `<repo>/fixtures`. */
export function fixturePath(...parts: string[]): string {
  return join(repoRoot(), 'fixtures', ...parts);
}

/**
 * What a package's command runs, built by `npm run build`: for the two Singer CLIs their bundle,
 * `packages/<pkg>/dist/<pkg>.js` (scripts/bundle-clis.js); for the sandbox `dist/src/bin.js`.
 */
export function binPath(pkg: 'tap-fullstory' | 'target-fullstory' | 'fullstory-sandbox'): string {
  return pkg === 'fullstory-sandbox' ? join(repoRoot(), 'packages', pkg, 'dist', 'src', 'bin.js') : join(repoRoot(), 'packages', pkg, 'dist', `${pkg}.js`);
}

/** A fresh empty directory under the OS temp dir; remove it with {@link removeTempDir}. */
export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'fullstory-singer-'));
}

/** Removes a directory made by {@link tempDir} (recursively; missing is fine). */
export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/**
 * A bin's stderr as log lines without the `<time> <program> ` prefix the logger puts before every
 * line when stderr is not a terminal, so tests can match `WARNING …` / `INFO …` from the line start.
 */
export function logLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ /, ''));
}

/**
 * What `loadConfig` makes of one config file holding `settings`: the config (defaults filled) or
 * the error line. With `validate`, a validator compiled ahead of time; without, ajv compiles
 * `schema` at run time, so comparing the two checks a generated validator against its schema.
 */
export async function configOutcome(
  schema: JsonSchema,
  validate: ConfigValidator | undefined,
  settings: Record<string, unknown>,
): Promise<{ config: unknown } | { error: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'config-outcome-'));
  try {
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify(settings));
    const config = await loadConfig({ files: [file], env: {}, envPrefix: 'TEST', schema, ...(validate ? { validate } : {}) });
    return { config };
  } catch (err) {
    return { error: (err as Error).message.replaceAll(dir, '<dir>') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
