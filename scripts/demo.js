#!/usr/bin/env node
// `npm run demo`: the whole pipeline on this machine, with no FullStory account and no network.
//
//   1. start fullstory-sandbox (a local emulator of both FullStory APIs) with a few generated bundles;
//   2. tap-fullstory | target-fullstory: export bundles -> Singer -> FullStory events (mapping in
//      fixtures/demo/target-events.json); the last state line is saved the cron way (temp file, then rename);
//   3. target-fullstory < fixtures/demo/users.singer: a users stream -> FullStory users;
//   4. the tap again, from the saved state: nothing new, the bookmark is kept;
//   5. ask the sandbox what landed and print a summary and the final state.
//
// Plain Node ESM with no dependencies: it runs the built bins (`npm run build` first; `npm run demo` does).
// Everything it writes goes to a temporary folder, removed at the end (pass --keep to keep it).
// `--source segment_export` reads the same generated events through Segment Export instead of the bundles
// (one window a day, the `events` stream selected; the settings come from the environment).
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const demoDir = join(root, 'fixtures', 'demo');
const bins = {
  sandbox: join(root, 'packages', 'fullstory-sandbox', 'dist', 'src', 'bin.js'),
  tap: join(root, 'packages', 'tap-fullstory', 'dist', 'tap-fullstory.js'),
  target: join(root, 'packages', 'target-fullstory', 'dist', 'target-fullstory.js'),
};

// The sandbox accepts this key; it is not a FullStory key and means nothing outside the sandbox.
const SANDBOX_KEY = 'demo-sandbox-key';
const BUNDLES = 3;
const EVENTS_PER_BUNDLE = 2000;
const keep = process.argv.includes('--keep');
const sourceIndex = process.argv.indexOf('--source');
const source = sourceIndex >= 0 ? process.argv[sourceIndex + 1] : 'data_export';
/** The tap's Segment Export settings for the demo: daily windows over the generated days, nothing to wait for. */
const SEGMENT_EXPORT_ENV = {
  TAP_FULLSTORY_SOURCE: 'segment_export',
  TAP_FULLSTORY_EXPORT_WINDOW_SECONDS: '86400',
  TAP_FULLSTORY_EXPORT_DELAY_SECONDS: '0',
  TAP_FULLSTORY_EXPORT_POLL_INTERVAL_SECONDS: '0.05',
  TAP_FULLSTORY_END_DATE: '2026-01-04T00:00:00Z',
};

/** Child processes still running, killed on any exit path. */
const children = new Set();
/** The temporary work folder, removed on every exit path unless --keep. */
let workDir;

function killChildren() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killChildren();
    if (workDir && !keep) rmSync(workDir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** Spawns `node <bin> ...args` with stderr appended to a log file; tracks it for clean-up. */
function startNode(bin, args, { env, stdin = 'pipe', stdout = 'pipe', logPath }) {
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: [stdin, stdout, 'pipe'] });
  children.add(child);
  child.stderr.pipe(log);
  const exited = new Promise((resolveExit, rejectExit) => {
    child.once('error', rejectExit);
    child.once('close', (code, signal) => {
      children.delete(child);
      resolveExit({ code, signal });
    });
  });
  return { child, exited };
}

/** Starts the sandbox and resolves with its URL, read from its `listening on` line. */
async function startSandbox(workDir) {
  const args = [
    '--port', '0',
    '--api-key', SANDBOX_KEY,
    '--bundles', String(BUNDLES),
    '--events-per-bundle', String(EVENTS_PER_BUNDLE),
    '--first-bundle', '2026-01-01T00:00:00Z',
    '--seed', '42',
    '--downloads-per-minute', '0',
    '--job-latency-ms', '100',
    '--export-pending-ms', '100',
  ];
  const { child, exited } = startNode(bins.sandbox, args, {
    env: process.env,
    stdin: 'ignore',
    logPath: join(workDir, 'sandbox.log'),
  });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolveUrl, rejectUrl) => {
    const timer = setTimeout(() => rejectUrl(new Error('the sandbox did not say where it listens within 30 s')), 30_000);
    lines.on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1].replace(/\/$/, ''));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rejectUrl(new Error(`the sandbox exited early (code ${code}, signal ${signal})`));
    });
  });
  // Keep draining stdout so the sandbox never blocks on a full pipe.
  lines.on('line', () => {});
  return { url, child };
}

