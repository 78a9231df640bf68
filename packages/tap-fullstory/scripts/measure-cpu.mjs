#!/usr/bin/env node
// CPU cost of the hot path alone (no gunzip, no I/O): sandbox-generated events, already in memory
// in 64 KiB chunks, through ArraySplitter (alone, then with RecordWriter into a discarding stream).
// Usage (after a build): node packages/tap-fullstory/scripts/measure-cpu.mjs
import { Writable } from 'node:stream';
import { MessageWriter } from '@fullstory-singer/singer-core';
import { ArraySplitter } from '../dist/src/array-splitter.js';
import { RecordWriter } from '../dist/src/record-writer.js';
import { BUNDLE_KEYS } from '../dist/src/streams/key-fields.js';
import { generateBundleEvents } from 'fullstory-sandbox';
const N = 200000;
const texts = [...generateBundleEvents(1, 1000000, N)];
const body = Buffer.from('[' + texts.join(',') + ']');
const chunks = []; for (let i = 0; i < body.length; i += 65536) chunks.push(body.subarray(i, i + 65536));
console.log('MB', body.length / 1e6, 'bytes/event', body.length / N);
for (let round = 0; round < 3; round++) {
  let t = performance.now(); let n = 0;
  const s1 = new ArraySplitter(() => { n++; }); for (const c of chunks) s1.push(c); s1.end();
  const split = performance.now() - t;
  t = performance.now();
  const w = new RecordWriter(new MessageWriter(new Writable({ write(_c, _e, cb) { cb(); } })));
  w.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 1000000, timeExtracted: new Date().toISOString() });
  let i = 0;
  const s2 = new ArraySplitter((c, s, e, nl) => w.writeEvent(i++, c, s, e, nl));
  for (const c of chunks) { s2.push(c); await w.drain(); } s2.end(); await w.flush();
  const all = performance.now() - t;
  console.log({ splitMBs: (body.length / 1e6 / (split / 1000)).toFixed(0), splitPlusWriteMBs: (body.length / 1e6 / (all / 1000)).toFixed(0), eventsPerS: Math.round(N / (all / 1000)) });
}
