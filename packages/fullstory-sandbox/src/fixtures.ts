/**
 * Loads fixture bundles from a folder: files named `<Id>.json` or `<Id>.json.gz`, with their
 * windows from `bundles.json` (`[{"Id","Start","Stop"}]` or the list API's `{"exports": [...]}`),
 * or, for a file the manifest does not name, derived from its events' EventStart values (Start
 * rounded down, Stop rounded up to the hour); an empty file with no manifest entry gets the hour
 * after the previous bundle.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { parseId, toId, type BundleEntry } from './bundles.js';
import { parseJsonLossless } from './json.js';

const FILE_NAME = /^(\d+)\.json(\.gz)?$/;
const HOUR = 3600;

interface ManifestRow { id: bigint; start: number; stop: number }

/** Reads the folder and returns its bundles (unsorted); throws with the file name on a bad manifest. */
export async function loadFixtureBundles(dir: string, fallbackStart: number): Promise<BundleEntry[]> {
  const names = (await readdir(dir)).sort();
  const manifest = names.includes('bundles.json') ? await readManifest(join(dir, 'bundles.json')) : new Map<string, ManifestRow>();
  const entries: BundleEntry[] = [];
  const files = names.filter((n) => FILE_NAME.test(n))
    .map((name) => ({ name, key: BigInt(FILE_NAME.exec(name)![1]!).toString(), gzipped: name.endsWith('.gz') }))
    .sort((a, b) => a.key.length - b.key.length || (a.key < b.key ? -1 : 1));
  let previousStop = fallbackStart;
  for (const f of files) {
    const path = join(dir, f.name);
    let window = manifest.get(f.key);
    if (window === undefined) {
      const range = await eventStartRange(path, f.gzipped);
      window = range === undefined
        ? { id: BigInt(f.key), start: previousStop, stop: previousStop + HOUR }
        : { id: BigInt(f.key), start: Math.floor(range[0] / 1000 / HOUR) * HOUR, stop: (Math.floor(range[1] / 1000 / HOUR) + 1) * HOUR };
    }
    previousStop = window.stop;
    entries.push({
      key: f.key, gzipped: f.gzipped,
      meta: { id: toId(window.id), start: window.start, stop: window.stop, events: null, source: 'fixture', file: path },
    });
  }
  return entries;
}

async function readManifest(path: string): Promise<Map<string, ManifestRow>> {
  const parsed = parseJsonLossless(await readFile(path, 'utf8'));
  const rows = Array.isArray(parsed) ? parsed : (parsed as { exports?: unknown }).exports;
  if (!Array.isArray(rows)) throw new Error(`${path}: expected an array of {Id, Start, Stop} or {"exports": [...]}`);
  const out = new Map<string, ManifestRow>();
  for (const [i, row] of rows.entries()) {
    const r = row as Record<string, unknown>;
    const id = parseId(r.Id);
    if (id === undefined || typeof r.Start !== 'number' || typeof r.Stop !== 'number' || r.Stop <= r.Start) {
      throw new Error(`${path}: entry ${i} needs an integer Id and unix-second Start < Stop`);
    }
    out.set(id.toString(), { id, start: r.Start, stop: r.Stop });
  }
  return out;
}

/** Smallest and largest EventStart (ms) in a bundle file, scanning it as text (no full parse). */
async function eventStartRange(path: string, gzipped: boolean): Promise<[number, number] | undefined> {
  const pattern = /"EventStart"\s*:\s*"([^"]+)"/g;
  let min = Infinity;
  let max = -Infinity;
  let tail = '';
  const input = createReadStream(path);
  const source = gzipped ? input.pipe(createGunzip()) : input;
  for await (const chunk of source) {
    const text = tail + (chunk as Buffer).toString('utf8');
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      const t = Date.parse(m[1]!);
      if (!Number.isNaN(t)) {
        if (t < min) min = t;
        if (t > max) max = t;
      }
    }
    // Keep a tail so a field split across chunks is seen whole next time.
    tail = text.slice(-200);
  }
  return min === Infinity ? undefined : [min, max];
}
