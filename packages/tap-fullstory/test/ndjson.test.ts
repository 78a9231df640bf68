// NDJSON (the splitter's `lines` framing, Segment Export files) and the sniffing between NDJSON and a JSON array.
import { describe, it, expect } from '@jest/globals';
import { ArraySplitter, BundleFormatError, ElementFlags } from '../src/array-splitter.js';
import { FileSplitter } from '../src/segment-export/file-splitter.js';
import { splitInChunks, type MakeSplitter } from './helpers.js';

const file: MakeSplitter = (h) => new FileSplitter(h);

const fileTexts = (body: string | Buffer, cuts: number[] = []): string[] => splitInChunks(file, body, cuts).map((r) => r.text);

// With each engine: the WebAssembly scanner (handing errors to the JavaScript loop), and that loop alone.
describe.each(['simd', 'js'] as const)("ArraySplitter, framing 'lines' (NDJSON), %s engine", (engine) => {
  const lines: MakeSplitter = (h) => new ArraySplitter(h, { framing: 'lines', engine });
  const split = (body: string | Buffer, cuts: number[] = []): Array<{ text: string; flags: number }> => splitInChunks(lines, body, cuts);
  const texts = (body: string | Buffer, cuts: number[] = []): string[] => split(body, cuts).map((r) => r.text);

  it('yields the raw bytes of each row, untouched, skipping blank lines and CRs', () => {
    const body = '{"a":1,"big":9007199254740993}\n\n  {"b":[1,{"c":"}"}]}\r\n{}';
    expect(texts(body)).toEqual(['{"a":1,"big":9007199254740993}', '{"b":[1,{"c":"}"}]}', '{}']);
    expect(texts('')).toEqual([]);
    expect(texts('\n\n')).toEqual([]);
    expect(texts(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n')]))).toEqual(['{"a":1}']);
  });

  it('gives the same rows whatever the chunk boundaries (every cut point, and byte by byte)', () => {
    const rows = [{ a: 'x\\"y', b: [1, 2, { c: '}' }], d: 'é€😀' }, {}, { e: 'quote " and backslash \\ at end\\', n: -1.5e3, t: true, z: null }];
    const body = Buffer.from(`${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const whole = texts(body);
    expect(whole.map((t) => JSON.parse(t) as unknown)).toEqual(rows);
    for (let cut = 1; cut < body.length; cut++) expect(texts(body, [cut])).toEqual(whole);
    expect(texts(body, Array.from({ length: body.length - 1 }, (_, i) => i + 1))).toEqual(whole);
  });

  it('flags a row whose top-level keys may be the tap key fields, as for bundles', () => {
    const [plain, reserved] = split('{"a":1}\n{"_sdc_window_index":3}\n');
    expect(plain!.flags).toBe(0);
    expect(reserved!.flags & ElementFlags.RESERVED_KEY).toBe(ElementFlags.RESERVED_KEY);
  });

  it.each([
    ['{"a":1}\n{"b":', /body ended early, inside row 1/],
    ['{"a":"unterminated', /ended early/],
    ['[1]', /row 0 is not a JSON object \(found '\['\)/],
    ['{"a":1} {"b":2}', /unexpected '\{' after row 0 on its line/],
    ['{"a":1},\n', /unexpected ',' after row 0 on its line/],
    ['{"a":[1}', /row 0 is not valid JSON: a mismatched '}'/],
    ['{"a":\n1}', /row 0 is not valid JSON: a line break inside the row/],
    ['{"a":"x\ny"}', /row 0 is not valid JSON: a raw control character \(byte 0x0a\) in a string/],
    ['{"a":1}\n{"a":tru}\n', /row 1 is not valid JSON: a misspelt literal/],
    ['{"a":1 "b":2}', /row 0 is not valid JSON/],
  ])('rejects %j', (body, message) => {
    expect(() => split(body)).toThrow(BundleFormatError);
    expect(() => split(body)).toThrow(message);
  });

  it('never counts an NDJSON body as complete (it has no end mark), and bounds the size of one row', () => {
    const s = new ArraySplitter(() => undefined, { framing: 'lines', maxElementBytes: 10, engine });
    s.push(Buffer.from('{"a":1}\n'));
    expect(s.done).toBe(false);
    s.push(Buffer.from('{"a":"'));
    expect(() => s.push(Buffer.from('0123456789'))).toThrow(/row 1 is larger than 10 bytes/);
  });
});

describe('FileSplitter', () => {
  it('reads NDJSON and a JSON array alike, decided by the first byte that is not blank', () => {
    expect(fileTexts('{"a":1}\n{"a":2}\n')).toEqual(['{"a":1}', '{"a":2}']);
    expect(fileTexts('[{"a":1},{"a":2}]')).toEqual(['{"a":1}', '{"a":2}']);
    expect(fileTexts('\n \n[{"a":1}]', [2, 3])).toEqual(['{"a":1}']);
    expect(fileTexts(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]))).toEqual(['{"a":1}']);
    expect(fileTexts('')).toEqual([]);
  });

  it('counts every byte, leading blanks included; an array is complete once it closes, its trailing bytes are told', () => {
    const s = new FileSplitter(() => undefined);
    s.push(Buffer.from('  '));
    s.push(Buffer.from('[{}'));
    expect(s.bytes).toBe(5);
    expect(s.done).toBe(false);
    expect(() => s.end()).toThrow(/ended early/);
    const closed = new FileSplitter(() => undefined);
    closed.push(Buffer.from('[{}] x'));
    expect(closed.done).toBe(true);
    expect(closed.trailing).toEqual({ bytes: 1, first: "'x'" });
  });
});
