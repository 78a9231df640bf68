/**
 * One downloaded body (a bundle, or a window's export file) into RECORD lines: download → decode
 * (sniff gzip) → split and validate → records, with a checkpoint every `stateEveryRecords` records.
 * Both sources stream through here.
 *
 * Failure rule: a body that breaks off, stalls, or turns out truncated, corrupt or holding an
 * element that is not valid JSON is downloaded again (up to `maxRetries` times, with backoff) and
 * the records already emitted in this run are skipped, so nothing is emitted twice within a run.
 * Giving up is an UnavailableError (exit 5); the caller's cursor never passes a body that was not
 * emitted whole. A closed stdout is never retried (it is not the download's fault).
 *
 * Stop rule: when `signal` aborts (the first SIGINT or SIGTERM), the body stops before the next
 * record, `onStopAt` moves the caller's cursor to exactly the records written, and the signal's
 * reason is thrown; every wait (download, backoff) ends at once.
 */
import type { Readable } from 'node:stream';
import { UnavailableError, isSingerError } from '@fullstory-singer/singer-core';
import type { Logger } from '@fullstory-singer/singer-core';
import { BodyInterruptedError, LocationUnavailableError, backoffDelay, isRetryableNetworkError } from '@fullstory-singer/fullstory-client';
import { BundleFormatError } from './array-splitter.js';
import type { ElementHandler, TrailingBytes } from './array-splitter.js';
import { MAX_BYTES_AFTER_DATA, decodeBody, isZlibError } from './decode-body.js';
import { abortableSleep } from './pacer.js';
import type { RecordContext, RecordWriter } from './record-writer.js';

/** Where progress lines go (singer-core's ProgressReporter fits). */
export interface ProgressSink {
  /** `completion`: how many of how many parts are done, when the total is known (the share and the time left are shown). */
  update(text: string, completion?: { done: number; total: number }): void;
  done(text?: string): void;
}

/** What the sync of either source needs besides its client and streams; clock and writer are passed in. */
export interface SyncCommonOptions {
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
  /** Downloads of one body after a broken, truncated or corrupt one, before giving up. */
  maxRetries: number;
  /** Aborted to stop gracefully (see the module comment); its `reason` is what is thrown. */
  signal?: AbortSignal;
  /** Clock for `time_extracted`, throughput and the export delay (default: the real one). */
  now?: () => number;
  /** Waits between downloads and polls (default: a timer that `signal` cancels). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** First backoff step between downloads of a body, ms (default 1000). */
  backoffBaseMs?: number;
}

/**
 * True for failures of a body that another download may cure: it broke off or stalled, its gzip or
 * JSON is cut short or corrupt, the storage host of a Segment Export failed, or the connection did.
 * Other SingerErrors (auth, refusals, retries exhausted before the response started, a closed
 * stdout, a stop request) are final.
 */
function isBodyRetryable(err: unknown): boolean {
  if (err instanceof BundleFormatError || err instanceof BodyInterruptedError || err instanceof LocationUnavailableError || isZlibError(err)) {
    return true;
  }
  return !isSingerError(err) && isRetryableNetworkError(err);
}

/** `promise`, or a rejection with the stop reason as soon as `signal` aborts. */
export function untilStopped<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Splits a decoded body into elements: the ArraySplitter, or a Segment Export file's splitter. */
interface BodySplitter {
  push(chunk: Buffer): void;
  end(): void;
  /** Body bytes scanned so far. */
  readonly bytes: number;
  /** Whether what was scanned already holds the whole document (an array that closed). */
  readonly done: boolean;
  /** Bytes after the document's end that were not padding, ignored. */
  readonly trailing: TrailingBytes | undefined;
  /** Every byte after the document's end (padding included). */
  readonly bytesAfterArray: number;
}

/** Everything {@link emitBody} needs. */
interface EmitBodyOptions extends Pick<SyncCommonOptions, 'writer' | 'logger' | 'stateEveryRecords' | 'maxRetries' | 'signal' | 'sleep' | 'random' | 'backoffBaseMs'> {
  /** Names the body in messages, e.g. `bundle 1000001`. */
  label: string;
  /** What one element is called in messages: `event` (a bundle's), `row` (a file's). */
  noun: string;
  /** A fresh download of the body; `attempt` counts from 0. */
  open: (attempt: number) => Promise<Readable>;
  splitter: (onElement: ElementHandler) => BodySplitter;
  /** What every record of this body shares (stream, key, `time_extracted`, dropped fields). */
  context: RecordContext;
  /** Records of the body an earlier run already emitted. */
  skip: number;
  /** Called when `offset` records of the body are emitted (just before the next one). */
  onCheckpoint: (offset: number) => void;
  /** Moves the caller's cursor to `offset` records of the body, without a STATE (a stop writes it). */
  onStopAt: (offset: number) => void;
  /** A failure the caller names itself (e.g. a body the state names that is gone); else undefined. */
  explain?: (err: unknown) => Error | undefined;
  onProgress?: (records: number, bytes: number) => void;
  /** Called once, when the first body's response has started. */
  onStarted?: () => void;
}

