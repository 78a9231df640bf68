/**
 * The sync of a Data Export stream (`events`): list bundles from the cursor, then for each bundle in
 * order download → decode → split and validate → RECORD lines (body-records.ts), with mid-bundle
 * checkpoints and a STATE after each bundle emitted whole (README "State and the bundle-aware cursor").
 *
 * Failure and stop rules: see body-records.ts. The cursor never passes a bundle that was not
 * emitted whole; a stop writes a STATE that covers exactly the records written so far and throws
 * the signal's StopRequested.
 */
import type { Readable } from 'node:stream';
import { InputError, StopRequested, schemaMessage, stateMessage } from '@fullstory-singer/singer-core';
import type { Logger } from '@fullstory-singer/singer-core';
import { ApiError } from '@fullstory-singer/fullstory-client';
import { ArraySplitter } from './array-splitter.js';
import { emitBody, untilStopped, type SyncCommonOptions } from './body-records.js';
import type { BundleSource } from './bundle-source.js';
import { bundleBookmark, checkpoint, completeBundle, listStart, planBundles, readCursor, stateWithBookmark } from './cursor.js';
import type { EventsCursor, PlannedBundle } from './cursor.js';
import type { StreamSelection } from './discovery.js';
import type { RecordWriter } from './record-writer.js';
import type { BundleStreamDefinition } from './streams/types.js';
import { isoFromUnix, unixFromIso } from './time.js';

/** Everything {@link syncBundles} needs. */
interface SyncOptions extends SyncCommonOptions {
  source: BundleSource;
  /** The stream's definition (for its bookmark, also when not selected). */
  stream: BundleStreamDefinition;
  /** What the catalog selected of the stream; undefined when it does not select it. */
  selection: StreamSelection<BundleStreamDefinition> | undefined;
}

/** What a sync did. */
interface SyncSummary {
  bundles: number;
  records: number;
  /** Uncompressed body bytes scanned. */
  bytes: number;
  /** The final state value emitted. */
  state: Record<string, unknown>;
}

/** Runs the sync; resolves when every message is written. Throws SingerErrors (see module comment). */
export async function syncBundles(options: SyncOptions): Promise<SyncSummary> {
  const { source, writer, logger, state, signal, stream } = options;
  const now = options.now ?? Date.now;
  const stateName = options.stateSource ?? 'state';
  let cursor: EventsCursor = readCursor(state, stream.name, stateName, (message) => logger.warn(message));
  const emitState = (): Record<string, unknown> => {
    const value = stateWithBookmark(state, stream.name, bundleBookmark(cursor));
    writer.writeMessage(stateMessage(value));
    return value;
  };
  const summary: SyncSummary = { bundles: 0, records: 0, bytes: 0, state };
  const selection = options.selection;

  if (!selection) {
    logger.info(`stream ${stream.name} is not selected in the catalog; nothing to sync`);
    summary.state = emitState();
    await writer.flush();
    return summary;
  }
  logResumePoint(logger, cursor, options);

  writer.writeMessage(schemaMessage(stream.name, selection.schema, [...stream.keyProperties]));
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
      const first = prefetched!;
      const emitted = await emitBody({
        ...options,
        label: `bundle ${bundle.id}`,
        noun: 'event',
        open: (attempt) => (attempt === 0 ? first : source.open(bundle.id, signal)),
        splitter: (onElement) => new ArraySplitter(onElement),
        context: {
          stream: stream.name,
          keys: stream.keys,
          origin: bundle.id,
          timeExtracted: new Date(now()).toISOString(),
          ...(selection.dropFields.size > 0 ? { dropFields: selection.dropFields } : {}),
        },
        skip: bundle.skip,
        onStarted: () => prefetch(plan[k + 1]),
        onCheckpoint: (offset) => {
          cursor = checkpoint(cursor, bundle, offset);
          emitState();
        },
        onStopAt: (offset) => {
          cursor = checkpoint(cursor, bundle, offset);
        },
        explain: (err) => (bundle.fromState && err instanceof ApiError && err.status === 404 ? goneFromState(stream.name, bundle, stateName) : undefined),
        onProgress: (bundleRecords, bytes) => {
          const seconds = Math.max((now() - started) / 1000, 0.001);
          const mb = (summary.bytes + bytes) / 1e6;
          options.progress?.update(
            `${stream.name}: bundle ${k + 1} of ${plan.length}, ${summary.records + bundleRecords} records, ${(mb / seconds).toFixed(1)} MB/s`,
            { done: k, total: plan.length },
          );
        },
      });
      summary.bundles++;
      summary.records += emitted.records;
      summary.bytes += emitted.bytes;
      cursor = completeBundle(bundle);
      summary.state = emitState();
      await writer.flush();
      logger.metric('counter', 'record_count', emitted.records, { stream: stream.name, bundle_id: String(bundle.id) });
    }
  } catch (err) {
    if (signal?.aborted) {
      // The last line on stdout is a STATE covering exactly the records before it.
      summary.state = emitState();
      await writer.flush().catch(() => undefined);
      throw stopped(signal.reason, writer);
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
    `${stream.name}: ${summary.bundles} bundle(s), ${summary.records} records, ${(summary.bytes / 1e6 / seconds).toFixed(1)} MB/s`,
  );
  return summary;
}

/** The error a stop ends the run with: the signal's, saying how far the run got (runMain prints it as the last line). */
export function stopped(reason: unknown, writer: RecordWriter): unknown {
  if (!(reason instanceof StopRequested)) return reason;
  return new StopRequested(reason.signal, `${reason.message}: stopped after ${writer.records} record(s); the last STATE printed covers every one of them`);
}

/** One INFO line saying where this run starts: the bookmark (and checkpoint) of the state, or start_date. */
function logResumePoint(logger: Logger, cursor: EventsCursor, options: SyncOptions): void {
  const ip = cursor.inProgress;
  const name = options.stream.name;
  if (cursor.lastBundleStop === undefined && ip === undefined) {
    if (options.stateSource !== undefined) {
      logger.warn(`state file ${options.stateSource} holds no bookmark for ${name}: a full sync from start_date ${options.startDate}`);
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

/** The in-progress bundle of the state no longer exists (404): exit 3, saying how to go on. */
function goneFromState(stream: string, bundle: PlannedBundle, stateName: string): InputError {
  const window = `${isoFromUnix(bundle.start)} to ${isoFromUnix(bundle.stop)}`;
  return new InputError(
    `${stateName}: bookmark ${stream}.in_progress names bundle ${bundle.id} (${window}), which FullStory no longer ` +
      `serves (404, e.g. past its retention). To go on without the rest of it, remove "in_progress" from ` +
      `bookmarks.${stream} in the state: the tap then resumes after last_bundle_stop`,
    { source: stateName },
  );
}
