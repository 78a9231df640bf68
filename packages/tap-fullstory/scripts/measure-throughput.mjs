#!/usr/bin/env node
// Quick throughput check of the tap's hot path (not the formal bench/): a gzipped bundle of N
// ~900-byte events goes through decodeBody -> ArraySplitter -> RecordWriter -> MessageWriter into a
// discarding stream, beside the floor (the same bytes through gunzip alone).
// Usage: node packages/tap-fullstory/scripts/measure-throughput.mjs [events=300000]  (after a build)
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { MessageWriter } from '@fullstory-singer/singer-core';
import { ArraySplitter } from '../dist/src/array-splitter.js';
import { decodeBody } from '../dist/src/decode-body.js';
import { RecordWriter } from '../dist/src/record-writer.js';
import { BUNDLE_KEYS } from '../dist/src/streams/key-fields.js';

const count = Number(process.argv[2] ?? 300000);
const dir = mkdtempSync(join(tmpdir(), 'tap-tput-'));
const file = join(dir, 'bundle.json.gz');

function event(i) {
  return {
    IndvId: 5189870820212736 + i, UserId: 5189870820212736 + i, SessionId: 5320771273179136 + i, PageId: 4564805825019904 + i,
    EventStart: new Date(1795000000000 + i * 1000).toISOString(), EventType: ['click', 'navigate', 'custom'][i % 3],
    EventCustomName: 'Product Added', EventTargetText: 'Add to cart', EventTargetSelectorTok: 'div.product > button.add',
    EventModFrustrated: 0, EventModDead: 0, EventModError: 0,
    PageUrl: `https://fruitshoppe.example.com/#/product/${i % 1000}`, PageRefererUrl: 'https://www.google.com/',
    PageIp: '203.0.113.7', PageAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/605.1.15',
    PageBrowser: 'Safari', PageDevice: 'Desktop', PageOperatingSystem: 'OS X', PageLatLong: '39.0481,-77.4728',
    PageDuration: 51439, PageActiveDuration: 36692, UserAppKey: `user-${i % 5000}`, UserDisplayName: `User ${i % 5000}`,
    UserEmail: `user${i % 5000}@example.com`, evt_price_real: 6.75, evt_unit_str: 'lb', evt_product_id_str: 'lni9b33lc',
  };
}

const gen = async function* () {
  yield '[';
  for (let i = 0; i < count; i++) yield (i ? ',' : '') + JSON.stringify(event(i));
  yield ']';
};
await pipeline(gen, createGzip({ level: 6 }), createWriteStream(file));

const discard = () => new Writable({ write(_c, _e, cb) { cb(); } });

let t = performance.now();
let raw = 0;
await pipeline(createReadStream(file), createGunzip({ chunkSize: 65536 }), new Writable({ write(c, _e, cb) { raw += c.length; cb(); } }));
const floorS = (performance.now() - t) / 1000;

t = performance.now();
const writer = new RecordWriter(new MessageWriter(discard()));
writer.startBody({ stream: 'events', keys: BUNDLE_KEYS, origin: 9007199254740993n, timeExtracted: new Date().toISOString() });
let index = 0;
const splitter = new ArraySplitter((chunk, s, e, nl) => writer.writeEvent(index++, chunk, s, e, nl));
for await (const chunk of decodeBody(createReadStream(file, { highWaterMark: 65536 }))) {
  splitter.push(chunk);
  await writer.drain();
}
splitter.end();
await writer.flush();
const tapS = (performance.now() - t) / 1000;
rmSync(dir, { recursive: true, force: true });

const mb = raw / 1e6;
console.log(JSON.stringify({
  events: count, uncompressed_mb: +mb.toFixed(1), bytes_per_event: Math.round(raw / count),
  floor: { seconds: +floorS.toFixed(2), mb_per_s: +(mb / floorS).toFixed(1), events_per_s: Math.round(count / floorS) },
  tap: { seconds: +tapS.toFixed(2), mb_per_s: +(mb / tapS).toFixed(1), events_per_s: Math.round(count / tapS) },
  ratio: +(floorS / tapS).toFixed(2),
}, null, 1));
