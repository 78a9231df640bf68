/**
 * The target's main loop: Singer messages in, FullStory batch jobs out, safe states on stdout.
 *
 * For each message, in input order:
 * - SCHEMA: route the stream (config), compile its validator and mapper. A changed SCHEMA first sends
 *   the stream's open batch, so a batch never mixes records of two schemas.
 * - RECORD: validate, map, add to the stream's batch; a full batch is submitted to the job pipeline,
 *   which waits while `max_jobs_in_flight` jobs are unfinished — and so does this loop, which stops
 *   reading stdin (backpressure). Rejected records go to the dead-letter file.
 * - STATE: remembered; written once every record before it is safe (state-tracker.ts).
 * A timer sends batches that reach `max_batch_age_seconds`.
 *
 * At the end (or at bad input) every open batch is sent, every job awaited and the newest safe state
 * written; then bad input is reported (exit 3) — nothing read after the bad line is sent or emitted.
 */

import {
  InputError,
  RejectedRecordsError,
  readMessageBatches,
  type Logger,
  type MessageWriter,
  type SchemaMessage,
  type RecordMessage,
  type StateMessage,
} from '@fullstory-singer/singer-core';
import { Batcher, type Batch } from './batcher.js';
import type { TargetSettings } from './config.js';
import { DeadLetterWriter } from './dead-letter.js';
import { DryRunSink } from './dry-run.js';
import { JobPipeline, type BatchApi } from './job-pipeline.js';
import { PropertyNamer } from './property-names.js';
import type { Rejection } from './rejection.js';
import { StateTracker } from './state-tracker.js';
import { StreamRegistry } from './streams.js';
import { logSummary, type RunSummary } from './summary.js';

/** What {@link runTarget} needs; everything with a side effect is passed in. */
export interface TargetDeps {
  settings: TargetSettings;
  /** Singer messages (stdin). */
  input: NodeJS.ReadableStream | AsyncIterable<Buffer | string>;
  /** The stdout writer (state lines). */
  output: MessageWriter;
  logger: Logger;
  /** FullStory server API; required unless `settings.dryRun`. Its `onThrottle` is set by the target. */
  api?: BatchApi & { onThrottle?: ((retryAfterMs: number) => void) | undefined };
  /** Named in input errors. Default `stdin`. */
  source?: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** How long the in-flight cap stays lowered after a 429 (default 60 s). */
  throttleWindowMs?: number;
  /** Progress on stderr (singer-core's ProgressReporter); updated every 1024 records and on each job end. */
  progress?: { update(text: string): void; done(text?: string): void };
}

interface Sink {
  submit(batch: Batch): Promise<void>;
  drain(): Promise<void>;
}

/**
 * Run the target to the end of its input.
 * @returns the run's summary (also logged).
 * @throws InputError (exit 3) for bad input, ConfigError (exit 2) for a stream without data type,
 *   AuthError (4) / UnavailableError or ApiError (5) from FullStory, RejectedRecordsError (6) when
 *   `fail_on_rejected` is set and records were rejected — each after finishing what could be finished.
 */
