#!/usr/bin/env node
// `npm run bench` (after `npm run build`): the benchmarks of the quality bar, against the local
// sandbox. Figures, not pass/fail. Benchmarks are not tests and never run in `npm test`.
//
//   npm run bench                 tap on the reference bundle (200,000 events, + gunzip and zcat floors),
//                                 tap 1,000,000 events (+ gunzip floor and ratio), tap 5,000,000 events (memory),
//                                 tap with source segment_export on one window of 1,000,000 events (+ floor and ratio),
//                                 target 1,000,000 and 2,000,000 records at batch_size 500 (the default) and 5000,
//                                 memory uncapped (is peak RSS flat in input size?);
//                                 writes bench/results/*.json and BENCHMARKS.md
//   npm run bench -- --quick      the reference bundle, a tenth of the other sizes, no 5,000,000 run; results to
//                                 bench/tmp/results only
//   npm run bench -- --only tap   (or segment, or target) one part
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchSegmentExport } from './segment-export.js';
import { benchTap, benchTapReference } from './tap.js';
import { benchTarget } from './target.js';
import { bins, resultsDir, root, tmpDir } from './lib/paths.js';
import { writeBenchmarksMd } from './report.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
if (only !== undefined && !['tap', 'segment', 'target'].includes(only)) {
  process.stderr.write(`bench: --only takes tap, segment or target, not ${only}\n`);
  process.exit(2);
}
const log = (line) => process.stderr.write(`${line}\n`);

function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGB: Math.round(totalmem() / 1e9),
    freeMemoryGB: Math.round(freemem() / 1e9),
    kernel: release(),
    node: process.version,
    date: new Date().toISOString(),
    // Other work on the machine competes for the same cores: say how busy it was when each run started.
    loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
  };
}

async function main() {
  for (const [name, path] of Object.entries(bins)) {
    if (!existsSync(path)) throw new Error(`${name} is not built (${path}): run \`npm run build\``);
  }
  const outDir = quick ? join(tmpDir, 'results') : resultsDir;
  await mkdir(outDir, { recursive: true });
  const scale = quick ? 10 : 1;
  const tapEvents = 1_000_000 / scale;
  const targetRecords = 1_000_000 / scale;
  const runs = [];
  if (only === undefined || only === 'tap') {
    runs.push({ file: 'tap-reference-200000', run: () => benchTapReference({ log }) });
    runs.push({ file: `tap-${tapEvents}`, run: () => benchTap({ events: tapEvents, floor: true, log }) });
    if (!quick) runs.push({ file: 'tap-5000000', run: () => benchTap({ events: 5_000_000, floor: true, log }) });
  }
  if (only === undefined || only === 'segment') {
    runs.push({ file: `segment-export-${tapEvents}`, run: () => benchSegmentExport({ events: tapEvents, log }) });
  }
  if (only === undefined || only === 'target') {
    for (const records of [targetRecords, 2 * targetRecords]) {
      for (const batchSize of [500, 5000]) {
        runs.push({ file: `target-${records}-batch${batchSize}`, run: () => benchTarget({ records, batchSize, log }) });
      }
    }
  }

  const about = machine();
  log(`bench on ${about.cpu} x${about.cores}, Node ${about.node}${quick ? ' (quick)' : ''}`);
  for (const { file, run } of runs) {
    log(`${file}:`);
    const result = { machine: machine(), quick, ...(await run()) };
    await writeFile(join(outDir, `${file}.json`), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${file}: ${JSON.stringify(result)}\n`);
  }
  if (!quick) {
    await writeBenchmarksMd({ resultsDir, path: join(root, 'BENCHMARKS.md') });
    log('wrote BENCHMARKS.md');
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error.message}\n`);
  process.exitCode = 1;
});
