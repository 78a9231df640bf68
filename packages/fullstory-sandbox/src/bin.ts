#!/usr/bin/env node
/**
 * `fullstory-sandbox` CLI: starts the emulator, prints `fullstory-sandbox listening on <url>` as
 * its first stdout line, logs to stderr, and stops cleanly on SIGINT / SIGTERM, or when the process
 * that started it exits.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseJsonLossless } from './json.js';
import { startSandbox } from './server.js';
import type { DownloadEncoding, FaultRule, SandboxOptions } from './types.js';

const int = (name: string) => (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return Number(value);
};
const positive = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const counts = (value: string): number | number[] => {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new InvalidArgumentError('events per bundle must be an integer or a comma-separated list of integers');
  const nums = parts.map(Number);
  return nums.length === 1 ? nums[0]! : nums;
};

// dist/src/bin.js → the package's package.json, in a checkout and when installed alike.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

// The process that started the sandbox, read first thing: read after start-up, it could already be
// the adopter of an orphan (a parent killed as soon as the listening line appeared).
const PARENT = process.ppid;
// How often the sandbox checks that the process that started it is still there.
const PARENT_CHECK_MS = 500;

const program = new Command('fullstory-sandbox')
  .description('Local emulator of the FullStory Data Export v1, Segment Export and Server API v2, with fault injection')
  .version(version, '--version', 'print the version and exit')
  .option('--host <host>', 'interface to bind', '127.0.0.1')
  .option('--port <port>', 'port to bind (0 = any free port)', int('--port'), 0)
  .option('--api-key <key>', 'accepted API key (repeatable; default sandbox-key)', collect)
  .option('--read-only-key <key>', 'key that may only read (writes answer 403; repeatable)', collect)
  .option('--forbidden-key <key>', 'key with no permission (every API route answers 403; repeatable)', collect)
  .option('--standard-key <key>', 'a Standard key: creates and reads batch status; job imports/errors, users and Data Export answer 403 (repeatable)', collect)
  .addOption(new Option('--job-status-with-errors <status>', 'status of a finished job with errors').choices(['FAILED', 'COMPLETED']))
  .addOption(new Option('--concurrent-job-order <order>', 'order in which jobs running at once apply their items').choices(['oldest-first', 'newest-first']))
  .addOption(new Option('--invalid-items <where>', 'an invalid batch item fails in the job, or the whole create with 400').choices(['job', 'batch']))
  .addOption(new Option('--idempotency <docs>', 'production: every first answer is saved, 5xx included; staging: 429 and 5xx are not').choices(['production', 'staging']))
  .option('--idempotency-window-seconds <s>', 'how long a saved Idempotency-Key answer is kept (default 86400, 24 h)', positive('--idempotency-window-seconds'))
  .option('--echo-authorization', "error messages quote the request's Authorization header (a careless server)")
  .option('--max-body-bytes <n>', 'largest request body; larger answer 413', int('--max-body-bytes'))
  .option('--bundles <n>', 'generated bundles published at start (default 3, 0 with --fixtures)', int('--bundles'))
  .option('--events-per-bundle <m>', 'events per generated bundle, or a comma-separated list (one per bundle)', counts)
  .option('--bundle-hours <h>', 'length of each bundle window in hours', positive('--bundle-hours'))
  .option('--first-bundle <iso>', 'start of the first bundle (ISO 8601)')
  .option('--first-bundle-id <id>', 'id of the first generated bundle (may exceed 2^53)')
  .option('--seed <s>', 'seed of the event generator', int('--seed'))
  .option('--fixtures <dir>', 'serve the bundles in this folder (<Id>.json / <Id>.json.gz, optional bundles.json)')
  .option('--download-encoding <enc>', 'gzip | content-encoding | identity')
  .option('--downloads-per-minute <r>', 'bundle downloads per rolling minute before 429 (0 = unlimited)', int('--downloads-per-minute'))
  .option('--job-latency-ms <ms>', 'time a batch job stays PROCESSING once running', int('--job-latency-ms'))
  .option('--max-running-jobs <n>', 'jobs running at once (FullStory: 100)', int('--max-running-jobs'))
  .option('--max-in-progress-jobs <n>', 'unfinished jobs at which batch creation answers 429 (FullStory: 200)', int('--max-in-progress-jobs'))
  .option('--max-in-progress-operations <n>', 'unfinished request objects at which batch creation answers 429 (FullStory: 500000)', int('--max-in-progress-operations'))
  .option('--job-page-size <n>', 'items per page of /imports and /errors', int('--job-page-size'))
  .option('--export-pending-ms <ms>', 'time a Segment Export operation stays PENDING (default 1000)', int('--export-pending-ms'))
  .option('--location-ttl-ms <ms>', 'lifetime of a Segment Export download location (default 300000)', int('--location-ttl-ms'))
  .option('--no-retain-events', 'keep only event counts, not the events (long benchmarks)')
  .option('--faults <file>', 'JSON file with one fault rule or an array of rules, armed at start')
  .option('--quiet', 'log nothing to stderr')
  .allowExcessArguments(false)
  // Usage errors exit 2 (like a bad config elsewhere in this repo), not commander's default 1.
  .exitOverride();

async function main(): Promise<void> {
  try {
    program.parse();
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    throw err;
  }
  const o = program.opts<Record<string, unknown>>();
  const log = o.quiet === true ? (): void => undefined : (line: string): void => {
    process.stderr.write(`${new Date().toISOString()} fullstory-sandbox ${line}\n`);
  };
  let faults: FaultRule[] | undefined;
  if (typeof o.faults === 'string') {
    const parsed = parseJsonLossless(await readFile(o.faults, 'utf8'));
    faults = (Array.isArray(parsed) ? parsed : [parsed]) as FaultRule[];
  }
  const encoding = o.downloadEncoding as string | undefined;
  if (encoding !== undefined && !['gzip', 'content-encoding', 'identity'].includes(encoding)) {
    throw new Error('--download-encoding must be gzip, content-encoding or identity');
  }
  const options: SandboxOptions = {
    host: o.host as string,
    port: o.port as number,
    apiKeys: o.apiKey as string[] | undefined,
    readOnlyKeys: o.readOnlyKey as string[] | undefined,
    forbiddenKeys: o.forbiddenKey as string[] | undefined,
    standardKeys: o.standardKey as string[] | undefined,
    jobStatusWithErrors: o.jobStatusWithErrors as SandboxOptions['jobStatusWithErrors'],
    invalidItems: o.invalidItems as SandboxOptions['invalidItems'],
    concurrentJobOrder: o.concurrentJobOrder as SandboxOptions['concurrentJobOrder'],
    idempotency: o.idempotency as SandboxOptions['idempotency'],
    idempotencyWindowMs: o.idempotencyWindowSeconds === undefined ? undefined : (o.idempotencyWindowSeconds as number) * 1000,
    echoAuthorization: o.echoAuthorization === true,
    maxBodyBytes: o.maxBodyBytes as number | undefined,
    bundles: o.bundles as number | undefined,
    eventsPerBundle: o.eventsPerBundle as number | number[] | undefined,
    bundleHours: o.bundleHours as number | undefined,
    firstBundle: o.firstBundle as string | undefined,
    firstBundleId: o.firstBundleId as string | undefined,
    seed: o.seed as number | undefined,
    fixturesDir: o.fixtures as string | undefined,
    downloadEncoding: encoding as DownloadEncoding | undefined,
    downloadsPerMinute: o.downloadsPerMinute as number | undefined,
    jobLatencyMs: o.jobLatencyMs as number | undefined,
    maxRunningJobs: o.maxRunningJobs as number | undefined,
    maxInProgressJobs: o.maxInProgressJobs as number | undefined,
    maxInProgressOperations: o.maxInProgressOperations as number | undefined,
    jobPageSize: o.jobPageSize as number | undefined,
    retainEvents: o.retainEvents as boolean,
    faults,
    segmentExport: { pendingMs: o.exportPendingMs as number | undefined, locationTtlMs: o.locationTtlMs as number | undefined },
    logger: log,
  };
  const sandbox = await startSandbox(options);
  process.stdout.write(`fullstory-sandbox listening on ${sandbox.url}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    sandbox.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // `npx fullstory-sandbox &` then `kill %1` ends npx but not this process, which would hold its
  // port as an orphan. An orphan is adopted by another process, so its parent id changes. (Started
  // by a process that stays, such as a terminal, tmux, systemd or a container's init, it runs on.)
  setInterval(() => {
    if (process.ppid !== PARENT) stop('the process that started the sandbox exited');
  }, PARENT_CHECK_MS).unref();
}

main().catch((err: unknown) => {
  process.stderr.write(`fullstory-sandbox: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
