/**
 * The WebAssembly scanner (src/simd-scan.wat) must behave exactly as the JavaScript loop alone:
 * same elements, same flags, same errors at the same byte. These cases aim at what only it has: 16
 * bytes read at a time inside strings (and a chunk that ends inside those 16), a stack of fixed size,
 * a memory of fixed size, one instance shared by every splitter. (array-splitter.test.ts and
 * ndjson.test.ts run all their cases with both engines as well.)
 */
import { describe, expect, it } from '@jest/globals';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBin } from '@fullstory-singer/singer-core/testing';
import { ArraySplitter, BundleFormatError } from '../src/array-splitter.js';
import type { ArraySplitterOptions } from '../src/array-splitter.js';
import { pushInChunks } from './helpers.js';
import { SimdScanner, sharedScanner } from '../src/simd-scan.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Outcome {
  elements: string[];
  flags: number[];
  error?: string;
  bytes?: number;
}

/** What a splitter of `engine` makes of `body` pushed in pieces cut at `cuts`. */
function outcome(engine: 'simd' | 'js', body: Buffer, cuts: number[] = [], options: ArraySplitterOptions = {}): Outcome {
  const result: Outcome = { elements: [], flags: [] };
  const s = new ArraySplitter(
    (chunk, start, end, flags) => {
      result.elements.push(chunk.toString('latin1', start, end));
      result.flags.push(flags);
    },
    { ...options, engine },
  );
  try {
    pushInChunks(s, body, cuts);
    result.bytes = s.bytes;
  } catch (err) {
    if (!(err instanceof BundleFormatError)) throw err;
    result.error = err.message;
  }
  return result;
}