/** A pass-through that counts the Singer RECORD lines going by (the tap writes one message per line). */
function recordCounter() {
  let tail = '';
  const counter = new Transform({
    transform(chunk, _encoding, done) {
      const text = tail + chunk.toString('utf8');
      const lines = text.split('\n');
      tail = lines.pop() ?? '';
      for (const line of lines) if (line.includes('"type":"RECORD"')) counter.records += 1;
      done(null, chunk);
    },
  });
  counter.records = 0;
  return counter;
}

/** Collects a process's stdout lines (the target prints one state value per line). */
function collectLines(readable) {
  const lines = [];
  const rl = createInterface({ input: readable });
  rl.on('line', (line) => {
    if (line.trim() !== '') lines.push(line);
  });
  return { lines, closed: new Promise((res) => rl.once('close', res)) };
}

/**
 * Saves the target's last state line the way examples/cron.sh does: write a temporary file next to
 * the real one, then rename it into place, so a crash never leaves a half-written state file.
 */
async function saveState(statePath, stateLines) {
  const last = stateLines.at(-1);
  if (last === undefined) throw new Error('the target printed no state');
  JSON.parse(last); // refuse to save something that is not JSON
  const temporary = `${statePath}.tmp`;
  await writeFile(temporary, `${last}\n`);
  await rename(temporary, statePath);
  return JSON.parse(last);
}

/** tap-fullstory [--state] | target-fullstory, with stderr of each kept in a log file. */
async function runTapIntoTarget({ env, workDir, statePath, catalogPath, label }) {
  const tapArgs = ['--config', join(demoDir, 'tap.json'), ...(catalogPath ? ['--catalog', catalogPath] : [])];
  if (statePath && existsSync(statePath)) tapArgs.push('--state', statePath);
  const tap = startNode(bins.tap, tapArgs, { env, stdin: 'ignore', logPath: join(workDir, `${label}.tap.log`) });
  const target = startNode(bins.target, ['--config', join(demoDir, 'target-events.json')], {
    env,
    logPath: join(workDir, `${label}.target.log`),
  });
  const counter = recordCounter();
  // If the target dies, the tap gets EPIPE; the exit codes below tell the story, not this error.
  target.child.stdin.on('error', () => {});
  tap.child.stdout.pipe(counter).pipe(target.child.stdin);
  const out = collectLines(target.child.stdout);
  const [tapExit, targetExit] = await Promise.all([tap.exited, target.exited, out.closed]);
  return { tapExit, targetExit, records: counter.records, stateLines: out.lines };
}

/** target-fullstory < file. */
async function runTargetFromFile({ env, workDir, inputPath, configPath, label }) {
  const target = startNode(bins.target, ['--config', configPath], { env, logPath: join(workDir, `${label}.target.log`) });
  target.child.stdin.on('error', () => {});
  createReadStream(inputPath).pipe(target.child.stdin);
  const out = collectLines(target.child.stdout);
  const [targetExit] = await Promise.all([target.exited, out.closed]);
  return { targetExit, stateLines: out.lines };
}

function assertExit(name, { code, signal }, logPath) {
  if (code !== 0) {
    const error = new Error(`${name} exited with code ${code}${signal ? ` (signal ${signal})` : ''}; its log: ${logPath}`);
    error.logPath = logPath;
    throw error;
  }
}

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

/** Reads the dead-letter file: how many lines, how many per reason, and one example message. */
async function readDeadLetters(path) {
  const byReason = new Map();
  let total = 0;
  let example;
  if (!existsSync(path)) return { total, byReason, example };
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    total += 1;
    let reason = 'unknown';
    try {
      const entry = JSON.parse(line);
      reason = entry.reason ?? entry.code ?? reason;
      example ??= entry.message;
    } catch {
      // counted anyway: a dead-letter line is a record that did not land
    }
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }
  return { total, byReason, example };
}

