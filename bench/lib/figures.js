// What the tap benchmarks share: the gunzip floor over a file, and rounding for the results.
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

/** Counts bytes and discards them. */
function byteCounter() {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      sink.bytes += chunk.length;
      done();
    },
  });
  sink.bytes = 0;
  return sink;
}

/** Node's gunzip alone over the file: the floor no streaming tap can beat on this machine. */
export async function gunzipFloor(path) {
  const sink = byteCounter();
  const started = process.hrtime.bigint();
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1 << 16 }), sink);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, uncompressedBytes: sink.bytes };
}

/** Bytes as MB (10^6), one decimal. */
export function mb(bytes) {
  return round(bytes / 1e6, 1);
}

export function round(value, digits) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
