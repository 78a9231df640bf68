/**
 * The sync of the `events` stream: list bundles from the cursor, then for each bundle in order
 * download → decode → split and validate → RECORD lines, with mid-bundle checkpoints and a STATE
 * after each bundle emitted whole (README "State and the bundle-aware cursor").
 *
 * Failure rule: a bundle body that breaks off, stalls, or turns out truncated, corrupt or holding
 * an event that is not valid JSON is downloaded again (up to `maxRetries` times, with backoff) and
 * the events already emitted in this run are skipped, so nothing is emitted twice within a run;
 * the cursor never passes a bundle that was not emitted whole. Giving up is an UnavailableError
 * (exit 5). A closed stdout is never retried (it is not the download's fault).
 *
 * Stop rule: when `signal` aborts (the first SIGINT or SIGTERM), the sync stops before the next
 * record, writes a STATE that covers exactly the records written so far, and throws the signal's
 * StopRequested; every wait (pace, download, backoff) ends at once.
 */
import type { Readable } from 'node:stream';
import { InputError, StopRequested, UnavailableError, isSingerError, schemaMessage, stateMessage } from '@fullstory-singer/singer-core';
import type { JsonSchema, Logger } from '@fullstory-singer/singer-core';
import { ApiError, BodyInterruptedError, backoffDelay, isRetryableNetworkError } from '@fullstory-singer/fullstory-client';
import { ArraySplitter, BundleFormatError } from './array-splitter.js';
import type { BundleSource } from './bundle-source.js';
import {
  EVENTS_STREAM,
  checkpoint,
  completeBundle,
  isoFromUnix,
  listStart,
  planBundles,
  readCursor,
  stateWithCursor,
  unixFromIso,
} from './cursor.js';
import type { EventsCursor, PlannedBundle } from './cursor.js';
import { MAX_BYTES_AFTER_DATA, decodeBody, isZlibError } from './decode-body.js';
import { abortableSleep } from './pacer.js';
import type { RecordWriter } from './record-writer.js';

/** Key fields of the events stream: together they name one event exactly. */
export const EVENTS_KEY_PROPERTIES = ['_sdc_bundle_id', '_sdc_bundle_index'];

/** Where progress lines go (singer-core's ProgressReporter fits). */
export interface ProgressSink {
  update(text: string, completion?: { done: number; total: number }): void;
  done(text?: string): void;
}

/** Everything {@link syncEvents} needs; clients, clock and writer are passed in. */
export interface SyncOptions {
  source: BundleSource;
  writer: RecordWriter;
  logger: Logger;
  progress?: ProgressSink;
  /** The input state (from `--state`), `{}` when none. */
  state: Record<string, unknown>;
  /** Named in errors about the state (the state file path); absent when no state was given. */
  stateSource?: string;
  startDate: string;
  endDate?: string;
  stateEveryRecords: number;
  /** Re-downloads of one bundle after a broken, truncated or corrupt body, before giving up. */
  maxRetries: number;
  /** Whether the catalog selects the stream (true without a catalog). */
  selected: boolean;
  /** The SCHEMA message body (already narrowed to the selected fields). */
  schema: JsonSchema;
  /** Top-level fields not to emit (deselected in the catalog). */
  dropFields?: ReadonlySet<string>;
  /** Aborted to stop gracefully (see the module comment); its `reason` is what is thrown. */
  signal?: AbortSignal;
  /** Clock for `time_extracted` and throughput (default: the real one). */
  now?: () => number;
  /** Waits between re-downloads (default: a timer that `signal` cancels). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** First backoff step between re-downloads of a bundle, ms (default 1000). */
  backoffBaseMs?: number;
}

/** What a sync did. */
export interface SyncSummary {
  bundles: number;
  records: number;
  /** Uncompressed body bytes scanned. */
  bytes: number;
  /** The final state value emitted. */
  state: Record<string, unknown>;
}

