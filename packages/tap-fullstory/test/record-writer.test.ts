import { describe, it, expect } from '@jest/globals';
import { parseJson, stateMessage } from '@fullstory-singer/singer-core';
import { ArraySplitter } from '../src/array-splitter.js';
import { RecordWriter } from '../src/record-writer.js';
import { BUNDLE_KEYS, WINDOW_KEYS } from '../src/streams/key-fields.js';

class Sink {
  writes: Buffer[] = [];
  writeLines(bytes: Buffer): Promise<void> {
    this.writes.push(Buffer.from(bytes));
    return Promise.resolve();
  }
  lines(): string[] {
    const text = Buffer.concat(this.writes).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    return text.slice(0, -1).split('\n');
  }
}

const TS = '2026-11-23T12:00:00.000Z';

/** Writes each element of the JSON array `body` through the splitter (so flags are the splitter's). */
function writeAll(writer: RecordWriter, body: string | Buffer, first = 0): void {
  let index = first;
  const s = new ArraySplitter((chunk, start, end, flags) => writer.writeEvent(index++, chunk, start, end, flags));
  s.push(typeof body === 'string' ? Buffer.from(body) : body);
  s.end();
}

describe('RecordWriter', () => {
  it('builds the RECORD line by concatenation, keeping the event bytes exactly', async () => {
    const sink = new Sink();
    const w = new RecordWriter(sink);
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 9007199254740993n, timeExtracted: TS });
    const event = '{"IndvId":9007199254740993,"x":1.50,"s":"é\\u00e9\\"","n":null}';
    writeAll(w, `[${event},{},{ \t},{ "a":1 }]`);
    await w.flush();
    expect(sink.lines()).toEqual([
      `{"type":"RECORD","stream":"events","record":{"_sdc_bundle_id":9007199254740993,"_sdc_bundle_index":0,${event.slice(1)},"time_extracted":"${TS}"}`,
      `{"type":"RECORD","stream":"events","record":{"_sdc_bundle_id":9007199254740993,"_sdc_bundle_index":1},"time_extracted":"${TS}"}`,
      `{"type":"RECORD","stream":"events","record":{"_sdc_bundle_id":9007199254740993,"_sdc_bundle_index":2},"time_extracted":"${TS}"}`,
      `{"type":"RECORD","stream":"events","record":{"_sdc_bundle_id":9007199254740993,"_sdc_bundle_index":3, "a":1 },"time_extracted":"${TS}"}`,
    ]);
    for (const line of sink.lines()) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(w.records).toBe(4);
  });

  it('drops deselected fields and joins pretty-printed events onto one line, byte for byte otherwise', async () => {
    const sink = new Sink();
    const w = new RecordWriter(sink);
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 5, timeExtracted: TS, dropFields: new Set(['UserEmail', 'Nested']) });
    writeAll(w, '[{"UserId":9007199254740993,"UserEmail":"a@b.c","EventType":"click","Nested":{"x":[1]},"n":1.50e3}]', 7);
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 5, timeExtracted: TS });
    writeAll(w, '[{\n  "UserId": 9007199254740995,\n  "__proto__": 1,\n  "s": "a \\" b",\n  "o": { "p" : [ 1 , 2 ] }\n}]', 8);
    await w.flush();
    expect(sink.lines()).toEqual([
      `{"type":"RECORD","stream":"events","record":{"_sdc_bundle_id":5,"_sdc_bundle_index":7,"UserId":9007199254740993,"EventType":"click","n":1.50e3},"time_extracted":"${TS}"}`,
      `{"type":"RECORD","stream":"events","record":{"_sdc_bundle_id":5,"_sdc_bundle_index":8,"UserId":9007199254740995,"__proto__":1,"s":"a \\" b","o":{"p":[1,2]}},"time_extracted":"${TS}"}`,
    ]);
  });

  it("drops an event's own _sdc_bundle_id / _sdc_bundle_index (escaped spellings too), so the tap's key wins", async () => {
    const sink = new Sink();
    const w = new RecordWriter(sink);
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 42, timeExtracted: TS });
    writeAll(w, '[{"a":1},{"_sdc_bundle_index":0,"_sdc_bundle_id":1,"b":2},{"\\u005fsdc_bundle_index":0,"_other":3}]');
    await w.flush();
    const records = sink.lines().map((l) => (parseJson(l) as { record: Record<string, unknown> }).record);
    expect(records).toEqual([
      { _sdc_bundle_id: 42, _sdc_bundle_index: 0, a: 1 },
      { _sdc_bundle_id: 42, _sdc_bundle_index: 1, b: 2 },
      { _sdc_bundle_id: 42, _sdc_bundle_index: 2, _other: 3 },
    ]);
    // Each line holds the key fields once.
    for (const line of sink.lines()) expect(line.match(/_sdc_bundle_index/g)).toHaveLength(1);
    expect(w.bodyRepairs.ownKeyFields).toEqual({ count: 2, first: 1 });
  });

  it('names rows with the window keys of Segment Export (a string origin), and drops a row\'s own window keys', async () => {
    const sink = new Sink();
    const w = new RecordWriter(sink);
    w.startBody({ stream: 'individuals', keys: WINDOW_KEYS, origin: '2024-01-01T00:00:00Z', timeExtracted: TS });
    writeAll(w, '[{"IndvId":9007199254740993},{"_sdc_window_index":0,"_sdc_window_start":"x","IndvId":1}]', 4);
    await w.flush();
    expect(sink.lines()).toEqual([
      `{"type":"RECORD","stream":"individuals","record":{"_sdc_window_start":"2024-01-01T00:00:00Z","_sdc_window_index":4,"IndvId":9007199254740993},"time_extracted":"${TS}"}`,
      `{"type":"RECORD","stream":"individuals","record":{"_sdc_window_start":"2024-01-01T00:00:00Z","_sdc_window_index":5,"IndvId":1},"time_extracted":"${TS}"}`,
    ]);
    expect(w.bodyRepairs.ownKeyFields).toEqual({ count: 1, first: 5 });
  });

  it('handles an event nested 10,000 deep when fields are dropped (no recursion)', async () => {
    const sink = new Sink();
    const w = new RecordWriter(sink);
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 1, timeExtracted: TS, dropFields: new Set(['drop']) });
    const deep = `${'['.repeat(10_000)}"x"${']'.repeat(10_000)}`;
    writeAll(w, `[{"drop":1,"deep":${deep},"keep":true}]`);
    await w.flush();
    expect(sink.lines()[0]).toBe(`{"type":"RECORD","stream":"events","record":{"_sdc_bundle_id":1,"_sdc_bundle_index":0,"deep":${deep},"keep":true},"time_extracted":"${TS}"}`);
  });

  it('replaces bytes that are not UTF-8 by U+FFFD, so the line is UTF-8', async () => {
    const sink = new Sink();
    const w = new RecordWriter(sink);
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 1, timeExtracted: TS });
    writeAll(w, Buffer.concat([Buffer.from('[{"a":"x'), Buffer.from([0xff]), Buffer.from('y"}]')]));
    await w.flush();
    expect(parseJson(sink.lines()[0]!)).toMatchObject({ record: { a: 'x\ufffdy' } });
    expect(w.bodyRepairs.badUtf8).toEqual({ count: 1, first: 0 });
  });

  it('fills a batch buffer again only once the sink released it', async () => {
    // A sink that keeps each buffer for a while (as a stream's queue does), then releases it.
    const held: Array<{ bytes: Buffer; copy: Buffer; release: (() => void) | undefined }> = [];
    const sink = {
      writeLines(bytes: Buffer, released?: () => void): Promise<void> {
        held.push({ bytes, copy: Buffer.from(bytes), release: released });
        if (held.length > 3) held[held.length - 4]!.release?.();
        return Promise.resolve();
      },
    };
    // 8 KiB batches: each new one is its own ArrayBuffer (smaller ones come from Node's shared pool).
    const w = new RecordWriter(sink, { batchBytes: 8192 });
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 1, timeExtracted: TS });
    const events = 2000;
    for (let first = 0; first < events; first += 100) {
      writeAll(w, `[${Array.from({ length: 100 }, (_, i) => `{"i":${first + i},"pad":"${'x'.repeat(40)}"}`).join(',')}]`, first);
      await w.drain();
    }
    await w.flush();
    // Every buffer the sink still holds has the bytes it had when it was written.
    for (const h of held.slice(-3)) expect(h.bytes.equals(h.copy)).toBe(true);
    const lines = Buffer.concat(held.map((h) => h.copy)).toString('utf8').trimEnd().split('\n');
    expect(lines.map((l) => (parseJson(l) as { record: { _sdc_bundle_index: number } }).record._sdc_bundle_index)).toEqual(
      Array.from({ length: events }, (_, i) => i),
    );
    // Released buffers were filled again: far fewer distinct buffers than batches.
    expect(held.length).toBeGreaterThan(20);
    expect(new Set(held.map((h) => h.bytes.buffer)).size).toBeLessThanOrEqual(8);
  });

  it('batches many lines into few writes, keeps STATE after the records before it, and handles lines larger than a batch', async () => {
    const sink = new Sink();
    const w = new RecordWriter(sink, { batchBytes: 1024 });
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 1, timeExtracted: TS });
    writeAll(w, `[${Array.from({ length: 100 }, (_, i) => `{"i":${i},"pad":"${'x'.repeat(50)}"}`).join(',')}]`);
    w.writeMessage(stateMessage({ bookmarks: { events: { offset: 100 } } }));
    writeAll(w, `[{"big":"${'y'.repeat(5000)}"},{"i":101}]`, 100);
    await w.drain();
    const drained = sink.writes.length;
    expect(drained).toBeGreaterThan(5);
    await w.flush();
    const lines = sink.lines();
    expect(sink.writes.length).toBeLessThan(30);
    expect(lines).toHaveLength(103);
    const parsed = lines.map((l) => parseJson(l) as { type: string; record?: { _sdc_bundle_index: number } });
    expect(parsed.slice(0, 100).map((m) => m.record!._sdc_bundle_index)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(parsed[100]!.type).toBe('STATE');
    expect(parsed.slice(101).map((m) => m.record!._sdc_bundle_index)).toEqual([100, 101]);
  });
});
