import { describe, it, expect } from '@jest/globals';
import { ArraySplitter, BundleFormatError } from '../src/array-splitter.js';

/** Splits `body` into chunks at the given cut points and returns each element's text and newline flag. */
function split(body: string | Buffer, cuts: number[] = []): Array<{ text: string; nl: boolean }> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const out: Array<{ text: string; nl: boolean }> = [];
  const s = new ArraySplitter((chunk, start, end, nl) => out.push({ text: chunk.toString('utf8', start, end), nl }));
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    s.push(bytes.subarray(prev, cut));
    prev = cut;
  }
  s.end();
  return out;
}

describe('ArraySplitter', () => {
  it('yields the raw bytes of each element, untouched', () => {
    const body = '[{"a":1,"b":"x"},{"big":9007199254740993,"n":[1,{"c":2}]}]';
    expect(split(body).map((e) => e.text)).toEqual(['{"a":1,"b":"x"}', '{"big":9007199254740993,"n":[1,{"c":2}]}']);
  });

  it('handles an empty array, empty objects and whitespace anywhere', () => {
    expect(split(' \n[ ]\n ')).toEqual([]);
    expect(split('[ {} ,\t{ }\n]').map((e) => e.text)).toEqual(['{}', '{ }']);
  });

  it('ignores brackets, braces and escaped quotes inside strings', () => {
    const body = '[{"s":"a]}{[\\"\\\\","t":"\\\\"},{"u":"\\u005d"}]';
    const parsed = split(body).map((e) => JSON.parse(e.text) as unknown);
    expect(parsed).toEqual([{ s: 'a]}{["\\', t: '\\' }, { u: ']' }]);
  });

  it('gives the same elements whatever the chunk boundaries (every cut point)', () => {
    const events = [
      { a: 'x\\"y', b: [1, 2, { c: '}' }], d: 'é€😀' },
      {},
      { e: '\\\\', f: null, g: true },
      { h: 'quote " and backslash \\ at end\\' },
    ];
    const body = Buffer.from(`[ ${events.map((e) => JSON.stringify(e)).join(' , ')} ]`);
    const whole = split(body).map((e) => e.text);
    expect(whole.map((t) => JSON.parse(t) as unknown)).toEqual(events);
    for (let cut = 1; cut < body.length; cut++) {
      expect(split(body, [cut]).map((e) => e.text)).toEqual(whole);
    }
    // and byte-at-a-time
    expect(split(body, Array.from({ length: body.length - 1 }, (_, i) => i + 1)).map((e) => e.text)).toEqual(whole);
  });

  it('tolerates a UTF-8 byte order mark before the array', () => {
    expect(split(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"a":1}]')])).map((e) => e.text)).toEqual(['{"a":1}']);
  });

  it('flags elements with newlines between tokens (pretty-printed bodies)', () => {
    const out = split('[\n  {\n    "a": 1\n  },\n  {"b": 2}\n]');
    expect(out.map((e) => e.nl)).toEqual([true, false]);
    expect(JSON.parse(out[0]!.text)).toEqual({ a: 1 });
  });

  it.each([
    ['', /ended early \(before the array started\)/],
    ['{"a":1}', /not a JSON array/],
    ['[{"a":1},', /ended early \(after 1 element/],
    ['[{"a":1}', /ended early/],
    ['[{"a":"unterminated', /ended early/],
    ['[1,2]', /element 0 of the bundle is not an object/],
    ['[{"a":1} {"b":2}]', /expected ',' or '\]' after element 0/],
    ['[{"a":[1}]', /mismatched '}'/],
    ['[{"a":1}] x', /after the end/],
    ['[{"a":1},]', /element 1 of the bundle is not an object/],
  ])('rejects %j', (body, message) => {
    expect(() => split(body)).toThrow(BundleFormatError);
    expect(() => split(body)).toThrow(message);
  });

  it('bounds the size of one element', () => {
    const s = new ArraySplitter(() => undefined, { maxElementBytes: 10 });
    s.push(Buffer.from('[{"a":"'));
    expect(() => s.push(Buffer.from('0123456789'))).toThrow(/larger than 10 bytes/);
  });

  it('counts elements and bytes', () => {
    const s = new ArraySplitter(() => undefined);
    s.push(Buffer.from('[{},{}'));
    s.push(Buffer.from(',{}]'));
    s.end();
    expect(s.elements).toBe(3);
    expect(s.bytes).toBe(10);
    expect(s.done).toBe(true);
  });
});