/** Bodies on which the two engines disagree (at most a few, for the failure message). */
function disagreements(bodies: Iterable<{ body: Buffer; cuts?: number[]; options?: ArraySplitterOptions }>): string[] {
  const found: string[] = [];
  for (const { body, cuts = [], options = {} } of bodies) {
    const simd = outcome('simd', body, cuts, options);
    const js = outcome('js', body, cuts, options);
    if (JSON.stringify(simd) !== JSON.stringify(js) && found.length < 3) {
      found.push(`${JSON.stringify(body.toString('latin1'))} cut at ${JSON.stringify(cuts)}: simd ${JSON.stringify(simd)}, js ${JSON.stringify(js)}`);
    }
  }
  return found;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

describe('the WebAssembly scanner', () => {
  it('runs here (so the default engine in every splitter test is the WebAssembly one)', () => {
    expect(sharedScanner()).toBeInstanceOf(SimdScanner);
  });

  it('is up to date with simd-scan.wat and the grammar', async () => {
    const result = await runBin(join(repoRoot, 'scripts', 'generate-simd-scan.js'), ['--check']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('agrees with the JavaScript loop on every byte value at every place of the first 34 bytes of a key or a value', () => {
    function* bodies(): Generator<{ body: Buffer }> {
      for (let value = 0; value < 256; value++) {
        for (let at = 0; at < 34; at++) {
          const text = Buffer.concat([Buffer.from(ALPHABET.slice(0, at)), Buffer.from([value]), Buffer.from(ALPHABET.slice(at, 40))]);
          yield { body: Buffer.concat([Buffer.from('[{"k":"'), text, Buffer.from('","z":1}]')]) };
          yield { body: Buffer.concat([Buffer.from('[{"'), text, Buffer.from('":1}]')]) };
        }
      }
    }
    expect(disagreements(bodies())).toEqual([]);
  });

  it('agrees wherever one or two chunk boundaries fall, inside strings of every length up to 40 bytes included', () => {
    const strings = Array.from({ length: 41 }, (_, n) => ALPHABET.slice(0, n));
    const events = [
      `{${strings.map((s, n) => `"${s}":"${s.slice(0, n >> 1)}\\"${s.slice(n >> 1)}"`).join(',')}}`,
      '{"_e":"é€😀 0123456789abcdef0123456789","f":[1,-2.5e+3,true,false,null,{"g":{}}],"h":"\\u00e9\\n\\\\"}',
      '{\n "i" : 12345678901234567890 , "j":"tab\\t", "k":[ ]\r\n}',
      '{"l":"line\nbreak"}',
    ];
    for (const body of [`[${events.slice(0, 3).join(',')}]`, `[${events.join(',')}]`]) {
      const bytes = Buffer.from(body);
      function* cut(): Generator<{ body: Buffer; cuts: number[] }> {
        for (let at = 1; at < bytes.length; at++) {
          yield { body: bytes, cuts: [at] };
          if (at + 7 < bytes.length) yield { body: bytes, cuts: [at, at + 7] };
        }
      }
      expect(disagreements(cut())).toEqual([]);
    }
    expect(outcome('simd', Buffer.from(`[${events.slice(0, 3).join(',')}]`)).elements).toHaveLength(3);
    expect(outcome('simd', Buffer.from(`[${events.join(',')}]`)).error).toMatch(/event 3 is not valid JSON: a raw control character \(byte 0x0a\)/);
  });

  it('scans a chunk larger than its memory (1 MiB) in pieces, elements across the pieces included', () => {
    const events = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ i, s: ALPHABET.repeat(16), n: [i, -i / 7] }));
    events.splice(1500, 0, JSON.stringify({ long: 'x'.repeat(1_500_000) }));
    const body = Buffer.from(`[${events.join(',')}]`);
    expect(body.length).toBeGreaterThan(4 * 1024 * 1024);
    const simd = outcome('simd', body);
    expect(simd.elements).toEqual(events);
    expect(simd.bytes).toBe(body.length);
    // A piece of exactly the memory's size, and an empty chunk between two.
    const mib = 1024 * 1024;
    expect(disagreements([{ body }, { body, cuts: [mib + 3] }, { body, cuts: [mib, mib] }, { body, cuts: [2 * mib - 1, 2 * mib - 1, 3 * mib] }])).toEqual([]);
  });

  it('hands a nesting deeper than its stack (65,536) to the JavaScript loop, and takes the next element back', () => {
    const depth = 70_000;
    const deep = `{"a":${'['.repeat(depth)}1${']'.repeat(depth)}}`;
    const body = Buffer.from(`[${deep},{"b":"${ALPHABET}"}]`);
    const simd = outcome('simd', body);
    expect(simd.elements).toEqual([deep, `{"b":"${ALPHABET}"}`]);
    const broken = Buffer.from(`[{"a":${'['.repeat(depth)}1${']'.repeat(depth - 1)}}]`);
    expect(outcome('simd', broken).error).toMatch(/event 0 is not valid JSON: a mismatched '}'/);
    expect(disagreements([{ body }, { body, cuts: [1000, 65_540, 70_100, 139_000] }, { body: broken }, { body: broken, cuts: [66_000] }])).toEqual([]);
  });

  it('is shared safely: a handler that feeds another splitter in the middle of a chunk', () => {
    // The inner body starts as the outer one does, then differs: scanning the rest of the outer
    // chunk over the inner's bytes would end the outer's second element early.
    const outer = Buffer.from(`[{"a":1},{"b":"${ALPHABET}"},{"e":null}]`);
    const inner = Buffer.from(`[{"a":1},{"b":"0123"},{"c":"${ALPHABET}${ALPHABET}"}]`);
    const seen: string[] = [];
    const innerSplitter = new ArraySplitter((chunk, start, end) => seen.push(`inner ${chunk.toString('latin1', start, end)}`));
    const outerSplitter = new ArraySplitter((chunk, start, end) => {
      seen.push(`outer ${chunk.toString('latin1', start, end)}`);
      if (seen.length === 1) innerSplitter.push(inner);
    });
    outerSplitter.push(outer);
    outerSplitter.end();
    innerSplitter.end();
    expect(seen).toEqual([
      'outer {"a":1}',
      'inner {"a":1}',
      'inner {"b":"0123"}',
      `inner {"c":"${ALPHABET}${ALPHABET}"}`,
      `outer {"b":"${ALPHABET}"}`,
      'outer {"e":null}',
    ]);
  });
});