/** The target's closing summary line from its log (`finished records_read=… sent=… …`), if any. */
async function targetSummary(logPath) {
  if (!existsSync(logPath)) return undefined;
  const line = (await readFile(logPath, 'utf8')).split('\n').find((l) => / finished records_read=/.test(l));
  return line?.replace(/^.* finished /, '').replace(/ dead_letter=\S+/, '');
}

/** One stored user, short: uid, name, email and properties. */
function describeUser(user) {
  const props = Object.entries(user.properties ?? {})
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
  return `${user.uid ?? '(no uid)'} "${user.display_name ?? ''}" <${user.email ?? ''}> ${props}`;
}

function formatCounts(map, limit = 6) {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
}

/** A stored event's name: the sandbox keeps each accepted request as sent (`{request: {name, ...}}`). */
function eventName(event) {
  return event.request?.name ?? '?';
}

/** Writes the tap's catalog with only `events` selected (Segment Export also offers `individuals`). */
async function eventsOnlyCatalog(env, workDir) {
  const { child, exited } = startNode(bins.tap, ['--config', join(demoDir, 'tap.json'), '--discover'], {
    env, stdin: 'ignore', logPath: join(workDir, 'discover.tap.log'),
  });
  const out = collectLines(child.stdout);
  const [status] = await Promise.all([exited, out.closed]);
  assertExit('tap-fullstory --discover', status, join(workDir, 'discover.tap.log'));
  const catalog = JSON.parse(out.lines.join('\n'));
  for (const stream of catalog.streams) {
    stream.metadata.find((m) => m.breadcrumb.length === 0).metadata.selected = stream.tap_stream_id === 'events';
  }
  const path = join(workDir, 'catalog.json');
  await writeFile(path, JSON.stringify(catalog));
  return path;
}