/** Runs the sync; resolves when every message is written. Throws SingerErrors (see module comment). */
export async function syncEvents(options: SyncOptions): Promise<SyncSummary> {
  const { source, writer, logger, state, signal } = options;
  const now = options.now ?? Date.now;
  const stateName = options.stateSource ?? 'state';
  let cursor: EventsCursor = readCursor(state, stateName, (message) => logger.warn(message));
  const emitState = (): Record<string, unknown> => {
    const value = stateWithCursor(state, cursor);
    writer.writeMessage(stateMessage(value));
    return value;
  };
  const summary: SyncSummary = { bundles: 0, records: 0, bytes: 0, state };

  if (!options.selected) {
    logger.info('stream events is not selected in the catalog; nothing to sync');
    summary.state = emitState();
    await writer.flush();
    return summary;
  }
  logResumePoint(logger, cursor, options);

  writer.writeMessage(schemaMessage(EVENTS_STREAM, options.schema, EVENTS_KEY_PROPERTIES));
  const endSeconds = options.endDate === undefined ? undefined : unixFromIso(options.endDate);
  let plan: PlannedBundle[] = [];
  const started = now();
  // The next bundle's download starts while the current one is emitted (within the pace).
  let prefetched: Promise<Readable> | undefined;
  const prefetch = (bundle: PlannedBundle | undefined): void => {
    prefetched = bundle === undefined ? undefined : openQuietly(source, bundle.id, signal);
  };
  try {
    const listed = await untilStopped(source.list(listStart(cursor, options.startDate), endSeconds), signal);
    const planned = planBundles(listed, cursor, endSeconds);
    plan = planned.bundles;
    if (planned.stale.length > 0) {
      logger.warn(
        `export/list answered ${planned.stale.length} bundle(s) that end no later than the bookmark or an earlier bundle ` +
          `(ids ${planned.stale.map((b) => String(b.id)).join(', ')}): skipped, so the bookmark never goes back`,
      );
    }
    logger.info(`found ${plan.length} bundle(s) to sync`, { listed: listed.length, list_calls: source.listCalls });
    prefetch(plan[0]);
    for (let k = 0; k < plan.length; k++) {
      const bundle = plan[k]!;
      const opening = prefetched!;
      const records = await emitBundle(bundle, opening, () => prefetch(plan[k + 1]), {
        ...options,
        stateName,
        now,
        onCheckpoint: (offset) => {
          cursor = checkpoint(cursor, bundle, offset);
          emitState();
        },
        onStopAt: (offset) => {
          cursor = checkpoint(cursor, bundle, offset);
        },
        onProgress: (bundleRecords, bytes) => {
          const seconds = Math.max((now() - started) / 1000, 0.001);
          const mb = (summary.bytes + bytes) / 1e6;
          options.progress?.update(
            `events: bundle ${k + 1} of ${plan.length}, ${summary.records + bundleRecords} records, ${(mb / seconds).toFixed(1)} MB/s`,
            { done: k, total: plan.length },
          );
        },
      });
      summary.bundles++;
      summary.records += records.records;
      summary.bytes += records.bytes;
      cursor = completeBundle(bundle);
      summary.state = emitState();
      await writer.flush();
      logger.metric('counter', 'record_count', records.records, { stream: EVENTS_STREAM, bundle_id: String(bundle.id) });
    }
  } catch (err) {
    if (signal?.aborted) {
      // The last line on stdout is a STATE covering exactly the records before it.
      summary.state = emitState();
      await writer.flush().catch(() => undefined);
      throw stopped(signal.reason, writer.records);
    }
    // Whatever was emitted (records and checkpoints) still goes out, so a rerun resumes from the last checkpoint.
    await writer.flush().catch(() => undefined);
    throw err;
  } finally {
    // An abandoned prefetch must not keep a socket (and the process) alive.
    if (prefetched) prefetched.then((body) => body.destroy()).catch(() => undefined);
  }
  if (plan.length === 0) {
    // Nothing new: still one STATE, so runners keep their bookmark.
    summary.state = emitState();
  }
  await writer.flush();
  const seconds = Math.max((now() - started) / 1000, 0.001);
  options.progress?.done(
    `events: ${summary.bundles} bundle(s), ${summary.records} records, ${(summary.bytes / 1e6 / seconds).toFixed(1)} MB/s`,
  );
  return summary;
}

/** The error a stop ends the run with: the signal's, saying how far the run got (runMain prints it as the last line). */
function stopped(reason: unknown, records: number): unknown {
  if (!(reason instanceof StopRequested)) return reason;
  return new StopRequested(reason.signal, `${reason.message}: stopped after ${records} record(s); the last STATE printed covers every one of them`);
}

