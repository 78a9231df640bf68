// Tap benchmark: one bundle of N generated events, read by tap-fullstory from the sandbox.
//
// The sandbox generates the bundle; it is downloaded once to bench/tmp (its speed is reported as the
// source rate) and then served from that file by a second sandbox (`--fixtures`), so the tap's figure
// is not held back by the generator sharing this machine's cores. In the same run, the floor: the same
// gzipped bytes from the file through Node's gunzip alone (no parsing), and the ratio tap / floor.
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { bins, tmpDir } from './lib/paths.js';
import { countLines, runMeasured } from './lib/process.js';
import { BENCH_KEY, getJson, startSandbox } from './lib/sandbox.js';

const SEED = 7;
const FIRST_BUNDLE = '2026-01-01T00:00:00Z';

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

/**
 * Has a sandbox generate the bundle and downloads it into a fixtures folder (`<Id>.json.gz` and
 * `bundles.json` with its window), afresh on every run so the floor and the tap read the bytes of
 * this run. Returns the folder, the file and the source rate.
 */
async function prepareBundle(events, log) {
  const dir = join(tmpDir, `fixtures-${events}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const generator = await startSandbox(
    ['--bundles', '1', '--events-per-bundle', String(events), '--first-bundle', FIRST_BUNDLE, '--seed', String(SEED), '--downloads-per-minute', '0'],
    { logPath: join(tmpDir, `tap-${events}.generator.log`) },
  );
  try {
    const listed = await getJson(`${generator.url}/__sandbox/bundles`);
    const bundle = (Array.isArray(listed) ? listed : listed.bundles)[0];
    const path = join(dir, `${bundle.id}.json.gz`);
    log(`  downloading the generated bundle (${events.toLocaleString('en-US')} events) to ${path}`);
    const started = process.hrtime.bigint();
    const response = await fetch(`${generator.url}/api/v1/export/get?id=${bundle.id}`, { headers: { Authorization: `Basic ${BENCH_KEY}` } });
    if (!response.ok || !response.body) throw new Error(`bundle download answered ${response.status}`);
    await pipeline(response.body, createWriteStream(path));
    const sourceSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    await writeFile(join(dir, 'bundles.json'), JSON.stringify([{ Id: bundle.id, Start: bundle.start, Stop: bundle.stop }]));
    return { dir, path, sourceSeconds };
  } finally {
    await generator.stop();
  }
}

/** Node's gunzip alone over the file: the floor no streaming tap can beat on this machine. */
async function gunzipFloor(path) {
  const sink = byteCounter();
  const started = process.hrtime.bigint();
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1 << 16 }), sink);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, uncompressedBytes: sink.bytes };
}

/**
 * Runs the tap benchmark for one bundle size.
 * @param {{ events: number, floor: boolean, log: (line: string) => void }} options
 */
export async function benchTap({ events, floor, log }) {
  await mkdir(tmpDir, { recursive: true });
  const label = `tap-${events}`;
  const prepared = await prepareBundle(events, log);
  const gzipBytes = statSync(prepared.path).size;
  let floorResult;
  if (floor) {
    log('  floor: gunzip alone');
    floorResult = await gunzipFloor(prepared.path);
  }
  const sourceSeconds = prepared.sourceSeconds;
  const sandbox = await startSandbox(['--fixtures', prepared.dir, '--downloads-per-minute', '0'], {
    logPath: join(tmpDir, `${label}.sandbox.log`),
  });
  try {
    const configPath = join(tmpDir, `${label}.config.json`);
    await writeFile(
      configPath,
      JSON.stringify({ api_key: BENCH_KEY, base_url: sandbox.url, start_date: '2025-12-01T00:00:00Z', downloads_per_minute: 600 }),
    );
    log(`  tap-fullstory: ${events.toLocaleString('en-US')} events`);
    const tap = runMeasured(bins.tap, ['--config', configPath], { env: process.env, stdin: 'ignore', logPath: join(tmpDir, `${label}.tap.log`) });
    const [counted, measured] = await Promise.all([countLines(tap.child.stdout, '{"type":"RECORD"'), tap.done]);
    if (measured.code !== 0) throw new Error(`tap-fullstory exited with ${measured.code} (log: ${join(tmpDir, `${label}.tap.log`)})`);

    const uncompressedBytes = floorResult?.uncompressedBytes;
    const result = {
      bench: 'tap',
      events,
      records: counted.matching,
      stdoutLines: counted.lines,
      stdoutMB: mb(counted.bytes),
      bundle: { gzipMB: gzipBytes ? mb(gzipBytes) : undefined, uncompressedMB: uncompressedBytes ? mb(uncompressedBytes) : undefined },
      tap: {
        seconds: round(measured.wallSeconds, 2),
        eventsPerSecond: Math.round(counted.matching / measured.wallSeconds),
        uncompressedMBPerSecond: uncompressedBytes ? round(mb(uncompressedBytes) / measured.wallSeconds, 1) : undefined,
        cpuSeconds: round(measured.cpuSeconds, 2),
        peakRssMB: measured.peakRssMb,
      },
    };
    if (floorResult) {
      result.floor = {
        what: "Node's zlib gunzip of the same gzipped bundle from a local file, no parsing",
        seconds: round(floorResult.seconds, 2),
        uncompressedMBPerSecond: round(mb(floorResult.uncompressedBytes) / floorResult.seconds, 1),
        eventsPerSecond: Math.round(events / floorResult.seconds),
      };
      result.ratio = round(floorResult.seconds / measured.wallSeconds, 3);
    }
    if (sourceSeconds !== undefined) {
      result.source = {
        what: 'the sandbox generating, gzipping and serving the bundle, downloaded without parsing',
        seconds: round(sourceSeconds, 2),
        eventsPerSecond: Math.round(events / sourceSeconds),
      };
    }
    return result;
  } finally {
    await sandbox.stop();
    // The bundle copy is hundreds of MB for the big runs; it is downloaded afresh next time anyway.
    await rm(prepared.dir, { recursive: true, force: true });
  }
}

function mb(bytes) {
  return round(bytes / 1e6, 1);
}

function round(value, digits) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
