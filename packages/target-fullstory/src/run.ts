/**
 * One run of the target: Singer messages in, FullStory batch jobs out, safe states on stdout.
 *
 *   stdin ─▶ reader ─▶ router ─▶ batcher ─▶ scheduler ─▶ job ─▶ FullStory (or the dry run)
 *                                                          │
 *            stdout ◀── checkpoints ◀──── "a batch settled" ┘
 *
 * Data flows down; only "a batch settled" (or failed) comes back. One AbortController is the only
 * stop and failure channel: a signal (SIGINT/SIGTERM), a job that fails for good, stdout closed, or a
 * dead-letter file that cannot be written aborts it with the reason, and then:
 * - the read loop stops reading stdin and no new job is started;
 * - jobs already created may finish, for at most `stop_timeout_seconds`; then their calls are aborted;
 * - the last safe state is emitted, the summary printed, and the reason thrown (`runMain` prints it
 *   and exits with its code: 130/143 for a signal, 141 for stdout closed, 4/5 for FullStory...).
 * Bad input (a line that is not JSON, a RECORD before its SCHEMA) and a stream without a data type end
 * the input instead: what was read before is sent and settled, its state emitted, then the error thrown.
 *
 * The read loop is the only sender: it also wakes up when the oldest open batch comes of age (on the
 * run's clock) and seals it, so aged and full batches reach the scheduler in the order they were sealed.
 */

import {
  ConfigError,
  InputError,
  InternalError,
  RejectedRecordsError,
  readMessageBatches,
  type Logger,
  type MessageWriter,
  type ReadMessage,
  type Redactor,
} from '@fullstory-singer/singer-core';
import { randomUUID } from 'node:crypto';
import { Checkpoints } from './checkpoints.js';
import { sleep, systemClock, type Clock, type TimerHandle } from './clock.js';
import type { TargetSettings } from './config.js';
import { DeadLetterFile, dryRunDeadLetterPath } from './dead-letter.js';
import { FileWriteError, LineFile, type LineFileHandle } from './line-file.js';
import { releaseTexts, unsettledRecords, type Batch } from './load/batch.js';
import { Batcher } from './load/batcher.js';
import { RecentSet } from './load/idempotency.js';
import { loadBatch, type JobContext } from './load/job.js';
import { JobSlots, Scheduler } from './load/scheduler.js';
import { BufferPool } from './load/texts.js';
import { PropertyNamer } from './mapping/names.js';
import type { Rejection } from './rejection.js';
import { createRouter } from './router.js';
import type { BatchApi } from './sinks/batch-api.js';
import { dryRunApi } from './sinks/dry-run.js';
import { StreamRegistry } from './streams.js';
import { logSummary, Tally, type RunSummary } from './summary.js';

/** What {@link run} needs; everything with a side effect is passed in. */
export interface RunDeps {
  settings: TargetSettings;
  /** Singer messages (stdin). */
  input: NodeJS.ReadableStream | AsyncIterable<Buffer | string>;
  /** The stdout writer (state lines). */
  output: MessageWriter;
  logger: Logger;
  /** Guards every byte the run writes: states, the dead-letter file, the dry run's bodies. */
  redactor: Redactor;
  /** FullStory's API; required unless `settings.dryRun`. `onThrottle` must hear every 429. */
  connect?: (hooks: { onThrottle: (retryAfterMs: number) => void }) => BatchApi;
  /** Aborted (with a `StopRequested`) at the first SIGINT or SIGTERM. */
  stop?: AbortSignal;
  /** Default: Node's clock and timers. */
  clock?: Clock;
  /** Named in input errors. Default `stdin`. */
  source?: string;
  /** Progress on stderr (singer-core's ProgressReporter): every 1024 records and each settled batch. */
  progress?: { update(text: string): void; done(text?: string): void };
  /** How long the jobs-in-flight cap stays lowered after a 429. Default 60 s. */
  throttleWindowMs?: number;
  /** Opens the dead-letter and dry-run files (tests inject failing ones). */
  openFile?: (path: string, flags: string) => Promise<LineFileHandle>;
}

