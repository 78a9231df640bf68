/**
 * The sync of the Segment Export streams: for each selected stream, in turn, its settled windows in
 * order, each one exported (one export at a time), downloaded without the key and streamed through
 * the same path as a bundle (decode → split and validate → RECORD lines, body-records.ts), with a
 * checkpoint every `stateEveryRecords` rows and a STATE after each window emitted whole.
 *
 * Stop rule, as for bundles: when `signal` aborts, the sync stops before the next row (or leaves a
 * poll at once), writes a STATE that covers exactly the rows written so far, and throws the signal's
 * StopRequested.
 */
import { schemaMessage, stateMessage } from '@fullstory-singer/singer-core';
import { emitBody, type SyncCommonOptions } from '../body-records.js';
import { stateWithBookmark } from '../cursor.js';
import { stopped } from '../sync.js';
import type { StreamSelection } from '../discovery.js';
import type { SegmentStreamDefinition } from '../streams/types.js';
import { isoFromUnix, unixFromIso } from '../time.js';
import { FileSplitter } from './file-splitter.js';
import { WindowExport, type SegmentExportApi } from './window-export.js';
import {
  completeWindow,
  planWindows,
  readWindowCursor,
  windowBookmark,
  windowCheckpoint,
  type PlannedWindow,
  type WindowCursor,
} from './windows.js';

/** A selected Segment Export stream. */
export type WindowSelection = StreamSelection<SegmentStreamDefinition>;

/** Everything {@link syncWindows} needs. */
interface SyncWindowsOptions extends SyncCommonOptions {
  client: SegmentExportApi;
  /** The selected streams, in the order they are synced. */
  streams: readonly WindowSelection[];
  segmentId: string;
  windowSeconds: number;
  delaySeconds: number;
  pollIntervalMs: number;
  exportTimeoutMs: number;
}

/** What a sync did. */
interface SyncWindowsSummary {
  windows: number;
  records: number;
  /** Uncompressed body bytes scanned. */
  bytes: number;
  /** The final state value emitted. */
  state: Record<string, unknown>;
}

/**
 * The `fields` to ask for: none (every column and custom variable) unless the catalog left fields
 * out; then the kept columns Segment Export has, and the stream's custom-variable wildcards.
 */
function requestedFields(selection: WindowSelection): string[] | undefined {
  if (selection.dropFields.size === 0) return undefined;
  const { stream } = selection;
  const skip = new Set([stream.keys.id, stream.keys.index, ...(stream.notExported ?? [])]);
  const columns = Object.keys((selection.schema['properties'] ?? {}) as Record<string, unknown>).filter((f) => !skip.has(f));
  return [...columns, ...stream.customVariables];
}

/** Runs the sync; resolves when every message is written. Throws SingerErrors. */
export async function syncWindows(options: SyncWindowsOptions): Promise<SyncWindowsSummary> {
  const { writer, logger, signal } = options;
  const now = options.now ?? Date.now;
  let state = options.state;
  const summary: SyncWindowsSummary = { windows: 0, records: 0, bytes: 0, state };
  /** Moves a stream's bookmark in the state; `emit` writes the STATE too. */
  const moveTo = (stream: string, cursor: WindowCursor, emit = true): void => {
    state = stateWithBookmark(state, stream, windowBookmark(cursor));
    summary.state = state;
    if (emit) writer.writeMessage(stateMessage(state));
  };
  const started = now();
  try {
    for (const selection of options.streams) {
      const stream = selection.stream;
      writer.writeMessage(schemaMessage(stream.name, selection.schema, [...stream.keyProperties]));
      let cursor = readWindowCursor(state, stream.name, options.stateSource ?? 'state', (message) => logger.warn(message));
      if (cursor.droppedBundleInProgress) {
        logger.warn(`${stream.name}: the state names a Data Export bundle in progress; Segment Export resumes after the last whole bundle`);
      }
      const settledBefore = Math.floor(now() / 1000) - options.delaySeconds;
      const plan = {
        windowSeconds: options.windowSeconds,
        startDate: unixFromIso(options.startDate)!,
        ...(options.endDate !== undefined ? { endDate: unixFromIso(options.endDate)! } : {}),
        settledBefore,
      };
      let windows = 0;
      for (const window of planWindows(cursor, plan)) {
        const result = await emitWindow(selection, window, {
          ...options,
          now,
          onCursor: (next, emit) => {
            cursor = next(cursor);
            moveTo(stream.name, cursor, emit);
          },
          onProgress: (text) => options.progress?.update(text),
          elapsed: () => Math.max((now() - started) / 1000, 0.001),
          before: summary,
        });
        windows++;
        summary.windows++;
        summary.records += result.records;
        summary.bytes += result.bytes;
        cursor = completeWindow(window);
        moveTo(stream.name, cursor);
        await writer.flush();
        logger.metric('counter', 'record_count', result.records, { stream: stream.name, window_start: isoFromUnix(window.start) });
      }
      if (windows === 0) {
        logger.info(`${stream.name}: no settled window to export`, {
          from: isoFromUnix(cursor.inProgress?.start ?? cursor.emittedUntil ?? plan.startDate),
          settled_before: isoFromUnix(settledBefore),
          export_delay_seconds: options.delaySeconds,
        });
      }
    }
  } catch (err) {
    if (signal?.aborted) {
      // The last line on stdout is a STATE covering exactly the records before it.
      writer.writeMessage(stateMessage(state));
      await writer.flush().catch(() => undefined);
      throw stopped(signal.reason, writer);
    }
    // Whatever was emitted (records and checkpoints) still goes out, so a rerun resumes from the last checkpoint.
    await writer.flush().catch(() => undefined);
    throw err;
  }
  if (summary.windows === 0) {
    // Nothing settled: still one STATE, so runners keep their bookmark.
    writer.writeMessage(stateMessage(state));
  }
  await writer.flush();
  options.progress?.done(
    `segment export: ${summary.windows} window(s), ${summary.records} records, ${(summary.bytes / 1e6 / Math.max((now() - started) / 1000, 0.001)).toFixed(1)} MB/s`,
  );
  return summary;
}