/** One INFO line saying where this run starts: the bookmark (and checkpoint) of the state, or start_date. */
function logResumePoint(logger: Logger, cursor: EventsCursor, options: SyncOptions): void {
  const ip = cursor.inProgress;
  if (cursor.lastBundleStop === undefined && ip === undefined) {
    if (options.stateSource !== undefined) {
      logger.warn(`state file ${options.stateSource} holds no bookmark for events: a full sync from start_date ${options.startDate}`);
    } else {
      logger.info(`no state: syncing from start_date ${options.startDate}`);
    }
    return;
  }
  const after =
    cursor.lastBundleStop === undefined
      ? `start_date ${options.startDate}`
      : `bundle ${cursor.lastBundleId === undefined ? '(id not recorded)' : String(cursor.lastBundleId)} (last_bundle_stop ${cursor.lastBundleStop})`;
  const mid = ip === undefined ? '' : `; bundle ${String(ip.bundleId)} again from event ${ip.offset} (in_progress)`;
  logger.info(`resuming from the state: after ${after}${mid}`);
}

/** Opens a download in the background; its failure is seen when it is awaited, never as an unhandled rejection. */
function openQuietly(source: BundleSource, id: number | bigint, signal: AbortSignal | undefined): Promise<Readable> {
  const opening = source.open(id, signal).then((body) => {
    // A body that breaks before we read it must not be an uncaught 'error' event; the iteration still sees it.
    body.on('error', () => undefined);
    return body;
  });
  opening.catch(() => undefined);
  return opening;
}

/** `promise`, or a rejection with the stop reason as soon as `signal` aborts. */
function untilStopped<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

interface EmitOptions extends SyncOptions {
  stateName: string;
  now: () => number;
  onCheckpoint: (offset: number) => void;
  /** Moves the cursor to `offset` events of the bundle without writing a STATE (the stop writes it). */
  onStopAt: (offset: number) => void;
  onProgress: (records: number, bytes: number) => void;
}

/** True for failures of a bundle body that another download may cure. */
export function isBundleRetryable(err: unknown): boolean {
  if (err instanceof BundleFormatError || err instanceof BodyInterruptedError || isZlibError(err)) return true;
  // Other SingerErrors (auth, refusals, retries exhausted before the response started, a closed
  // stdout, a stop request) are final.
  return !isSingerError(err) && isRetryableNetworkError(err);
}

/**
 * Emits one bundle whole, skipping its first `bundle.skip` events; re-downloads on retryable
 * failures. `startNext` is called once this bundle's body has started, to prefetch the next one.
 */
