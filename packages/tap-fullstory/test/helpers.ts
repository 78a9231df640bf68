// Shared by the tap's tests: run the tap in-process (tapMain under singer-core's runMain, with
// injected streams) and look at what it printed.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateBundleEvents } from 'fullstory-sandbox';
import type { Sandbox } from 'fullstory-sandbox';
import { runMain } from '@fullstory-singer/singer-core';
import { MemoryWritable, parseOutputLines } from '@fullstory-singer/singer-core/testing';
import type { ElementHandler } from '../src/array-splitter.js';
import { tapMain } from '../src/cli.js';

/** What one in-process run printed. */
export interface TapRun {
  code: number;
  /** stdout, raw. */
  stdout: string;
  stderr: string;
  /** stdout parsed losslessly, one value per line ([] when stdout is not JSON lines). */
  messages: Array<Record<string, unknown>>;
}

/** Runs `tap-fullstory <args>` in-process; resolves with its exit code and output. */
export async function runTap(args: string[], env: Record<string, string> = {}): Promise<TapRun> {
  const stdout = new MemoryWritable();
  const stderr = new MemoryWritable();
  let code = -1;
  await runMain((ctx) => tapMain(ctx, { argv: args, env, stdout, isTTY: false }), {
    name: 'tap-fullstory',
    out: stderr,
    env,
    exit: (c) => {
      code = c;
    },
  });
  const out = Buffer.concat(stdout.chunks).toString('utf8');
  let messages: Array<Record<string, unknown>> = [];
  try {
    messages = parseOutputLines(out) as Array<Record<string, unknown>>;
  } catch {
    // --about, --version and --help print text, not Singer messages
  }
  return { code, stdout: out, stderr: Buffer.concat(stderr.chunks).toString('utf8'), messages };
}

/** Writes `value` as JSON to `<dir>/<name>` and returns the path. */
export async function writeJson(dir: string, name: string, value: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

/** Messages of one type. */
export function ofType(run: TapRun, type: string): Array<Record<string, unknown>> {
  return run.messages.filter((m) => m['type'] === type);
}

/** The `bookmarks.events` of each STATE message, in order. */
export function bookmarks(run: TapRun): Array<Record<string, unknown>> {
  return ofType(run, 'STATE').map((m) => ((m['value'] as { bookmarks: Record<string, unknown> }).bookmarks['events'] as Record<string, unknown>));
}

/** `[bundle_id, index]` of each RECORD, as strings (ids may be bigint). */
export function recordKeys(run: TapRun): string[] {
  return ofType(run, 'RECORD').map((m) => {
    const r = m['record'] as Record<string, unknown>;
    return `${String(r['_sdc_bundle_id'])}:${String(r['_sdc_bundle_index'])}`;
  });
}

/** A bundle the sandbox serves, with the exact JSON text of each of its events. */
export interface ServedBundle {
  id: number | bigint;
  start: number;
  stop: number;
  texts: string[];
}

/** The sandbox's generated bundles (made with `seed`) and their events' texts, regenerated here. */
export function servedBundles(sandbox: Sandbox, seed: number): ServedBundle[] {
  return sandbox.bundles().map((b) => ({
    id: b.id,
    start: b.start,
    stop: b.stop,
    texts: [...generateBundleEvents(seed, b.id, b.events!, { start: b.start, stop: b.stop })],
  }));
}

/** `[bundle position, first index]` pairs → every `bundle_id:index` key from there on, in order. */
export function keysFrom(served: ServedBundle[], from: Array<[number, number]>): string[] {
  return from.flatMap(([b, first]) => served[b]!.texts.slice(first).map((_, i) => `${String(served[b]!.id)}:${first + i}`));
}

/** A splitter of bundle or export bytes, as the splitter tests drive one. */
export type MakeSplitter = (onElement: ElementHandler) => { push(chunk: Buffer): void; end(): void };

/** Pushes `bytes` into `splitter` in chunks cut at `cuts` (ascending offsets), then ends it. */
export function pushInChunks(splitter: { push(chunk: Buffer): void; end(): void }, bytes: Buffer, cuts: number[] = []): void {
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    splitter.push(bytes.subarray(prev, cut));
    prev = cut;
  }
  splitter.end();
}

/** Feeds `body` to a new splitter in chunks cut at `cuts`, and returns each element's text and flags. */
export function splitInChunks(make: MakeSplitter, body: string | Buffer, cuts: number[] = []): Array<{ text: string; flags: number }> {
  const out: Array<{ text: string; flags: number }> = [];
  const s = make((chunk, start, end, flags) => out.push({ text: chunk.toString('utf8', start, end), flags }));
  pushInChunks(s, typeof body === 'string' ? Buffer.from(body) : body, cuts);
  return out;
}