/** Emits one body whole; resolves with the records emitted and the decoded bytes scanned. */
export async function emitBody(options: EmitBodyOptions): Promise<{ records: number; bytes: number }> {
  const { writer, logger, signal, stateEveryRecords: every, noun } = options;
  writer.startBody(options.context);
  let skip = options.skip;
  let records = 0;
  let bytes = 0;
  let pendingCheckpoint = -1;
  let started = false;
  /** Index of the next element to emit: every one before it is on stdout (or was, in an earlier run). */
  let next = skip;
  for (let attempt = 0; ; attempt++) {
    let index = 0;
    const notices: string[] = [];
    const splitter = options.splitter((chunk, start, end, flags) => {
      const i = index++;
      if (i < skip) return;
      if (signal?.aborted) throw signal.reason;
      // The checkpoint after record i-1 is written just before record i, so the body's last
      // record is followed by the caller's whole-body STATE rather than a redundant checkpoint.
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
      body = await untilStopped(options.open(attempt), signal);
      if (!started) {
        started = true;
        options.onStarted?.();
      }
      const decoded = decodeBody(body, { isComplete: () => splitter.done, onNotice: (text) => notices.push(text) });
      for await (const chunk of decoded) {
        splitter.push(chunk);
        await writer.drain();
        options.onProgress?.(records, bytes + splitter.bytes);
        // A body that goes on and on after a complete document cannot keep the tap busy.
        if (splitter.bytesAfterArray > MAX_BYTES_AFTER_DATA) break;
      }
      splitter.end();
      bytes += splitter.bytes;
      if (index < skip) {
        logger.warn(`${options.label} has ${index} ${noun}s, fewer than the ${skip} already emitted; nothing more to emit from it`);
      }
      logRepairs(options, splitter, notices);
      return { records, bytes };
    } catch (err) {
      bytes += splitter.bytes;
      if (signal?.aborted) {
        // Stopped: a checkpoint exactly at the records written so far (the caller writes the STATE).
        if (next > 0) options.onStopAt(next);
        throw signal.reason;
      }
      const explained = options.explain?.(err);
      if (explained) throw explained;
      if (!isBodyRetryable(err)) throw err;
      skip = Math.max(skip, index);
      const reason = (err as Error).message;
      if (attempt >= options.maxRetries) {
        throw new UnavailableError(`${options.label} did not arrive whole after ${attempt + 1} download(s): ${reason}`, { cause: err });
      }
      const wait = backoffDelay(attempt, {
        ...(options.backoffBaseMs !== undefined ? { baseMs: options.backoffBaseMs } : {}),
        ...(options.random ? { random: options.random } : {}),
      });
      logger.warn(`${options.label} broke off after ${index} ${noun}s; downloading it again`, { reason, attempt: attempt + 1, wait_ms: wait });
      await (options.sleep ?? abortableSleep)(wait, signal);
    } finally {
      signal?.removeEventListener('abort', stopBody);
    }
  }
}

/** One WARN line per kind of repair the body needed (each says what was done). */
function logRepairs(options: EmitBodyOptions, splitter: BodySplitter, notices: string[]): void {
  const { logger, label, noun, writer } = options;
  const { ownKeyFields, badUtf8 } = writer.bodyRepairs;
  const keys = options.context.keys;
  if (ownKeyFields) {
    logger.warn(
      `${label}: ${ownKeyFields.count} ${noun}(s) carried their own ${keys.id} or ${keys.index} ` +
        `(first: ${noun} ${ownKeyFields.first}); the tap's key fields replaced them`,
    );
  }
  if (badUtf8) {
    logger.warn(
      `${label}: ${badUtf8.count} ${noun}(s) held bytes that are not UTF-8 (first: ${noun} ${badUtf8.first}); ` +
        'they were replaced by U+FFFD',
    );
  }
  const trailing = splitter.trailing;
  if (trailing) {
    const count = splitter.bytesAfterArray > MAX_BYTES_AFTER_DATA ? `more than ${MAX_BYTES_AFTER_DATA}` : String(trailing.bytes);
    logger.warn(`${label}: ${count} byte(s) after the end of its array were ignored (starting with ${trailing.first})`);
  }
  for (const text of notices) logger.warn(`${label}: ${text}`);
}