/** An event of the read loop. */
type ReadEvent = { kind: 'input'; result: IteratorResult<ReadMessage[]> } | { kind: 'age' } | { kind: 'stop' };

/**
 * Run the target to the end of its input (or until it is stopped).
 * @returns the run's summary (also logged)
 * @throws ConfigError (exit 2: a path that cannot be written, a stream without data type), InputError
 *   (3), AuthError (4) / UnavailableError or ApiError (5), RejectedRecordsError (6) with
 *   `fail_on_rejected`, StopRequested (130/143), StdoutClosedError (141) — each after finishing what
 *   could be finished and emitting the last safe state.
 */
export async function run(deps: RunDeps): Promise<RunSummary> {
  const { settings, logger, output, redactor } = deps;
  const clock = deps.clock ?? systemClock;
  const source = deps.source ?? 'stdin';
  const openFile = deps.openFile ? { openFile: deps.openFile } : {};
  const connect = deps.connect;
  if (!settings.dryRun && !connect) throw new InternalError('run: a FullStory API is required unless dry_run is set');

  // Files first: a path that cannot be written fails the run before anything is read or sent.
  const deadLetter = await DeadLetterFile.open({
    path: settings.dryRun ? dryRunDeadLetterPath(settings.deadLetterPath) : settings.deadLetterPath,
    dryRun: settings.dryRun,
    redactor,
    clock,
    logger,
    ...openFile,
  });
  let bodies: LineFile | undefined;
  if (settings.dryRun && settings.dryRunPath !== undefined) {
    try {
      bodies = await LineFile.open(settings.dryRunPath, { mode: 'truncate', setting: 'dry_run_path', redactor, logger, ...openFile });
    } catch (err) {
      await deadLetter.close();
      throw err;
    }
  }

  // The one stop and failure channel; `giveUp` ends the calls of jobs still running at the stop bound.
  const control = new AbortController();
  const fail = (reason: unknown): void => {
    if (!control.signal.aborted) control.abort(reason);
  };
  const giveUp = new AbortController();
  const onStop = (): void => fail(deps.stop!.reason);
  if (deps.stop?.aborted) onStop();
  deps.stop?.addEventListener('abort', onStop, { once: true });

  const slots = new JobSlots({ max: settings.maxJobsInFlight, clock, windowMs: deps.throttleWindowMs ?? 60_000, logger });
  const api: BatchApi = settings.dryRun ? dryRunApi(bodies) : connect!({ onThrottle: (ms) => slots.throttle(ms) });

  const tally = new Tally();
  const checkpoints = new Checkpoints();
  // About as many buffers as batches alive at once (in flight, waiting, open).
  const keep = settings.maxJobsInFlight + 4;
  const pools = { requests: new BufferPool(keep), records: new BufferPool(keep) };
  const batcher = new Batcher({ batchSize: settings.batchSize, maxAgeMs: settings.maxBatchAgeSeconds * 1000, clock, pools });
  /** Sealed batches not yet settled (failed ones stay: no state may pass them). */
  const unsettled = new Set<Batch>();

  const reject = (stream: string, record: unknown, r: Omit<Rejection, 'ok'>, request?: unknown): void => {
    deadLetter.write({ stream, record, reason: r.reason, code: r.code, message: r.message, ...(request !== undefined ? { request } : {}) });
    tally.rejected(stream, record, r);
  };

  /** The first record not yet settled; a state before it is safe. */
  const lowestUnsettled = (): number => {
    let low = Infinity;
    for (const b of batcher.openBatches()) low = Math.min(low, b.firstSeq);
    for (const b of unsettled) {
      // With wait_for_jobs false a batch counts as safe once FullStory accepted it.
      if (!settings.waitForJobs && b.phase === 'created') continue;
      low = Math.min(low, b.firstSeq);
    }
    return low;
  };
  // Serialised, so states come out in order even when several jobs settle at once.
  let states: Promise<void> = Promise.resolve();
  const emitStates = (): Promise<void> => {
    states = states
      .then(async () => {
        const json = checkpoints.ready(lowestUnsettled());
        // A dry run imported nothing: it emits no state.
        if (json === undefined || settings.dryRun) return;
        // The dead-letter lines of the records before the state are on disk first.
        await deadLetter.flush();
        await output.writeLine(redactor.redact(json));
        checkpoints.wrote(json);
      })
      .catch(fail);
    return states;
  };

  const showProgress = (): void => {
    deps.progress?.update(
      `progress: records read=${checkpoints.recordsSeen} sent=${tally.sent} imported=${tally.imported} ` +
        `rejected=${tally.rejectedTotal} jobs_in_flight=${scheduler.inFlight}`,
    );
  };

  const jobs: JobContext = {
    api,
    clock,
    signal: giveUp.signal,
    pollIntervalMs: settings.jobPollIntervalSeconds * 1000,
    jobTimeoutMs: settings.jobTimeoutSeconds * 1000,
    logger,
    runStartedMs: clock.now(),
    runId: randomUUID(),
    jobsMade: new RecentSet(),
    reject,
    imported: (_stream, n) => {
      tally.imported += n;
    },
    created: (n) => {
      tally.jobs++;
      tally.sent += n;
    },
    ...(settings.waitForJobs ? {} : { onCreated: () => void emitStates() }),
  };
  const scheduler = new Scheduler({
    slots,
    stop: control.signal,
    load: (batch) => loadBatch(batch, jobs),
    onSettled: (batch) => {
      unsettled.delete(batch);
      releaseTexts(batch);
      void emitStates();
      showProgress();
    },
    onFailed: (batch, err) => {
      releaseTexts(batch);
      fail(err);
    },
  });
  const submit = (batch: Batch): Promise<void> => {
    unsettled.add(batch);
    return scheduler.submit(batch);
  };

  const namer = new PropertyNamer((from, to) => logger.info('property name rewritten to FullStory rules', { from, to }));
  const registry = new StreamRegistry({ settings, namer, logger, source });
  const route = createRouter({ registry, batcher, checkpoints, tally, deadLetter, reject, submit, emitStates, progress: showProgress, logger, source });

  // Read until the end of input, bad input, or a stop.
  let inputError: unknown;
  // Key properties drive nothing here (the uid comes from the mapping), so a SCHEMA without them is
  // read as `[]`, as Meltano SDK targets do (their conformance stream pk_updates.singer).
  const messages = readMessageBatches(deps.input, { source, keyPropertiesOptional: true });
  try {
    let pull: Promise<IteratorResult<ReadMessage[]>> | undefined;
    read: for (;;) {
      // Messages come in arrays, one per input chunk: fewer promise round trips per record. The next
      // chunk is pulled only once this one is handled, so backpressure still reaches stdin.
      pull ??= messages.next();
      const deadline = batcher.nextDeadline();
      const event = await nextEvent(pull, deadline === undefined ? undefined : deadline - clock.now(), control.signal, clock);
      if (event.kind === 'stop') break;
      if (event.kind === 'age') {
        for (const batch of batcher.sealAged(clock.now())) await submit(batch);
        // Nothing read since a skipped STATE, and nothing open any more: the batches end at it after all,
        // so it is a boundary (a rerun from it starts where this run goes on) and may go out once safe.
        if (checkpoints.skippedIsLast && batcher.atState() !== undefined) {
          checkpoints.promoteSkipped();
          void emitStates();
        }
        continue;
      }
      pull = undefined;
      if (event.result.done) break;
      for (const { line, message, text } of event.result.value) {
        if (control.signal.aborted) break read;
        const pending = route(message, line, text);
        if (pending) await pending;
      }
    }
  } catch (err) {
    // Bad input or a stream's config: finish what was read before it, then report it. Anything else
    // (a dead-letter file that cannot be written, a bug) stops the run.
    if (err instanceof InputError || (err instanceof ConfigError && !(err instanceof FileWriteError))) inputError = err;
    else fail(err);
  } finally {
    // Stop the reader (a no-op when it is done); nothing read after this point is used.
    void messages.return(undefined).catch(() => {});
  }

  if (!control.signal.aborted) {
    try {
      for (const batch of batcher.sealAll()) await submit(batch);
      // Everything read is sealed: the last state read may go out once it is safe, boundary or not.
      if (!control.signal.aborted) checkpoints.promoteSkipped();
    } catch (err) {
      fail(err);
    }
  }
  await finishJobs(scheduler, control.signal, giveUp, settings.stopTimeoutSeconds * 1000, clock, logger);
  slots.dispose();
  deps.stop?.removeEventListener('abort', onStop);

  await emitStates();
  for (const file of [deadLetter, bodies]) {
    try {
      await file?.close();
    } catch (err) {
      fail(err);
    }
  }

  let notSettled = 0;
  for (const b of batcher.openBatches()) notSettled += b.records.length;
  for (const b of unsettled) notSettled += unsettledRecords(b);
  const counts = registry.propertyCounts();
  const summary: RunSummary = {
    recordsRead: checkpoints.recordsSeen,
    sent: tally.sent,
    imported: tally.imported,
    rejected: tally.rejectedTotal,
    rejectedByTarget: tally.rejectedByTarget,
    rejectedByFullStory: tally.rejectedByFullStory,
    unaccounted: tally.unaccounted,
    unsettled: notSettled,
    unmatchedErrors: tally.unmatchedErrors,
    jobs: tally.jobs,
    statesEmitted: checkpoints.emitted,
    propertyNamesRewritten: namer.rewrites,
    propertiesStringified: counts.stringified,
    propertiesDropped: counts.dropped,
    deadLetterPath: deadLetter.path,
    dryRun: settings.dryRun,
  };
  deps.progress?.done();
  logSummary(logger, summary, tally);

  // The first failure stopped the run: report it before bad input found later.
  if (control.signal.aborted) throw control.signal.reason;
  if (inputError !== undefined) throw inputError;
  if (settings.failOnRejected && summary.rejected > 0) {
    throw new RejectedRecordsError(`${summary.rejected} record(s) rejected (fail_on_rejected is set); see ${deadLetter.path}`);
  }
  return summary;
}

