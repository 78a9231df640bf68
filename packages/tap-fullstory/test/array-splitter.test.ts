import { describe, it, expect } from '@jest/globals';
import { mulberry32 } from 'fullstory-sandbox';
import { ArraySplitter, BundleFormatError, ElementFlags } from '../src/array-splitter.js';
import { pushInChunks, splitInChunks } from './helpers.js';

type Engine = 'simd' | 'js';

/** Whether JSON.parse takes `body` as an array of objects: the verdict the splitter must agree with. */
function jsonVerdict(body: string): boolean {
  try {
    const value: unknown = JSON.parse(body);
    return Array.isArray(value) && value.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e));
  } catch {
    return false;
  }
}

/** Accepted with nothing but whitespace after the array (other trailing bytes are ignored, not valid JSON). */
function splitterVerdict(engine: Engine, body: string, cuts: number[] = []): boolean {
  const bytes = Buffer.from(body);
  const s = new ArraySplitter(() => undefined, { engine });
  try {
    pushInChunks(s, bytes, cuts);
    return s.trailing === undefined;
  } catch (err) {
    if (!(err instanceof BundleFormatError)) throw err;
    return false;
  }
}

// Every case runs with each engine: the WebAssembly scanner (which hands errors and edge cases to
// the JavaScript loop) and the JavaScript loop alone.
describe.each<Engine>(['simd', 'js'])('ArraySplitter (%s engine)', (engine) => {
  /** Splits `body` into chunks at the given cut points and returns each element's text and flags. */
  const split = (body: string | Buffer, cuts: number[] = []): Array<{ text: string; flags: number }> =>
    splitInChunks((h) => new ArraySplitter(h, { engine }), body, cuts);

  it('yields the raw bytes of each element, untouched', () => {
    const body = '[{"a":1,"b":"x"},{"big":9007199254740993,"n":[1,{"c":2}],"f":-0.5e+10,"t":true,"z":false,"u":null}]';
    expect(split(body).map((e) => e.text)).toEqual([
      '{"a":1,"b":"x"}',
      '{"big":9007199254740993,"n":[1,{"c":2}],"f":-0.5e+10,"t":true,"z":false,"u":null}',
    ]);
    expect(split(body).map((e) => e.flags)).toEqual([0, 0]);
  });

  it('handles an empty array, empty objects and whitespace anywhere', () => {
    expect(split(' \n[ ]\n ')).toEqual([]);
    expect(split('[ {} ,\t{ }\n]').map((e) => e.text)).toEqual(['{}', '{ }']);
    expect(split('[{ "a" : [ 1 , 2 ] , "b" :{ } }]').map((e) => e.text)).toEqual(['{ "a" : [ 1 , 2 ] , "b" :{ } }']);
  });

  it('ignores brackets, braces and escaped quotes inside strings', () => {
    const body = '[{"s":"a]}{[\\"\\\\","t":"\\\\"},{"u":"\\u005d\\/\\b\\f\\n\\r\\t"}]';
    const parsed = split(body).map((e) => JSON.parse(e.text) as unknown);
    expect(parsed).toEqual([{ s: 'a]}{["\\', t: '\\' }, { u: ']/\b\f\n\r\t' }]);
  });

  it('gives the same elements whatever the chunk boundaries (every cut point)', () => {
    const events = [
      { a: 'x\\"y', b: [1, 2, { c: '}' }], d: 'é€😀', n: -12.5e-3, t: true },
      {},
      { e: '\\\\', f: null, g: false, h: [] },
      { h: 'quote " and backslash \\ at end\\', _x: 0, u: '\u0001' },
    ];
    const body = Buffer.from(`[ ${events.map((e) => JSON.stringify(e)).join(' , ')} ]`);
    const whole = split(body);
    expect(whole.map((e) => JSON.parse(e.text) as unknown)).toEqual(events);
    for (let cut = 1; cut < body.length; cut++) {
      expect(split(body, [cut])).toEqual(whole);
    }
    // and byte-at-a-time
    expect(split(body, Array.from({ length: body.length - 1 }, (_, i) => i + 1))).toEqual(whole);
  });

  it('tolerates a UTF-8 byte order mark before the array', () => {
    expect(split(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"a":1}]')])).map((e) => e.text)).toEqual(['{"a":1}']);
  });

  it('flags newlines between tokens, top-level keys that may be key fields, and bytes that are not UTF-8', () => {
    const out = split('[\n  {\n    "a": 1\n  },\n  {"b": 2}\n]');
    expect(out.map((e) => e.flags)).toEqual([ElementFlags.NEWLINE, 0]);
    expect(JSON.parse(out[0]!.text)).toEqual({ a: 1 });
    // A top-level key starting with '_' or an escape; a nested one does not count.
    expect(split('[{"_sdc_bundle_index":1},{"\\u005fx":1},{"a":{"_b":1}},{"a":1,"_c":2}]').map((e) => e.flags)).toEqual([
      ElementFlags.RESERVED_KEY,
      ElementFlags.RESERVED_KEY,
      0,
      ElementFlags.RESERVED_KEY,
    ]);
    // Wherever the chunk boundary falls (the key's first byte in the next chunk included).
    const body = '[{"a":1,"_b":2}]';
    for (let cut = 1; cut < body.length; cut++) expect(split(body, [cut])[0]!.flags).toBe(ElementFlags.RESERVED_KEY);
    const bad = Buffer.concat([Buffer.from('[{"a":"x'), Buffer.from([0xff, 0xfe]), Buffer.from('"},{"b":"é"}]')]);
    expect(split(bad).map((e) => e.flags)).toEqual([ElementFlags.BAD_UTF8, 0]);
  });

  it.each([
    ['', /ended early \(before the array started\)/],
    ['{"a":1}', /not a JSON array/],
    ['[{"a":1},', /ended early \(after 1 event\(s\), inside the array\)/],
    ['[{"a":1}', /ended early/],
    ['[{"a":"unterminated', /ended early \(inside event 0\)/],
    ['[1,2]', /event 0 of the bundle is not a JSON object/],
    ['[{"a":1} {"b":2}]', /expected ',' or '\]' after event 0/],
    ['[{"a":[1}]', /event 0 is not valid JSON: a mismatched '}'/],
    ['[{"a":1},]', /event 1 of the bundle is not a JSON object/],
    ['[{},{"a":tru}]', /event 1 is not valid JSON: a misspelt literal \('}'\) at byte 12 of the body/],
    ['[{"a":1 "b":2}]', /event 0 is not valid JSON: '"' after a value/],
    ['[{"a" 1}]', /':' should follow a key/],
    ['[{"a":}]', /'}' where a value should start/],
    ['[{"a":1,}]', /'}' where a key should start/],
    ['[{1:2}]', /'1' where a key should start/],
    ['[{"a":01}]', /a malformed number/],
    ['[{"a":1.}]', /a malformed number/],
    ['[{"a":-}]', /a malformed number/],
    ['[{"a":1e}]', /a malformed number/],
    ['[{"a":+1}]', /'\+' where a value should start/],
    ['[{"a":"\\x"}]', /an invalid escape \\x/],
    ['[{"a":"\\u12g4"}]', /a \\u escape with 'g'/],
    ['[{"a":"line\nbreak"}]', /a raw control character \(byte 0x0a\) in a string/],
    ['[{"a":"tab\there"}]', /a raw control character \(byte 0x09\)/],
    ['[{"a":[1,]}]', /'\]' where a value should start/],
    ['[{"a":nul}]', /misspelt literal/],
    ['[{"a":True}]', /'T' where a value should start/],
  ])('rejects %j', (body, message) => {
    expect(() => split(body)).toThrow(BundleFormatError);
    expect(() => split(body)).toThrow(message);
  });

  it('agrees with JSON.parse on thousands of mutated bodies, wherever the chunks are cut', () => {
    const random = mulberry32(20261201);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const seeds = [
      '[{"IndvId":9007199254740993,"EventType":"click","PageUrl":"https://x.example/a?b=\\"c\\"","n":[1,2.5,-3e-2,{"d":null}],"t":true,"f":false}]',
      '[{"a":{"b":{"c":[[],[{}],"\\u00e9\\n"]}}},{"_sdc_bundle_index":0,"x":""}]',
      '[ { "a" : 1 } , { } ]',
    ];
    const alphabet = ['{', '}', '[', ']', ':', ',', '"', '\\', '0', '1', '-', '+', '.', 'e', 'E', 't', 'r', 'u', 'n', 'l', 'f', 'a', 's', ' ', '\n', '\t', 'x', '\u0001'];
    let disagreements = 0;
    let rejected = 0;
    for (let round = 0; round < 4000; round++) {
      let body = pick(seeds);
      for (let edits = 1 + Math.floor(random() * 2); edits > 0; edits--) {
        const at = Math.floor(random() * (body.length + 1));
        const kind = random();
        if (kind < 0.34) body = body.slice(0, at) + pick(alphabet) + body.slice(at);
        else if (kind < 0.67) body = body.slice(0, at) + body.slice(at + 1);
        else body = body.slice(0, at) + pick(alphabet) + body.slice(at + 1);
      }
      const expected = jsonVerdict(body);
      if (!expected) rejected++;
      const cut = 1 + Math.floor(random() * Math.max(body.length - 1, 1));
      if (splitterVerdict(engine, body) !== expected || splitterVerdict(engine, body, [Math.min(cut, body.length)]) !== expected) {
        disagreements++;
        if (disagreements < 5) process.stderr.write(`disagreement on ${JSON.stringify(body)}: JSON.parse says ${expected}\n`);
      }
    }
    expect(disagreements).toBe(0);
    // The corpus exercised both verdicts.
    expect(rejected).toBeGreaterThan(1000);
    expect(rejected).toBeLessThan(3900);
  });

  it('sees every byte value at every place of a long string, whatever the chunk offset', () => {
    // Strings are read four bytes at a time: a quote, backslash, control or high byte must be seen
    // wherever it falls in a word, and in a chunk that starts at any offset of its memory.
    const plain = 'abcdefghijklmnop';
    let checked = 0;
    for (let value = 0; value < 256; value++) {
      for (let at = 0; at < 8; at++) {
        for (let offset = 0; offset < 4; offset++) {
          const prefix = Buffer.from(`[{"k":"${plain.slice(0, at)}`);
          const suffix = Buffer.from(`${plain.slice(at)}"}]`);
          const memory = Buffer.concat([Buffer.alloc(offset), prefix, Buffer.from([value]), suffix]);
          const body = memory.subarray(offset);
          const flags: number[] = [];
          const s = new ArraySplitter((_chunk, _start, _end, f) => flags.push(f), { engine });
          let accepted: boolean;
          try {
            s.push(body);
            s.end();
            accepted = s.trailing === undefined;
          } catch (err) {
            if (!(err instanceof BundleFormatError)) throw err;
            accepted = false;
          }
          if (value >= 0x80) {
            // A lone byte above 0x7f is never UTF-8: accepted, and flagged for repair.
            expect([accepted, flags]).toEqual([true, [ElementFlags.BAD_UTF8]]);
          } else {
            expect(accepted).toBe(jsonVerdict(body.toString('latin1')));
            if (value < 0x20) expect(accepted).toBe(false);
          }
          checked++;
        }
      }
    }
    expect(checked).toBe(256 * 8 * 4);
  });

  it('validates an event nested 10,000 deep without recursion', () => {
    const deep = `[{"a":${'['.repeat(10_000)}1${']'.repeat(10_000)}}]`;
    expect(split(deep)).toHaveLength(1);
    expect(() => split(`[{"a":${'['.repeat(10_000)}1${']'.repeat(9_999)}}]`)).toThrow(/mismatched '}'/);
  });

  it('ignores what follows the array: whitespace and NULs silently, anything else counted', () => {
    const s = new ArraySplitter(() => undefined, { engine });
    s.push(Buffer.from('[{}]\n\0\0 \r\n'));
    s.end();
    expect(s.trailing).toBeUndefined();
    const t = new ArraySplitter(() => undefined, { engine });
    t.push(Buffer.from('[{}]\n<html>'));
    t.push(Buffer.from('</html>'));
    t.end();
    expect(t.trailing).toEqual({ bytes: 13, first: "'<'" });
  });

  it('bounds the size of one element', () => {
    const s = new ArraySplitter(() => undefined, { maxElementBytes: 10, engine });
    s.push(Buffer.from('[{"a":"'));
    expect(() => s.push(Buffer.from('0123456789'))).toThrow(/larger than 10 bytes/);
  });

  it('counts elements and bytes', () => {
    const s = new ArraySplitter(() => undefined, { engine });
    s.push(Buffer.from('[{},{}'));
    s.push(Buffer.from(',{}]'));
    s.end();
    expect(s.elements).toBe(3);
    expect(s.bytes).toBe(10);
    expect(s.done).toBe(true);
  });
});
