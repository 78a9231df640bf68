// Target benchmark: a Singer file of N records (N/2 users, then N/2 events) piped into
// target-fullstory, which sends them to the sandbox's Server API v2 batch endpoints.
//
// The input is generated on the fly under bench/tmp (gitignored) and reused while its size matches.
// Reported: wall time and records per second, records per CPU second of the target (its own work,
// apart from waiting on jobs), peak RSS (uncapped: no NODE_OPTIONS), and the requests it made (from the
// sandbox's request log). Beside it, in the same run: the floor (bench/lib/target-floor.js: parse each
// line, build the request, stringify batches of 5000) in records per CPU second and the target's ratio
// to it; and what the Idempotency-Keys cost: the target's own key function (from its build) timed over
// the same request bodies, in CPU per record and as a share of the target's CPU.
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { bins, root, tmpDir } from './lib/paths.js';
import { countLines, runMeasured } from './lib/process.js';
import { BENCH_KEY, getJson, startSandbox } from './lib/sandbox.js';
import { forEachBodyOf } from './lib/target-floor.js';

const FLOOR = join(root, 'bench', 'lib', 'target-floor.js');
const KEYS = join(root, 'packages', 'target-fullstory', 'dist', 'src', 'load', 'idempotency.js');

const PLANS = ['free', 'team', 'business', 'enterprise'];
const EVENT_NAMES = ['Order Completed', 'Product Viewed', 'Signed In', 'Invoice Paid', 'Seat Added'];
const STATE_EVERY = 10_000;

const USERS_SCHEMA = {
  type: 'object',
  properties: {
    uid: { type: 'string' },
    display_name: { type: 'string' },
    email: { type: 'string' },
    plan: { type: 'string' },
    seats: { type: 'integer' },
    monthly_revenue: { type: 'number' },
    on_trial: { type: 'boolean' },
    signed_up_at: { type: 'string', format: 'date-time' },
  },
};

const EVENTS_SCHEMA = {
  type: 'object',
  properties: {
    uid: { type: 'string' },
    event_name: { type: 'string' },
    timestamp: { type: 'string', format: 'date-time' },
    order_id: { type: 'string' },
    amount: { type: 'number' },
    items: { type: 'integer' },
    coupon: { type: 'boolean' },
  },
};

/** Writes a line, waiting for 'drain' when the file stream's buffer is full. */
async function writeLine(out, line) {
  if (!out.write(`${line}\n`)) await once(out, 'drain');
}

/** Generates (or reuses) bench/tmp/target-<N>.singer: users then events, a STATE every 10,000 records. */
export async function targetInput(records, log) {
  await mkdir(tmpDir, { recursive: true });
  const path = join(tmpDir, `target-${records}.singer`);
  if (existsSync(path)) return path;
  log(`  generating ${path}`);
  const partial = `${path}.partial`;
  const out = createWriteStream(partial);
  const users = Math.floor(records / 2);
  const base = Date.parse('2026-01-01T00:00:00Z');
  await writeLine(out, JSON.stringify({ type: 'SCHEMA', stream: 'bench_users', schema: USERS_SCHEMA, key_properties: ['uid'] }));
  for (let i = 1; i <= users; i += 1) {
    const plan = PLANS[i % 4];
    const seats = plan === 'free' ? 1 : (i % 9) + 1;
    const signedUp = new Date(base - (i % 400) * 86_400_000).toISOString();
    await writeLine(
      out,
      `{"type":"RECORD","stream":"bench_users","record":{"uid":"u${i}","display_name":"User ${i}","email":"user${i}@example.com","plan":"${plan}","seats":${seats},"monthly_revenue":${seats * 12.5},"on_trial":${i % 5 === 0},"signed_up_at":"${signedUp}"}}`,
    );
    if (i % STATE_EVERY === 0) await writeLine(out, `{"type":"STATE","value":{"bookmarks":{"bench_users":{"position":${i}}}}}`);
  }
  await writeLine(out, `{"type":"STATE","value":{"bookmarks":{"bench_users":{"position":${users}}}}}`);
  await writeLine(out, JSON.stringify({ type: 'SCHEMA', stream: 'bench_events', schema: EVENTS_SCHEMA, key_properties: [] }));
  const events = records - users;
  for (let i = 1; i <= events; i += 1) {
    const at = new Date(base + i * 1000).toISOString();
    await writeLine(
      out,
      `{"type":"RECORD","stream":"bench_events","record":{"uid":"u${(i % users) + 1}","event_name":"${EVENT_NAMES[i % 5]}","timestamp":"${at}","order_id":"o${i}","amount":${(i % 1000) / 10},"items":${(i % 7) + 1},"coupon":${i % 3 === 0}}}`,
    );
    if (i % STATE_EVERY === 0) {
      await writeLine(out, `{"type":"STATE","value":{"bookmarks":{"bench_users":{"position":${users}},"bench_events":{"position":${i}}}}}`);
    }
  }
  await writeLine(out, `{"type":"STATE","value":{"bookmarks":{"bench_users":{"position":${users}},"bench_events":{"position":${events}}}}}`);
  out.end();
  await once(out, 'close');
  await rename(partial, path);
  return path;
}

/** Groups the sandbox's request log into kinds of call. */
function requestKinds(entries) {
  const kinds = {};
  for (const entry of entries) {
    const path = entry.path
      .replace(/\/batch\/[^/]+\/(errors|imports)$/, '/batch/{id}/$1')
      .replace(/\/batch\/[^/]+$/, '/batch/{id}');
    const key = `${entry.method} ${path}${entry.status === 429 ? ' (429)' : ''}`;
    kinds[key] = (kinds[key] ?? 0) + 1;
  }
  return kinds;
}

