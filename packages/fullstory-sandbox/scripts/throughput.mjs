#!/usr/bin/env node
// Measures how fast the sandbox produces a generated bundle body: raw JSON (BundleStream alone)
// and gzipped (BundleStream -> gzip level 1, as served). Run after a build:
//   node packages/fullstory-sandbox/scripts/throughput.mjs [events=500000]
import { createGzip } from 'node:zlib';
import { BundleStream } from '../dist/src/bundle-stream.js';

const events = Number(process.argv[2] ?? 500_000);
const MB = 1024 * 1024;

async function measure(label, stream) {
  const t0 = performance.now();
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.length;
  return { label, seconds: (performance.now() - t0) / 1000, bytes };
}

const raw = await measure('raw', new BundleStream(1, 1000000, events, {}));
const gz = await measure('gzip', new BundleStream(1, 1000000, events, {}).pipe(createGzip({ level: 1 })));
process.stdout.write(`${JSON.stringify({
  node: process.version, events, jsonBytes: raw.bytes, bytesPerEvent: Math.round(raw.bytes / events),
  rawMiBps: Math.round(raw.bytes / MB / raw.seconds), gzipMiBpsUncompressed: Math.round(raw.bytes / MB / gz.seconds),
  gzipRatio: Number((raw.bytes / gz.bytes).toFixed(1)),
})}\n`);