interface EmitWindowOptions extends SyncWindowsOptions {
  now: () => number;
  /** Applies a change to the stream's cursor and emits the STATE (unless `emit` is false: a stop writes it). */
  onCursor: (change: (cursor: WindowCursor) => WindowCursor, emit?: boolean) => void;
  onProgress: (text: string) => void;
  elapsed: () => number;
  before: SyncWindowsSummary;
}

/** Exports and emits one window whole. */
async function emitWindow(selection: WindowSelection, window: PlannedWindow, options: EmitWindowOptions): Promise<{ records: number; bytes: number }> {
  const { stream, dropFields } = selection;
  const fields = requestedFields(selection);
  const windowStart = isoFromUnix(window.start);
  const label = `${stream.name} window ${windowStart}..${isoFromUnix(window.end)}`;
  let operationId = window.operationId;
  // The offset of the last checkpoint written: an operation id is saved with it, never a larger offset.
  let offset = window.skip;
  const exporter = new WindowExport(
    {
      segmentId: options.segmentId,
      type: stream.exportType,
      format: 'FORMAT_NDJSON',
      timeRange: { start: windowStart, end: isoFromUnix(window.end) },
      // All time, as FullStory's hauser sends: otherwise the segment's own range (e.g. the last 30
      // days) decides which users match, and an old window comes back empty.
      segmentTimeRange: { start: '', end: '' },
      ...(fields !== undefined ? { fields } : {}),
    },
    {
      client: options.client,
      logger: options.logger,
      label,
      pollIntervalMs: options.pollIntervalMs,
      timeoutMs: options.exportTimeoutMs,
      ...(operationId !== undefined ? { savedOperationId: operationId } : {}),
      onOperation: async (id) => {
        operationId = id;
        options.onCursor((cursor) => windowCheckpoint(cursor, window, offset, id));
        // Out at once: an export may stay pending for an hour, and a run killed meanwhile can poll it again.
        await options.writer.flush();
      },
      onProgress: options.onProgress,
      now: options.now,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    },
  );
  return emitBody({
    label,
    noun: 'row',
    open: () => exporter.open(),
    splitter: (onElement) => new FileSplitter(onElement),
    writer: options.writer,
    context: {
      stream: stream.name,
      keys: stream.keys,
      origin: windowStart,
      timeExtracted: new Date(options.now()).toISOString(),
      ...(dropFields.size > 0 ? { dropFields } : {}),
    },
    skip: window.skip,
    stateEveryRecords: options.stateEveryRecords,
    maxRetries: options.maxRetries,
    logger: options.logger,
    onCheckpoint: (at) => {
      offset = at;
      options.onCursor((cursor) => windowCheckpoint(cursor, window, at, operationId));
    },
    onStopAt: (at) => options.onCursor((cursor) => windowCheckpoint(cursor, window, at, operationId), false),
    onProgress: (records, bytes) => {
      const mb = (options.before.bytes + bytes) / 1e6;
      options.onProgress(`${label}: ${options.before.records + records} records, ${(mb / options.elapsed()).toFixed(1)} MB/s`);
    },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
  });
}