async function main() {
  if (source !== 'data_export' && source !== 'segment_export') {
    process.stderr.write(`demo: --source is data_export or segment_export, not ${source}\n`);
    process.exitCode = 2;
    return;
  }
  for (const path of Object.values(bins)) {
    if (!existsSync(path)) {
      process.stderr.write(`demo: ${relative(root, path)} is missing: run \`npm run build\` first (or use \`npm run demo\`)\n`);
      process.exitCode = 1;
      return;
    }
  }
  workDir = await mkdtemp(join(tmpdir(), 'fullstory-demo-'));
  let failed = true;
  try {
    const say = (line = '') => process.stdout.write(`${line}\n`);
    const sandbox = await startSandbox(workDir);
    say(`fullstory-sandbox listening on ${sandbox.url} (${BUNDLES} generated bundles of ${EVENTS_PER_BUNDLE} events)`);
    say(`work folder: ${workDir} (${keep ? 'kept' : 'removed at the end; --keep keeps it'})`);
    say();

    const deadLetterPath = join(workDir, 'rejected.ndjson');
    const statePath = join(workDir, 'state.json');
    // The key and the host come from the environment, as they would in production; the config files
    // in fixtures/demo hold only the settings that are part of the pipeline's design.
    const env = {
      ...process.env,
      TAP_FULLSTORY_API_KEY: SANDBOX_KEY,
      TAP_FULLSTORY_BASE_URL: sandbox.url,
      TARGET_FULLSTORY_API_KEY: SANDBOX_KEY,
      TARGET_FULLSTORY_BASE_URL: sandbox.url,
      TARGET_FULLSTORY_DEAD_LETTER_PATH: deadLetterPath,
      ...(source === 'segment_export' ? SEGMENT_EXPORT_ENV : {}),
    };
    const catalogPath = source === 'segment_export' ? await eventsOnlyCatalog(env, workDir) : undefined;
    if (catalogPath) say('source: segment_export (one export a day, the events stream selected)');

    say('1/3  tap-fullstory --config fixtures/demo/tap.json | target-fullstory --config fixtures/demo/target-events.json');
    say('     events: uid <- UserAppKey, event name <- EventType, timestamp <- EventStart');
    const first = await runTapIntoTarget({ env, workDir, statePath, catalogPath, label: 'run1' });
    assertExit('tap-fullstory', first.tapExit, join(workDir, 'run1.tap.log'));
    assertExit('target-fullstory', first.targetExit, join(workDir, 'run1.target.log'));
    const firstState = await saveState(statePath, first.stateLines);
    const rejected = await readDeadLetters(deadLetterPath);
    say(`     the tap emitted ${first.records} records; the target printed ${first.stateLines.length} state lines; saved the last to state.json`);
    const summary = await targetSummary(join(workDir, 'run1.target.log'));
    if (summary) say(`     target summary: ${summary}`);
    say(`     dead-lettered: ${rejected.total} (anonymous visitors' events have an empty UserAppKey, so no uid)`);
    if (rejected.example) say(`       e.g. ${formatCounts(rejected.byReason)}: "${rejected.example}"`);
    say();

    say('2/3  target-fullstory --config fixtures/demo/target-users.json < fixtures/demo/users.singer');
    const users = await runTargetFromFile({
      env,
      workDir,
      inputPath: join(demoDir, 'users.singer'),
      configPath: join(demoDir, 'target-users.json'),
      label: 'users',
    });
    assertExit('target-fullstory', users.targetExit, join(workDir, 'users.target.log'));
    say(`     users stream sent; its state: ${users.stateLines.at(-1) ?? '(none)'}`);
    say();

    say('3/3  tap-fullstory --state state.json | target-fullstory   (a second run, as cron would start it)');
    const second = await runTapIntoTarget({ env, workDir, statePath, catalogPath, label: 'run2' });
    assertExit('tap-fullstory', second.tapExit, join(workDir, 'run2.tap.log'));
    assertExit('target-fullstory', second.targetExit, join(workDir, 'run2.target.log'));
    const finalState = await saveState(statePath, second.stateLines);
    const kept = JSON.stringify(finalState) === JSON.stringify(firstState);
    say(`     ${second.records} new records; bookmark ${kept ? 'kept as it was' : 'moved'}`);
    say();

    // The sandbox's inspection routes (no key needed) list what it stored, as arrays.
    const landedUsers = await getJson(`${sandbox.url}/__sandbox/users`);
    const landedEvents = await getJson(`${sandbox.url}/__sandbox/events`);
    const names = new Map();
    for (const event of landedEvents) names.set(eventName(event), (names.get(eventName(event)) ?? 0) + 1);
    const fromFixture = landedUsers.filter((u) => typeof u.uid === 'string' && u.uid.startsWith('demo-user-'));
    const sample = fromFixture[0] ?? landedUsers[0];

    say('What landed in the sandbox');
    say(`Users landed in the sandbox: ${landedUsers.length}`);
    say(`  ${fromFixture.length} from users.singer; ${landedUsers.length - fromFixture.length} created by the uids of identified visitors' events`);
    if (sample) say(`  e.g. ${describeUser(sample).slice(0, 240)}`);
    const declared = sample?.schema?.properties;
    if (declared && typeof declared === 'object') {
      // The types the target declared from the Singer SCHEMA, so FullStory does not guess them.
      say(`  property types declared: ${Object.entries(declared).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    }
    say(`Events landed in the sandbox: ${landedEvents.length}`);
    if (names.size > 0) say(`  by name: ${formatCounts(names)}`);
    say(`Records dead-lettered: ${rejected.total}  (each one is a line in the dead-letter file, with its reason)`);
    const accounted = landedEvents.length + rejected.total;
    say(`Events emitted by the tap: ${first.records}; landed + dead-lettered: ${accounted}${accounted === first.records ? ' (nothing lost)' : ' (these differ: see the logs)'}`);
    say();
    say('Final state (state.json, what the next run starts from):');
    say(JSON.stringify(finalState, null, 2));
    failed = false;
  } catch (error) {
    process.stderr.write(`demo failed: ${error.message}\n`);
    if (error.logPath && existsSync(error.logPath)) {
      const tail = (await readFile(error.logPath, 'utf8')).split('\n').slice(-20).join('\n');
      process.stderr.write(`last lines of ${error.logPath}:\n${tail}\n`);
    }
    process.exitCode = 1;
  } finally {
    killChildren();
    if (keep || failed) {
      process.stderr.write(`kept the work folder (logs, state, dead letters): ${workDir}\n`);
    } else {
      await rm(workDir, { recursive: true, force: true });
    }
  }
}

await main();
