import { describe, it, expect } from '@jest/globals';
import { parseJson, stateMessage } from '@fullstory-singer/singer-core';
import { BundleFormatError } from '../src/array-splitter.js';
import { BUNDLE_KEYS, WINDOW_KEYS } from '../src/streams/key-fields.js';
import { RecordWriter } from '../src/record-writer.js';

class Sink {
  writes: string[] = [];
  writeLine(line: string): Promise<void> {
    this.writes.push(line);
    return Promise.resolve();
  }
  lines(): string[] {
    return this.writes.join('\n').split('\n');
  }
}

const TS = '2026-11-23T12:00:00.000Z';

function write(writer: RecordWriter, index: number, text: string): void {
  const b = Buffer.from(`xx${text}yy`);
  writer.writeEvent(index, b, 2, 2 + Buffer.byteLength(text), text.includes('\n'));
}

describe('RecordWriter', () => {
  it('builds the RECORD line by concatenation, keeping the event bytes exactly', async () => {
    const sink = new Sink();
    const w = new RecordWriter(sink);
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 9007199254740993n, timeExtracted: TS });
    const event = '{"IndvId":9007199254740993,"x":1.50,"s":"é\\u00e9\\"","n":null}';
    write(w, 0, event);
    write(w, 1, '{}');
    write(w, 2, '{ \t}');
    write(w, 3, '{ "a":1 }');
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

  it('names records with the window keys of Segment Export, a string origin quoted', async () => {
    const sink = new Sink();
    const w = new RecordWriter(sink);
    w.startBody({ stream: 'individuals', keys: WINDOW_KEYS, origin: '2024-01-01T00:00:00Z', timeExtracted: TS });
    write(w, 4, '{"IndvId":9007199254740993}');
    w.startBody({ stream: 'individuals', keys: WINDOW_KEYS, origin: '2024-01-01T00:00:00Z', timeExtracted: TS, dropFields: new Set(['Email']) });
    write(w, 5, '{"IndvId":1,"Email":"a@b.c"}');
    await w.flush();
    expect(sink.lines()).toEqual([
      `{"type":"RECORD","stream":"individuals","record":{"_sdc_window_start":"2024-01-01T00:00:00Z","_sdc_window_index":4,"IndvId":9007199254740993},"time_extracted":"${TS}"}`,
      `{"type":"RECORD","stream":"individuals","record":{"_sdc_window_start":"2024-01-01T00:00:00Z","_sdc_window_index":5,"IndvId":1},"time_extracted":"${TS}"}`,
    ]);
  });

  it('re-serialises losslessly when fields are dropped or the element spans lines', async () => {
    const sink = new Sink();
    const w = new RecordWriter(sink);
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 5, timeExtracted: TS, dropFields: new Set(['UserEmail']) });
    write(w, 7, '{"UserId":9007199254740993,"UserEmail":"a@b.c","EventType":"click"}');
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 5, timeExtracted: TS });
    write(w, 8, '{\n  "UserId": 9007199254740995,\n  "__proto__": 1\n}');
    await w.flush();
    const lines = sink.lines();
    expect(lines[0]).toBe(
      `{"type":"RECORD","stream":"events","record":{"_sdc_bundle_id":5,"_sdc_bundle_index":7,"UserId":9007199254740993,"EventType":"click"},"time_extracted":"${TS}"}`,
    );
    expect(lines[1]).toBe(
      `{"type":"RECORD","stream":"events","record":{"_sdc_bundle_id":5,"_sdc_bundle_index":8,"UserId":9007199254740995,"__proto__":1},"time_extracted":"${TS}"}`,
    );
  });

  it('reports an element that is not valid JSON on the slow path as a BundleFormatError', () => {
    const w = new RecordWriter(new Sink());
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 1, timeExtracted: TS, dropFields: new Set(['a']) });
    expect(() => write(w, 0, '{"a":tru}')).toThrow(BundleFormatError);
  });

  it('batches many lines into few writes, keeps STATE after the records before it, and handles lines larger than a batch', async () => {
    const sink = new Sink();
    const w = new RecordWriter(sink, { batchBytes: 1024 });
    w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 1, timeExtracted: TS });
    for (let i = 0; i < 100; i++) write(w, i, `{"i":${i},"pad":"${'x'.repeat(50)}"}`);
    w.writeMessage(stateMessage({ bookmarks: { events: { offset: 100 } } }));
    write(w, 100, `{"big":"${'y'.repeat(5000)}"}`);
    write(w, 101, '{"i":101}');
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
