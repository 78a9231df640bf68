import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import {
  InputError,
  MessageWriter,
  noteTerminalInput,
  readMessageBatches,
  readMessages,
  type ReadMessage,
  type RecordMessage,
  type ReadMessagesOptions,
} from '@fullstory-singer/singer-core';
import { MemoryWritable } from '@fullstory-singer/singer-core/testing';

const SCHEMA = '{"type":"SCHEMA","stream":"users","schema":{"type":"object"},"key_properties":["uid"]}';
const record = (i: number): string => `{"type":"RECORD","stream":"users","record":{"uid":"u${i}","n":${i}}}`;

async function readAll(chunks: Array<Buffer | string>, options?: ReadMessagesOptions): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  for await (const m of readMessages(Readable.from(chunks), options)) out.push(m);
  return out;
}

async function readError(chunks: Array<Buffer | string>, options?: ReadMessagesOptions): Promise<{ error: InputError; read: ReadMessage[] }> {
  const read: ReadMessage[] = [];
  try {
    for await (const m of readMessages(Readable.from(chunks), options)) read.push(m);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return { error: err as InputError, read };
  }
  throw new Error('expected an InputError');
}

/** Splits text into chunks of `size` bytes, cutting through lines and UTF-8 sequences. */
function chunked(text: string, size: number): Buffer[] {
  const buf = Buffer.from(text, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

describe('readMessages', () => {
  it('yields typed messages with their line numbers, skipping (but counting) blank lines', async () => {
    const input = `${SCHEMA}\n\n${record(1)}\r\n   \n{"type":"STATE","value":{"bookmarks":{}}}\n`;
    const read = await readAll([input]);
    expect(read.map((r) => [r.line, r.message.type])).toEqual([
      [1, 'SCHEMA'],
      [3, 'RECORD'],
      [5, 'STATE'],
    ]);
    expect(read[1]!.message).toEqual({ type: 'RECORD', stream: 'users', record: { uid: 'u1', n: 1 } });
  });

  it('gives the same result whatever the chunking (1 byte, 7 bytes, whole)', async () => {
    const text = `${SCHEMA}\n${record(1)}\n{"type":"RECORD","stream":"users","record":{"name":"Zoë ✓ 𝄞"}}\n${record(3)}`;
    const whole = await readAll([text]);
    expect(whole).toHaveLength(4);
    expect(await readAll(chunked(text, 1))).toEqual(whole);
    expect(await readAll(chunked(text, 7))).toEqual(whole);
    expect((whole[2]!.message as RecordMessage).record.name).toBe('Zoë ✓ 𝄞');
  });

  it('gives each message its line as read, whatever the chunking', async () => {
    const lines = [SCHEMA, record(1), '{"type":"RECORD", "stream":"users","record":{"name":"Zoë ✓ 𝄞"}}', record(3)];
    const text = `${lines.join('\n')}`;
    for (const chunks of [[text], chunked(text, 1), chunked(text, 7)]) {
      expect((await readAll(chunks)).map((r) => r.text)).toEqual(lines);
    }
  });

  it('reads the last line without a trailing newline, and string chunks', async () => {
    const read = await readAll([SCHEMA, '\n', record(1)]);
    expect(read.map((r) => r.line)).toEqual([1, 2]);
  });

  it('skips a UTF-8 byte order mark at the start of the input', async () => {
    const read = await readAll([Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${SCHEMA}\n${record(1)}\n`)])]);
    expect(read.map((r) => [r.line, r.message.type])).toEqual([
      [1, 'SCHEMA'],
      [2, 'RECORD'],
    ]);
  });

  it('matches type case-insensitively and normalises it to upper case', async () => {
    const read = await readAll(['{"type":"record","stream":"s","record":{}}\n{"type":"Activate_Version","stream":"s","version":2}\n']);
    expect(read.map((r) => r.message.type)).toEqual(['RECORD', 'ACTIVATE_VERSION']);
  });

  it('yields unknown message types as they are', async () => {
    const read = await readAll(['{"type":"BATCH","stream":"s","manifest":[]}\n']);
    expect(read[0]!.message).toEqual({ type: 'BATCH', stream: 's', manifest: [] });
  });

  it('keeps a 2^53+1 integer exact, and the writer writes the line back byte for byte', async () => {
    const line = '{"type":"RECORD","stream":"events","record":{"id":9007199254740993,"UserId":5189870820212736}}';
    const read = await readAll([`${line}\n`]);
    expect((read[0]!.message as RecordMessage).record.id).toBe(9007199254740993n);
    const out = new MemoryWritable();
    const writer = new MessageWriter(out);
    await writer.write(read[0]!.message);
    await writer.end();
    expect(out.text()).toBe(`${line}\n`);
  });

  it('reports a malformed line 7 as line 7, after yielding the six lines before it', async () => {
    const lines = [SCHEMA, record(1), record(2), '', record(4), record(5), '{"type":"RECORD", oops}', record(8)];
    const { error, read } = await readError([lines.join('\n')]);
    expect(error.message).toMatch(/^stdin:7: not valid JSON/);
    expect(error.line).toBe(7);
    expect(error.source).toBe('stdin');
    expect(error.exitCode).toBe(3);
    expect(error.code).toBe('BAD_INPUT');
    expect(read.map((r) => r.line)).toEqual([1, 2, 3, 5, 6]);
  });

  it('names the source given in options', async () => {
    const { error } = await readError(['nope\n'], { source: 'input.singer' });
    expect(error.message).toMatch(/^input\.singer:1: not valid JSON/);
  });

  it.each([
    ['[1,2]', 'expected a JSON object, got an array'],
    ['"text"', 'expected a JSON object, got a string'],
    ['{"stream":"s"}', 'message has no "type"'],
    ['{"type":7}', '"type" must be a non-empty string'],
    ['{"type":"SCHEMA","schema":{},"key_properties":[]}', 'SCHEMA has no "stream"'],
    ['{"type":"SCHEMA","stream":"s","key_properties":[]}', 'SCHEMA has no "schema"'],
    ['{"type":"SCHEMA","stream":"s","schema":{}}', 'SCHEMA has no "key_properties"'],
    ['{"type":"SCHEMA","stream":"s","schema":{},"key_properties":"id"}', 'SCHEMA "key_properties" must be an array, got a string'],
    ['{"type":"RECORD","record":{}}', 'RECORD has no "stream"'],
    ['{"type":"RECORD","stream":"s"}', 'RECORD has no "record"'],
    ['{"type":"RECORD","stream":"s","record":[1]}', 'RECORD "record" must be an object, got an array'],
    ['{"type":"STATE"}', 'STATE has no "value"'],
    ['{"type":"ACTIVATE_VERSION","stream":"s"}', 'ACTIVATE_VERSION has no "version"'],
  ])('rejects %s: %s', async (line, reason) => {
    const { error } = await readError([`${SCHEMA}\n${line}\n`]);
    expect(error.message).toBe(`stdin:2: ${reason}`);
  });

  it('reads a SCHEMA without key_properties as [] only when asked to', async () => {
    const text = '{"type":"SCHEMA","stream":"s","schema":{"properties":{}}}\n';
    const { error } = await readError([text]);
    expect(error.message).toBe('stdin:1: SCHEMA has no "key_properties"');
    const read = await readAll([text], { keyPropertiesOptional: true });
    expect(read.map((r) => r.message)).toEqual([{ type: 'SCHEMA', stream: 's', schema: { properties: {} }, key_properties: [] }]);
    const { error: wrongType } = await readError(['{"type":"SCHEMA","stream":"s","schema":{},"key_properties":"id"}\n'], { keyPropertiesOptional: true });
    expect(wrongType.message).toBe('stdin:1: SCHEMA "key_properties" must be an array, got a string');
  });

  it('rejects invalid UTF-8 with the line number, even when the bad bytes straddle chunks', async () => {
    const bad = Buffer.concat([Buffer.from(`${SCHEMA}\n${record(1)}\n{"type":"RECORD","stream":"s","record":{"x":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}}\n')]);
    const whole = await readError([bad]);
    expect(whole.error.message).toBe('stdin:3: line is not valid UTF-8');
    expect(whole.read).toHaveLength(2);
    const split = await readError([bad.subarray(0, 120), bad.subarray(120)]);
    expect(split.error.message).toBe('stdin:3: line is not valid UTF-8');
  });

  it('accepts a real U+FFFD character', async () => {
    const read = await readAll([`${SCHEMA}\n{"type":"RECORD","stream":"s","record":{"x":"\uFFFD"}}\n`]);
    expect((read[1]!.message as RecordMessage).record.x).toBe('\uFFFD');
  });

  it('caps line length: a huge line is an InputError naming the line, in one chunk or many', async () => {
    const long = `{"type":"RECORD","stream":"s","record":{"x":"${'a'.repeat(5000)}"}}`;
    const text = `${SCHEMA}\n${long}\n`;
    const one = await readError([text], { maxLineBytes: 1024 });
    expect(one.error.message).toBe('stdin:2: line is longer than the 1 KiB limit');
    const many = await readError(chunked(text, 100), { maxLineBytes: 1024 });
    expect(many.error.message).toBe('stdin:2: line is longer than the 1 KiB limit');
    // An unterminated huge tail is caught before it is buffered whole.
    const tail = await readError([`${SCHEMA}\n`, ...chunked('x'.repeat(10_000), 500)], { maxLineBytes: 1024 });
    expect(tail.error.line).toBe(2);
  });

  it('is pull-based: a consumer that stops early stops the reading', async () => {
    let pulled = 0;
    function* source(): Generator<Buffer> {
      for (let i = 0; i < 10_000; i++) {
        pulled += 1;
        yield Buffer.from(`${record(i)}\n`);
      }
    }
    const stream = Readable.from(source(), { highWaterMark: 4 });
    for await (const m of readMessages(stream)) {
      expect(m.line).toBe(1);
      break;
    }
    expect(pulled).toBeLessThan(100);
  });

  it('readMessageBatches yields the same messages grouped by chunk', async () => {
    const text = Array.from({ length: 50 }, (_, i) => record(i)).join('\n');
    const flat: ReadMessage[] = [];
    for await (const batch of readMessageBatches(Readable.from(chunked(text, 256)))) flat.push(...batch);
    expect(flat).toEqual(await readAll([text]));
  });

  // Its speed is a figure, not a test (a shared 2-core machine under load made any floor flaky):
  // node packages/singer-core/bench/reader-writer.mjs measures it, and the README quotes it.
  it('reads 100k small lines split across 64 KiB chunks, every one', async () => {
    const n = 100_000;
    const lines: string[] = [SCHEMA];
    for (let i = 0; i < n; i++) lines.push(record(i));
    const chunks = chunked(`${lines.join('\n')}\n`, 64 * 1024);
    let count = 0;
    let last = -1;
    for await (const m of readMessages(Readable.from(chunks))) {
      if (m.message.type !== 'RECORD') continue;
      count += 1;
      last = (m.message as RecordMessage).record.n as number;
    }
    expect({ count, last }).toEqual({ count: n, last: n - 1 });
  });
});

describe('noteTerminalInput', () => {
  it('says the program waits for Singer messages when stdin is a terminal, and only then', () => {
    const said: string[] = [];
    const logger = { info: (msg: string) => void said.push(msg) };
    const terminal = Object.assign(Readable.from([]), { isTTY: true });
    expect(noteTerminalInput(Readable.from([]), logger)).toBe(false);
    expect(said).toEqual([]);
    expect(noteTerminalInput(terminal, logger)).toBe(true);
    expect(said).toEqual(['waiting for Singer messages on stdin (pipe a tap into this command; Ctrl-D ends the input)']);
  });
});