/** The floor over `input`: records per CPU second of bench/lib/target-floor.js. */
async function floor(input, records, label) {
  const { NODE_OPTIONS: _uncapped, ...env } = process.env;
  const run = runMeasured(FLOOR, [], { env, stdout: 'null', logPath: join(tmpDir, `${label}.floor.log`) });
  createReadStream(input, { highWaterMark: 1 << 16 }).pipe(run.child.stdin);
  const measured = await run.done;
  if (measured.code !== 0) throw new Error(`the target floor exited with ${measured.code} (log: ${join(tmpDir, `${label}.floor.log`)})`);
  return { cpuSeconds: round(measured.cpuSeconds, 2), recordsPerCpuSecond: Math.round(records / measured.cpuSeconds) };
}

/**
 * CPU time of the target's own Idempotency-Key function (its build's load/idempotency.js) over the
 * request bodies of `input` in batches of `batchSize`: only the key calls are timed, not the building.
 */
async function hashCost(input, batchSize) {
  const { idempotencyKeys } = await import(pathToFileURL(KEYS).href);
  let micros = 0;
  let bytes = 0;
  let bodies = 0;
  await forEachBodyOf(input, batchSize, (stream, text) => {
    const body = Buffer.from(text);
    const started = process.cpuUsage();
    idempotencyKeys({ stream, kind: stream === 'bench_users' ? 'users' : 'events', ordinal: bodies, lo: 0, hi: batchSize, body })(0);
    const spent = process.cpuUsage(started);
    micros += spent.user + spent.system;
    bytes += body.length;
    bodies += 1;
  });
  return { bodies, bodyMB: round(bytes / 1e6, 1), cpuSeconds: round(micros / 1e6, 3) };
}

/**
 * Runs one target benchmark, with the target's memory uncapped (the environment without NODE_OPTIONS).
 * @param {{ records: number, batchSize: number, log: (line: string) => void }} options
 */
export async function benchTarget({ records, batchSize, log }) {
  const input = await targetInput(records, log);
  const label = `target-${records}-batch${batchSize}`;
  // Jobs finish quickly in the sandbox (100 ms) so the figure shows the target, not an emulated queue;
  // the sandbox counts events rather than keeping them, so its own memory and CPU stay small.
  const sandbox = await startSandbox(['--job-latency-ms', '100', '--no-retain-events'], { logPath: join(tmpDir, `${label}.sandbox.log`) });
  const deadLetterPath = join(tmpDir, `${label}.rejected.ndjson`);
  await rm(deadLetterPath, { force: true });
  try {
    const config = {
      api_key: BENCH_KEY,
      base_url: sandbox.url,
      streams: { bench_users: { data_type: 'users' }, bench_events: { data_type: 'events' } },
      dead_letter_path: deadLetterPath,
      batch_size: batchSize,
    };
    const configPath = join(tmpDir, `${label}.config.json`);
    await writeFile(configPath, JSON.stringify(config));

    log(`  target-fullstory: ${records.toLocaleString('en-US')} records, batch_size ${batchSize}`);
    const { NODE_OPTIONS: _uncapped, ...env } = process.env;
    const target = runMeasured(bins.target, ['--config', configPath], { env, logPath: join(tmpDir, `${label}.target.log`) });
    target.child.stdin.on('error', () => {});
    createReadStream(input, { highWaterMark: 1 << 16 }).pipe(target.child.stdin);
    const [states, measured] = await Promise.all([countLines(target.child.stdout, '{'), target.done]);
    if (measured.code !== 0) throw new Error(`target-fullstory exited with ${measured.code} (log: ${join(tmpDir, `${label}.target.log`)})`);

    const stats = await getJson(`${sandbox.url}/__sandbox/stats`);
    const log_ = await getJson(`${sandbox.url}/__sandbox/requests`);
    const entries = Array.isArray(log_) ? log_ : (log_.requests ?? []);

    log('  floor: parse, build the request, stringify batches of 5000');
    const floorResult = await floor(input, records, label);
    log('  Idempotency-Keys over the same bodies');
    const hash = await hashCost(input, batchSize);
    const recordsPerCpuSecond = measured.cpuSeconds > 0 ? Math.round(records / measured.cpuSeconds) : undefined;
    return {
      bench: 'target',
      records,
      settings: `batch_size ${batchSize}`,
      batchSize,
      seconds: round(measured.wallSeconds, 2),
      recordsPerSecond: Math.round(records / measured.wallSeconds),
      cpuSeconds: round(measured.cpuSeconds, 2),
      recordsPerCpuSecond,
      floor: floorResult,
      ratioToFloor: recordsPerCpuSecond === undefined ? undefined : round(recordsPerCpuSecond / floorResult.recordsPerCpuSecond, 2),
      idempotencyKeys: {
        ...hash,
        microsecondsPerRecord: round((hash.cpuSeconds * 1e6) / records, 3),
        // The share of the target's CPU the keys take: what they cost in records per CPU second.
        shareOfTargetCpu: measured.cpuSeconds > 0 ? round(hash.cpuSeconds / measured.cpuSeconds, 4) : undefined,
      },
      peakRssMB: measured.peakRssMb,
      stateLines: states.lines,
      requests: stats.requests ?? entries.length,
      requestKinds: requestKinds(entries),
      landed: { users: stats.users, events: stats.events },
      jobs: stats.jobs,
    };
  } finally {
    await sandbox.stop();
  }
}

function round(value, digits) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