/**
 * Wait for the running jobs. After a stop or a failure the wait is bounded by `boundMs`: then the jobs'
 * calls are aborted (`giveUp`), and their records stay unsettled.
 */
async function finishJobs(scheduler: Scheduler, stop: AbortSignal, giveUp: AbortController, boundMs: number, clock: Clock, logger: Logger): Promise<void> {
  const drained = scheduler.drain().then(() => true);
  if (!stop.aborted) {
    // A stop may still come while the last jobs run.
    const stopped = new Promise<false>((resolve) => stop.addEventListener('abort', () => resolve(false), { once: true }));
    if (await Promise.race([drained, stopped])) return;
  }
  const bound = new AbortController();
  const timeout = sleep(clock, boundMs, bound.signal).then(
    () => false,
    () => false,
  );
  const done = await Promise.race([drained, timeout]);
  bound.abort();
  if (done) return;
  logger.warn('stopped waiting for the jobs still running (stop_timeout_seconds); their records are not settled', { jobs: scheduler.inFlight });
  giveUp.abort(stop.reason);
  await scheduler.drain();
}

/** The next thing the read loop must act on: input, the oldest batch coming of age, or a stop. */
function nextEvent(
  pull: Promise<IteratorResult<ReadMessage[]>>,
  ageInMs: number | undefined,
  signal: AbortSignal,
  clock: Clock,
): Promise<ReadEvent> {
  if (signal.aborted) return Promise.resolve({ kind: 'stop' });
  if (ageInMs !== undefined && ageInMs <= 0) return Promise.resolve({ kind: 'age' });
  return new Promise<ReadEvent>((resolve, reject) => {
    let timer: TimerHandle | undefined;
    let settled = false;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      signal.removeEventListener('abort', onStop);
      settle();
    };
    const onStop = (): void => finish(() => resolve({ kind: 'stop' }));
    signal.addEventListener('abort', onStop, { once: true });
    if (ageInMs !== undefined) timer = clock.setTimeout(() => finish(() => resolve({ kind: 'age' })), ageInMs);
    pull.then(
      (result) => finish(() => resolve({ kind: 'input', result })),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}
