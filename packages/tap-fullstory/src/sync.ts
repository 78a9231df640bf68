/**
 * The sync of the `events` stream: list bundles from the cursor, then for each bundle in order
 * download → decode → split → RECORD lines, with mid-bundle checkpoints and a STATE after each
 * bundle emitted whole (spec/tap.md "The bundle-aware cursor").
 *
 * Failure rule: a bundle body that breaks off, stalls, or turns out truncated or corrupt is
 * downloaded again (up to `maxRetries` times, with backoff) and the events already emitted in this
 * run are skipped, so nothing is emitted twice within a run; the cursor never passes a bundle that
 * was not emitted whole. Giving up is an UnavailableError (exit 5).
 */
import type { Readable } from 'node:stream';
import { schemaMessage, stateMessage, UnavailableError, isSingerError } from '@fullstory-singer/singer-core';
import type { JsonSchema, Logger } from '@fullstory-singer/singer-core';
import { BodyInterruptedError, backoffDelay, isRetryableNetworkError } from '@fullstory-singer/fullstory-client';
import { ArraySplitter, BundleFormatError } from './array-splitter.js';
import type { BundleSource } from './bundle-source.js';
import {
  EVENTS_STREAM,
  checkpoint,
  completeBundle,
  listStart,
  planBundles,
  readCursor,
  stateWithCursor,
  unixFromIso,
} from './cursor.js';
import type { EventsCursor, PlannedBundle } from './cursor.js';
import { decodeBody, isZlibError } from './decode-body.js';
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
  /** Named in errors about the state (the state file path). */
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
  /** Clock for `time_extracted` and throughput (default: the real one). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
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
  const { source, writer, logger, state } = options;
  const now = options.now ?? Date.now;
  let cursor: EventsCursor = readCursor(state, options.stateSource);
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

  writer.writeMessage(schemaMessage(EVENTS_STREAM, options.schema, EVENTS_KEY_PROPERTIES));
  const endSeconds = options.endDate === undefined ? undefined : unixFromIso(options.endDate);
  const listed = await source.list(listStart(cursor, options.startDate), endSeconds);
  const plan = planBundles(listed, cursor, endSeconds);
  logger.info(`found ${plan.length} bundle(s) to sync`, { listed: listed.length, list_calls: source.listCalls });

  const started = now();
  // The next bundle's download starts while the current one is emitted (within the pace).
  let prefetched: Promise<Readable> | undefined;
  const prefetch = (bundle: PlannedBundle | undefined): void => {
    prefetched = bundle === undefined ? undefined : openQuietly(source, bundle.id);
  };
  try {
    prefetch(plan[0]);
    for (let k = 0; k < plan.length; k++) {
      const bundle = plan[k]!;
      const opening = prefetched!;
      const records = await emitBundle(bundle, opening, () => prefetch(plan[k + 1]), {
        ...options,
        now,
        onCheckpoint: (offset) => {
          cursor = checkpoint(cursor, bundle, offset);
          emitState();
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

/** Opens a download in the background; its failure is seen when it is awaited, never as an unhandled rejection. */
function openQuietly(source: BundleSource, id: number | bigint): Promise<Readable> {
  const opening = source.open(id).then((body) => {
    // A body that breaks before we read it must not be an uncaught 'error' event; the iteration still sees it.
    body.on('error', () => undefined);
    return body;
  });
  opening.catch(() => undefined);
  return opening;
}

interface EmitOptions extends SyncOptions {
  now: () => number;
  onCheckpoint: (offset: number) => void;
  onProgress: (records: number, bytes: number) => void;
}

/** True for failures of a bundle body that another download may cure. */
export function isBundleRetryable(err: unknown): boolean {
  if (err instanceof BundleFormatError || err instanceof BodyInterruptedError || isZlibError(err)) return true;
  // Other SingerErrors (auth, refusals, retries exhausted before the response started) are final.
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
  const { writer, logger, stateEveryRecords: every } = options;
  writer.startBundle({
    stream: EVENTS_STREAM,
    bundleId: bundle.id,
    timeExtracted: new Date(options.now()).toISOString(),
    ...(options.dropFields ? { dropFields: options.dropFields } : {}),
  });
  let skip = bundle.skip;
  if (skip > 0) logger.info(`resuming bundle ${bundle.id} after its first ${skip} events (from the state)`);
  let records = 0;
  let bytes = 0;
  let pendingCheckpoint = -1;
  let nextStarted = false;
  for (let attempt = 0; ; attempt++) {
    let index = 0;
    const splitter = new ArraySplitter((chunk, start, end, hasNewline) => {
      const i = index++;
      if (i < skip) return;
      // The checkpoint after record i-1 is written just before record i, so the bundle's last
      // record is followed by the whole-bundle STATE rather than a redundant checkpoint.
      if (pendingCheckpoint >= 0) {
        options.onCheckpoint(pendingCheckpoint);
        pendingCheckpoint = -1;
      }
      writer.writeEvent(i, chunk, start, end, hasNewline);
      records++;
      if ((i + 1) % every === 0) pendingCheckpoint = i + 1;
    });
    try {
      const body = attempt === 0 ? await firstOpen : await options.source.open(bundle.id);
      if (!nextStarted) {
        nextStarted = true;
        startNext();
      }
      for await (const chunk of decodeBody(body)) {
        splitter.push(chunk);
        await writer.drain();
        options.onProgress(records, bytes + splitter.bytes);
      }
      splitter.end();
      bytes += splitter.bytes;
      if (index < skip) {
        logger.warn(`bundle ${bundle.id} has ${index} events, fewer than the ${skip} already emitted; nothing more to emit from it`);
      }
      return { records, bytes };
    } catch (err) {
      bytes += splitter.bytes;
      if (!isBundleRetryable(err)) throw err;
      skip = Math.max(skip, index);
      const reason = (err as Error).message;
      if (attempt >= options.maxRetries) {
        throw new UnavailableError(
          `bundle ${bundle.id} did not arrive whole after ${attempt + 1} download(s): ${reason}`,
          { cause: err },
        );
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
      await (options.sleep ?? defaultSleep)(wait);
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
