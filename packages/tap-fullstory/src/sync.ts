/**
 * The sync of a Data Export stream (`events`): list bundles from the cursor, then for each bundle in
 * order download → decode → split → RECORD lines (body-records.ts), with mid-bundle checkpoints and
 * a STATE after each bundle emitted whole (spec/tap.md "The bundle-aware cursor").
 *
 * Failure rule: see body-records.ts; the cursor never passes a bundle that was not emitted whole.
 */
import type { Readable } from 'node:stream';
import { schemaMessage, stateMessage } from '@fullstory-singer/singer-core';
import { ArraySplitter } from './array-splitter.js';
import { emitBody, type SyncCommonOptions } from './body-records.js';
import type { BundleSource } from './bundle-source.js';
import {
  bundleBookmark,
  checkpoint,
  completeBundle,
  listStart,
  planBundles,
  readCursor,
  stateWithBookmark,
} from './cursor.js';
import type { EventsCursor, PlannedBundle } from './cursor.js';
import type { StreamSelection } from './discovery.js';
import type { BundleStreamDefinition } from './streams/types.js';
import { unixFromIso } from './time.js';

/** Everything {@link syncBundles} needs. */
export interface SyncOptions extends SyncCommonOptions {
  source: BundleSource;
  /** The stream's definition (for its bookmark, also when not selected). */
  stream: BundleStreamDefinition;
  /** What the catalog selected of the stream; undefined when it does not select it. */
  selection: StreamSelection<BundleStreamDefinition> | undefined;
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
export async function syncBundles(options: SyncOptions): Promise<SyncSummary> {
  const { source, writer, logger, state, stream } = options;
  const now = options.now ?? Date.now;
  let cursor: EventsCursor = readCursor(state, stream.name, options.stateSource);
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

  writer.writeMessage(schemaMessage(stream.name, selection.schema, [...stream.keyProperties]));
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
      const first = prefetched!;
      const emitted = await emitBody({
        label: `bundle ${bundle.id}`,
        open: (attempt) => (attempt === 0 ? first : source.open(bundle.id)),
        splitter: (onElement) => new ArraySplitter(onElement),
        writer,
        context: {
          stream: stream.name,
          keys: stream.keys,
          origin: bundle.id,
          timeExtracted: new Date(now()).toISOString(),
          ...(selection.dropFields.size > 0 ? { dropFields: selection.dropFields } : {}),
        },
        skip: bundle.skip,
        stateEveryRecords: options.stateEveryRecords,
        maxRetries: options.maxRetries,
        logger,
        onStarted: () => prefetch(plan[k + 1]),
        onCheckpoint: (offset) => {
          cursor = checkpoint(cursor, bundle, offset);
          emitState();
        },
        onProgress: (bundleRecords, bytes) => {
          const seconds = Math.max((now() - started) / 1000, 0.001);
          const mb = (summary.bytes + bytes) / 1e6;
          options.progress?.update(
            `${stream.name}: bundle ${k + 1} of ${plan.length}, ${summary.records + bundleRecords} records, ${(mb / seconds).toFixed(1)} MB/s`,
            { done: k, total: plan.length },
          );
        },
        ...(options.sleep ? { sleep: options.sleep } : {}),
        ...(options.random ? { random: options.random } : {}),
        ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
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