async function emitBundle(
  bundle: PlannedBundle,
  firstOpen: Promise<Readable>,
  startNext: () => void,
  options: EmitOptions,
): Promise<{ records: number; bytes: number }> {
  const { writer, logger, signal, stateEveryRecords: every } = options;
  writer.startBundle({
    stream: EVENTS_STREAM,
    bundleId: bundle.id,
    timeExtracted: new Date(options.now()).toISOString(),
    ...(options.dropFields ? { dropFields: options.dropFields } : {}),
  });
  let skip = bundle.skip;
  let records = 0;
  let bytes = 0;
  let pendingCheckpoint = -1;
  let nextStarted = false;
  /** Index of the next event to emit: every event before it is on stdout (or was, in an earlier run). */
  let next = skip;
  for (let attempt = 0; ; attempt++) {
    let index = 0;
    const notices: string[] = [];
    const splitter = new ArraySplitter((chunk, start, end, flags) => {
      const i = index++;
      if (i < skip) return;
      if (signal?.aborted) throw signal.reason;
      // The checkpoint after record i-1 is written just before record i, so the bundle's last
      // record is followed by the whole-bundle STATE rather than a redundant checkpoint.
      if (pendingCheckpoint >= 0) {
        options.onCheckpoint(pendingCheckpoint);
        pendingCheckpoint = -1;
      }
      writer.writeEvent(i, chunk, start, end, flags);
      records++;
      next = i + 1;
      if (next % every === 0) pendingCheckpoint = next;
    });
    let body: Readable | undefined;
    const stopBody = (): void => {
      body?.destroy();
    };
    signal?.addEventListener('abort', stopBody, { once: true });
    try {
      body = await untilStopped(attempt === 0 ? firstOpen : options.source.open(bundle.id, signal), signal);
      if (!nextStarted) {
        nextStarted = true;
        startNext();
      }
      const decoded = decodeBody(body, { isComplete: () => splitter.done, onNotice: (text) => notices.push(text) });
      for await (const chunk of decoded) {
        splitter.push(chunk);
        await writer.drain();
        options.onProgress(records, bytes + splitter.bytes);
        // Past a complete array, a body that goes on and on is let go.
        if (splitter.bytesAfterArray > MAX_BYTES_AFTER_DATA) break;
      }
      splitter.end();
      bytes += splitter.bytes;
      if (index < skip) {
        logger.warn(`bundle ${bundle.id} has ${index} events, fewer than the ${skip} already emitted; nothing more to emit from it`);
      }
      logRepairs(logger, bundle, writer, splitter, notices);
      return { records, bytes };
    } catch (err) {
      bytes += splitter.bytes;
      if (signal?.aborted) {
        // Stopped: a checkpoint exactly at the records written so far (the caller writes the STATE).
        if (next > 0) options.onStopAt(next);
        throw signal.reason;
      }
      if (bundle.fromState && err instanceof ApiError && err.status === 404) throw goneFromState(bundle, options);
      if (!isBundleRetryable(err)) throw err;
      skip = Math.max(skip, index);
      const reason = (err as Error).message;
      if (attempt >= options.maxRetries) {
        throw new UnavailableError(`bundle ${bundle.id} did not arrive whole after ${attempt + 1} download(s): ${reason}`, { cause: err });
      }
      const wait = backoffDelay(attempt, {
        ...(options.backoffBaseMs !== undefined ? { baseMs: options.backoffBaseMs } : {}),
        ...(options.random ? { random: options.random } : {}),
      });
      logger.warn(`bundle ${bundle.id} broke off after ${index} events; downloading it again`, {
        reason,
        attempt: attempt + 1,
        wait_ms: wait,
      });
      await (options.sleep ?? abortableSleep)(wait, signal);
    } finally {
      signal?.removeEventListener('abort', stopBody);
    }
  }
}

/** One WARN line per kind of repair the bundle needed (each says what was done). */
function logRepairs(logger: Logger, bundle: PlannedBundle, writer: RecordWriter, splitter: ArraySplitter, notices: string[]): void {
  const { ownKeyFields, badUtf8 } = writer.bundleRepairs;
  if (ownKeyFields) {
    logger.warn(
      `bundle ${bundle.id}: ${ownKeyFields.count} event(s) carried their own _sdc_bundle_id or _sdc_bundle_index ` +
        `(first: event ${ownKeyFields.first}); the tap's key fields replaced them`,
    );
  }
  if (badUtf8) {
    logger.warn(
      `bundle ${bundle.id}: ${badUtf8.count} event(s) held bytes that are not UTF-8 (first: event ${badUtf8.first}); ` +
        'they were replaced by U+FFFD',
    );
  }
  if (splitter.trailing) {
    const count = splitter.bytesAfterArray > MAX_BYTES_AFTER_DATA ? `more than ${MAX_BYTES_AFTER_DATA}` : String(splitter.trailing.bytes);
    logger.warn(`bundle ${bundle.id}: ${count} byte(s) after the end of its array were ignored (starting with ${splitter.trailing.first})`);
  }
  for (const text of notices) logger.warn(`bundle ${bundle.id}: ${text}`);
}

/** The in-progress bundle of the state no longer exists (404): exit 3, saying how to go on. */
function goneFromState(bundle: PlannedBundle, options: EmitOptions): InputError {
  const window = `${isoFromUnix(bundle.start)} to ${isoFromUnix(bundle.stop)}`;
  return new InputError(
    `${options.stateName}: bookmark events.in_progress names bundle ${bundle.id} (${window}), which FullStory no longer ` +
      `serves (404, e.g. past its retention). To go on without the rest of it, remove "in_progress" from ` +
      `bookmarks.events in the state: the tap then resumes after last_bundle_stop`,
    { source: options.stateName },
  );
}