export async function runTarget(deps: TargetDeps): Promise<RunSummary> {
  const { settings, logger, output } = deps;
  const now = deps.now ?? Date.now;
  const source = deps.source ?? 'stdin';
  const deadLetter = new DeadLetterWriter({ path: settings.deadLetterPath, now });
  const tracker = new StateTracker({
    emit: (json) => output.writeLine(json),
    beforeEmit: () => deadLetter.flush(),
    enabled: !settings.dryRun,
  });
  // A failure outside the read loop (a job, a state write, an aged batch) stops reading at once, even
  // while stdin is quiet: `stopReading` settles the race in the read loop.
  let asyncFailure: unknown;
  let stopped = false;
  let wakeReader: (() => void) | undefined;
  const stopReading = (): void => {
    stopped = true;
    wakeReader?.();
  };
  const failAsync = (err: unknown): void => {
    asyncFailure ??= err;
    stopReading();
  };
  const emitSafeStates = (): void => {
    tracker.emitReady().catch(failAsync);
  };

  let rejectedLocally = 0;
  const showProgress = (): void => {
    if (!deps.progress) return;
    const st = pipeline?.stats;
    deps.progress.update(
      `progress: records read=${tracker.recordsSeen} sent=${st?.sent ?? dryRun?.sent ?? 0} imported=${st?.imported ?? 0} ` +
        `rejected=${rejectedLocally + (st?.rejected ?? 0)} jobs_in_flight=${pipeline?.inFlight ?? 0}`,
    );
  };

  let sink: Sink;
  let pipeline: JobPipeline | undefined;
  let dryRun: DryRunSink | undefined;
  if (settings.dryRun) {
    dryRun = new DryRunSink(settings.dryRunPath);
    sink = dryRun;
  } else {
    if (!deps.api) throw new Error('runTarget: api is required unless dry run');
    pipeline = new JobPipeline({
      api: deps.api,
      maxJobsInFlight: settings.maxJobsInFlight,
      pollIntervalMs: settings.jobPollIntervalSeconds * 1000,
      jobTimeoutMs: settings.jobTimeoutSeconds * 1000,
      waitForJobs: settings.waitForJobs,
      deadLetter,
      logger,
      now,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      ...(deps.throttleWindowMs !== undefined ? { throttleWindowMs: deps.throttleWindowMs } : {}),
      onFatal: () => stopReading(),
      onBatchSafe: (batch) => {
        tracker.close(batch);
        emitSafeStates();
        showProgress();
      },
    });
    const p = pipeline;
    deps.api.onThrottle = (ms) => p.throttle(ms);
    sink = pipeline;
  }

  const batcher = new Batcher({
    batchSize: settings.batchSize,
    maxAgeMs: settings.maxBatchAgeSeconds * 1000,
    now,
    onOpen: (batch) => tracker.open(batch),
  });
  const send = async (batch: Batch): Promise<void> => {
    await sink.submit(batch);
    // A dry run has no job to wait for: the batch is done once written.
    if (dryRun) tracker.close(batch);
  };

  const namer = new PropertyNamer((from, to) => logger.info('property name rewritten to FullStory rules', { from, to }));
  const registry = new StreamRegistry({ settings, namer, logger, source });
  const skippedTypes = new Set<string>();

  const rejectRecord = async (stream: string, record: unknown, rej: Rejection): Promise<void> => {
    rejectedLocally++;
    await deadLetter.write({ stream, record, reason: rej.reason, code: rej.code, message: rej.message });
  };

  const onSchema = async (message: SchemaMessage, line: number): Promise<void> => {
    const next = registry.compile(message, line);
    if (!next) return;
    // The open batch was mapped under the old SCHEMA: send it before the new one takes effect.
    const open = batcher.take(message.stream);
    if (open) await send(open);
    registry.activate(message.stream, next);
  };

  /** Handle one RECORD; returns a promise only when there is something to wait for (hot path). */
  const onRecord = (message: RecordMessage, line: number): Promise<void> | undefined => {
    const st = registry.get(message.stream);
    if (!st) {
      throw new InputError(`${source}:${line}: RECORD for stream "${message.stream}" arrived before its SCHEMA`, { line, source });
    }
    const record = message.record;
    const seq = tracker.nextSeq();
    if ((seq & 1023) === 0) showProgress();
    if (st.validate) {
      const rej = st.validate(record);
      if (rej) return rejectRecord(message.stream, record, rej);
    }
    const mapped = st.mapper.map(record);
    if (!mapped.ok) return rejectRecord(message.stream, record, mapped);
    const full = batcher.add(message.stream, st.route.kind, mapped.request, record, seq);
    return full ? send(full) : undefined;
  };

  // Batches that reach max_batch_age_seconds go out even while input is quiet.
  const maxAgeMs = settings.maxBatchAgeSeconds * 1000;
  let ageSending = false;
  const ageTimer = setInterval(
    () => {
      if (ageSending || batcher.size === 0) return;
      const aged = batcher.takeAged(now());
      if (aged.length === 0) return;
      ageSending = true;
      (async () => {
        for (const b of aged) await send(b);
      })()
        .catch(failAsync)
        .finally(() => {
          ageSending = false;
        });
    },
    Math.min(1000, Math.max(10, maxAgeMs / 4)),
  );
  ageTimer.unref();

  let stopError: unknown;
  // Key properties drive nothing here (the uid comes from the mapping), so a SCHEMA without them is
  // read as `[]`, as Meltano SDK targets do (conformance stream pk_updates.singer).
  const messages = readMessageBatches(deps.input, { source, keyPropertiesOptional: true });
  try {
    // Messages come in arrays, one per input chunk: fewer promise round trips per record. Pulling the
    // next chunk waits until this loop is done with the last one, so backpressure still reaches stdin.
    read: for (;;) {
      if (stopped) break;
      const pull = messages.next();
      // If reading stops first, this pull is left behind; its outcome no longer matters.
      pull.catch(() => {});
      // A fresh stop promise per pull: racing one long-lived promise would keep every chunk alive.
      const stop = new Promise<'stop'>((res) => (wakeReader = () => res('stop')));
      const next = await Promise.race([pull, stop]);
      wakeReader = undefined;
      if (next === 'stop' || next.done) break;
      for (const { line, message } of next.value) {
        if (pipeline?.fatal || asyncFailure) break read;
        switch (message.type) {
          case 'RECORD': {
            const pending = onRecord(message as RecordMessage, line);
            if (pending) await pending;
            break;
          }
          case 'SCHEMA':
            await onSchema(message as SchemaMessage, line);
            break;
          case 'STATE':
            if (tracker.addState((message as StateMessage).value)) await tracker.emitReady();
            break;
          default:
            if (!skippedTypes.has(message.type)) {
              skippedTypes.add(message.type);
              logger.info('message type not used by this target; skipped', { type: message.type, line });
            }
        }
      }
    }
  } catch (err) {
    // Bad input or config: finish what was read before it, then report it.
    stopError = err;
  } finally {
    clearInterval(ageTimer);
    // Stop the reader (a no-op when it is done); nothing read after this point is used.
    void messages.return(undefined).catch(() => {});
  }

  // Send what is left, wait for every job, emit the newest safe state.
  // Each step runs even if an earlier one failed: jobs already running are always awaited (their
  // rejected records still reach the dead-letter file) and safe states still go out.
  let finishError: unknown;
  const attempt = async (step: () => Promise<void>): Promise<void> => {
    try {
      await step();
    } catch (err) {
      finishError ??= err;
    }
  };
  await attempt(async () => {
    while (ageSending) await new Promise((res) => setTimeout(res, 5));
    if (!pipeline?.fatal && !asyncFailure) {
      for (const b of batcher.takeAll()) await send(b);
    }
  });
  await attempt(() => sink.drain());
  await attempt(() => tracker.emitReady());
  await attempt(() => deadLetter.close());

  const stats = pipeline?.stats;
  const propertyCounts = registry.propertyCounts();
  const summary: RunSummary = {
    recordsRead: tracker.recordsSeen,
    sent: stats?.sent ?? dryRun?.sent ?? 0,
    imported: stats?.imported ?? 0,
    rejectedLocally,
    rejectedByFullStory: stats?.rejected ?? 0,
    unaccounted: stats?.unaccounted ?? 0,
    jobs: stats?.jobsCreated ?? dryRun?.batches ?? 0,
    statesEmitted: tracker.emitted,
    propertyNamesRewritten: namer.rewrites,
    propertiesStringified: propertyCounts.stringified,
    propertiesDropped: propertyCounts.dropped,
    deadLettered: deadLetter.count,
    deadLetterPath: settings.deadLetterPath,
    dryRun: settings.dryRun,
  };
  deps.progress?.done();
  logSummary(logger, summary);

  // Report the first failure: a FullStory failure (it stopped the run) before bad input found later.
  const failure = pipeline?.fatal ?? asyncFailure ?? finishError ?? stopError;
  if (failure) throw failure;
  if (settings.failOnRejected && deadLetter.count > 0) {
    throw new RejectedRecordsError(
      `${deadLetter.count} record(s) rejected (fail_on_rejected is set); see ${settings.deadLetterPath}`,
    );
  }
  return summary;
}
