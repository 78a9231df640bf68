// The NDJSON splitter of Segment Export files, and the sniffing between NDJSON and a JSON array.
import { describe, it, expect } from '@jest/globals';
import { BundleFormatError } from '../src/array-splitter.js';
import { FileSplitter } from '../src/segment-export/file-splitter.js';
import { LineSplitter } from '../src/segment-export/line-splitter.js';

type Splitter = LineSplitter | FileSplitter;
type Make = (onElement: (chunk: Buffer, start: number, end: number, nl: boolean) => void) => Splitter;

/** Splits `body` into chunks at the given cut points and returns each row's text. */
function split(body: string | Buffer, cuts: number[] = [], make: Make = (h) => new LineSplitter(h)): string[] {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const out: string[] = [];
  const s = make((chunk, start, end, nl) => {
    expect(nl).toBe(false);
    out.push(chunk.toString('utf8', start, end));
  });
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    s.push(bytes.subarray(prev, cut));
    prev = cut;
  }
  s.end();
  return out;
}

describe('LineSplitter', () => {
  it('yields the raw bytes of each row, untouched, skipping blank lines and CRs', () => {
    const body = '{"a":1,"big":9007199254740993}\n\n  {"b":[1,{"c":"}"}]}\r\n{}';
    expect(split(body)).toEqual(['{"a":1,"big":9007199254740993}', '{"b":[1,{"c":"}"}]}', '{}']);
    expect(split('')).toEqual([]);
    expect(split('\n\n')).toEqual([]);
  });

  it('gives the same rows whatever the chunk boundaries (every cut point, and byte by byte)', () => {
    const rows = [{ a: 'x\\"y', b: [1, 2, { c: '}' }], d: 'é€😀' }, {}, { e: 'quote " and backslash \\ at end\\' }];
    const body = Buffer.from(`${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const whole = split(body);
    expect(whole.map((t) => JSON.parse(t) as unknown)).toEqual(rows);
    for (let cut = 1; cut < body.length; cut++) expect(split(body, [cut])).toEqual(whole);
    expect(split(body, Array.from({ length: body.length - 1 }, (_, i) => i + 1))).toEqual(whole);
  });

  it.each([
    ['{"a":1}\n{"b":', /body ended early, inside row 1/],
    ['{"a":"unterminated', /ended early/],
    ['[1]', /row 0 is not a JSON object/],
    ['{"a":1} {"b":2}', /unexpected '\{' after row 0/],
    ['{"a":1},\n', /unexpected ',' after row 0/],
    ['{"a":[1}', /mismatched '}' in row 0/],
    ['{"a":\n1}', /row 0 does not end on its line/],
    ['{"a":"x\ny"}', /raw control character \(byte 0x0a\) inside a string/],
    ['{"a":"x\ty"}', /raw control character \(byte 0x09\) inside a string/],
  ])('rejects %j', (body, message) => {
    expect(() => split(body)).toThrow(BundleFormatError);
    expect(() => split(body)).toThrow(message);
  });

  it('bounds the size of one row', () => {
    const s = new LineSplitter(() => undefined, { maxElementBytes: 10 });
    s.push(Buffer.from('{"a":"'));
    expect(() => s.push(Buffer.from('0123456789'))).toThrow(/larger than 10 bytes/);
  });
});

describe('FileSplitter', () => {
  const file: Make = (h) => new FileSplitter(h);

  it('reads NDJSON and a JSON array alike, decided by the first byte that is not blank', () => {
    expect(split('{"a":1}\n{"a":2}\n', [], file)).toEqual(['{"a":1}', '{"a":2}']);
    expect(split('[{"a":1},{"a":2}]', [], file)).toEqual(['{"a":1}', '{"a":2}']);
    expect(split('\n \n[{"a":1}]', [2, 3], file)).toEqual(['{"a":1}']);
    expect(split(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]), [], file)).toEqual(['{"a":1}']);
    expect(split('', [], file)).toEqual([]);
  });

  it('counts every byte, leading blanks included, and passes the splitters errors on', () => {
    const s = new FileSplitter(() => undefined);
    s.push(Buffer.from('  '));
    s.push(Buffer.from('[{}'));
    expect(s.bytes).toBe(5);
    expect(() => s.end()).toThrow(/ended early/);
  });
});
