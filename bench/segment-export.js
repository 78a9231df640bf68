// Segment Export benchmark: one export window of N generated events, read by tap-fullstory with
// `source: segment_export` from the sandbox (create → poll → results → keyless download → gunzip → NDJSON
// split → RECORD lines).
//
// The sandbox writes an export's file while its operation is pending and reuses the file for a later export of
// the same rows. So this bench first makes the export itself through the API (the sandbox generating and gzipping
// the file: the source rate) and downloads the file to bench/tmp; then the tap makes the same export, which
// completes at once with the same file, so the tap's figure is not held back by the generator sharing the 2 cores.
// In the same run, the floor: the same gzipped bytes, from the downloaded file, through Node's gunzip alone.
import { execFileSync } from 'node:child_process';
import { createWriteStream, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { bins, tmpDir } from './lib/paths.js';
import { gunzipFloor, mb, round } from './lib/figures.js';
import { countLines, runMeasured } from './lib/process.js';
import { BENCH_KEY, startSandbox } from './lib/sandbox.js';

const SEED = 7;
const WINDOW = { start: '2026-01-01T00:00:00Z', end: '2026-01-01T01:00:00Z' };

async function api(url, path, init = {}) {
  const response = await fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: `Basic ${BENCH_KEY}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path} answered ${response.status}`);
  return response.json();
}

/**
 * Makes the window's export through the API, as the tap will, and downloads its file (without the key) to
 * bench/tmp. Returns the file and the time the sandbox took to prepare it.
 */
async function prepareExport(url, events, log) {
  const path = join(tmpDir, `segment-export-${events}.ndjson.gz`);
  log(`  the sandbox exports the window (${events.toLocaleString('en-US')} events) to ${path}`);
  const started = process.hrtime.bigint();
  const body = { segmentId: 'everyone', type: 'TYPE_EVENT', format: 'FORMAT_NDJSON', timeRange: WINDOW, segmentTimeRange: { start: '', end: '' } };
  const { operationId } = await api(url, '/segments/v1/exports', { method: 'POST', body: JSON.stringify(body) });
  let operation;
  do {
    await new Promise((resolve) => setTimeout(resolve, 100));
    operation = await api(url, `/operations/v1/${operationId}`);
  } while (operation.state === 'PENDING');
  if (operation.state !== 'COMPLETED') throw new Error(`the export ended ${operation.state}: ${operation.errorDetails}`);
  const { location } = await api(url, `/search/v1/exports/${operation.results.searchExportId}/results`);
  const response = await fetch(location);
  if (!response.ok || !response.body) throw new Error(`the download answered ${response.status}`);
  await pipeline(response.body, createWriteStream(path));
  return { path, sourceSeconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** The discovered catalog with only `events` selected. */
function selectEventsOnly(catalog) {
  for (const stream of catalog.streams) {
    const top = stream.metadata.find((m) => m.breadcrumb.length === 0);
    top.metadata.selected = stream.tap_stream_id === 'events';
  }
  return catalog;
}

/**
 * Runs the benchmark for one window of `events` events.
 * @param {{ events: number, log: (line: string) => void }} options
 */
export async function benchSegmentExport({ events, log }) {
  await mkdir(tmpDir, { recursive: true });
  const label = `segment-export-${events}`;
  const sandbox = await startSandbox(
    ['--bundles', '1', '--events-per-bundle', String(events), '--bundle-hours', '1', '--first-bundle', WINDOW.start, '--seed', String(SEED), '--export-pending-ms', '0'],
    { logPath: join(tmpDir, `${label}.sandbox.log`) },
  );
  let prepared;
  try {
    prepared = await prepareExport(sandbox.url, events, log);
    log('  floor: gunzip alone');
    const floor = await gunzipFloor(prepared.path);

    const configPath = join(tmpDir, `${label}.config.json`);
    await writeFile(configPath, JSON.stringify({
      api_key: BENCH_KEY, base_url: sandbox.url, source: 'segment_export',
      start_date: WINDOW.start, end_date: WINDOW.end, export_delay_seconds: 0, export_poll_interval_seconds: 0.05,
    }));
    // The events stream alone, every field (individuals would be a second export of the same window).
    const catalogPath = join(tmpDir, `${label}.catalog.json`);
    await writeFile(catalogPath, JSON.stringify(selectEventsOnly(JSON.parse(execFileSync(process.execPath, [bins.tap, '--config', configPath, '--discover'], { encoding: 'utf8' })))));
    log(`  tap-fullstory (segment_export): ${events.toLocaleString('en-US')} events`);
    const tap = runMeasured(bins.tap, ['--config', configPath, '--catalog', catalogPath], {
      env: process.env, stdin: 'ignore', logPath: join(tmpDir, `${label}.tap.log`),
    });
    const [counted, measured] = await Promise.all([countLines(tap.child.stdout, '{"type":"RECORD"'), tap.done]);
    if (measured.code !== 0) throw new Error(`tap-fullstory exited with ${measured.code} (log: ${join(tmpDir, `${label}.tap.log`)})`);
    if (counted.matching !== events) throw new Error(`tap-fullstory emitted ${counted.matching} records, not ${events}`);

    const gzipBytes = statSync(prepared.path).size;
    return {
      bench: 'segment-export',
      events,
      records: counted.matching,
      stdoutLines: counted.lines,
      stdoutMB: mb(counted.bytes),
      file: { gzipMB: mb(gzipBytes), uncompressedMB: mb(floor.uncompressedBytes) },
      tap: {
        what: 'create, poll, results, keyless download, gunzip, NDJSON split, RECORD lines to a pipe that is counted',
        seconds: round(measured.wallSeconds, 2),
        eventsPerSecond: Math.round(counted.matching / measured.wallSeconds),
        uncompressedMBPerSecond: round(mb(floor.uncompressedBytes) / measured.wallSeconds, 1),
        cpuSeconds: round(measured.cpuSeconds, 2),
        peakRssMB: measured.peakRssMb,
      },
      floor: {
        what: "Node's zlib gunzip of the same gzipped file from local disk, no parsing",
        seconds: round(floor.seconds, 2),
        uncompressedMBPerSecond: round(mb(floor.uncompressedBytes) / floor.seconds, 1),
        eventsPerSecond: Math.round(events / floor.seconds),
      },
      ratio: round(floor.seconds / measured.wallSeconds, 3),
      source: {
        what: 'the sandbox generating and gzipping the export file, then the download of it',
        seconds: round(prepared.sourceSeconds, 2),
        eventsPerSecond: Math.round(events / prepared.sourceSeconds),
      },
    };
  } finally {
    await sandbox.stop();
    if (prepared) await rm(prepared.path, { force: true });
  }
}
