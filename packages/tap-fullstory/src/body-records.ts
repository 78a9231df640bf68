/**
 * One downloaded body (a bundle, or a window's export file) into RECORD lines: download → decode
 * (sniff gzip) → split → records, with a checkpoint every `stateEveryRecords` records.
 *
 * Failure rule: a body that breaks off, stalls, or turns out truncated or corrupt is downloaded
 * again (up to `maxRetries` times, with backoff) and the records already emitted in this run are
 * skipped, so nothing is emitted twice within a run. Giving up is an UnavailableError (exit 5); the
 * caller's cursor never passes a body that was not emitted whole.
 */
import type { Readable } from 'node:stream';
import { UnavailableError, isSingerError } from '@fullstory-singer/singer-core';
import type { Logger } from '@fullstory-singer/singer-core';
import { BodyInterruptedError, LocationUnavailableError, backoffDelay, isRetryableNetworkError } from '@fullstory-singer/fullstory-client';
import { BundleFormatError } from './array-splitter.js';
import type { ElementHandler } from './array-splitter.js';
import { decodeBody, isZlibError } from './decode-body.js';
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
  /** Named in errors about the state (the state file path). */
  stateSource?: string;
  startDate: string;
  endDate?: string;
  stateEveryRecords: number;
  /** Downloads of one body after a broken, truncated or corrupt one, before giving up. */
  maxRetries: number;
  /** Clock for `time_extracted`, throughput and the export delay (default: the real one). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** First backoff step between downloads of a body, ms (default 1000). */
  backoffBaseMs?: number;
}

/**
 * True for failures of a body that another download may cure: it broke off or stalled, its gzip or
 * JSON is cut short or corrupt, the storage host of a Segment Export failed, or the connection did.
 * Other SingerErrors (auth, refusals, retries exhausted before the response started) are final.
 */
export function isBodyRetryable(err: unknown): boolean {
  if (err instanceof BundleFormatError || err instanceof BodyInterruptedError || err instanceof LocationUnavailableError || isZlibError(err)) {
    return true;
  }
  return !isSingerError(err) && isRetryableNetworkError(err);
}

/** Splits a decoded body into elements (the ArraySplitter, or a Segment Export file's splitter). */
export interface BodySplitter {
  push(chunk: Buffer): void;
  end(): void;
  /** Body bytes scanned so far. */
  readonly bytes: number;
}

/** Everything {@link emitBody} needs. */
export interface EmitBodyOptions {
  /** Names the body in messages, e.g. `bundle 1000001`. */
  label: string;
  /** A fresh download of the body; `attempt` counts from 0. */
  open: (attempt: number) => Promise<Readable>;
  splitter: (onElement: ElementHandler) => BodySplitter;
  writer: RecordWriter;
  /** What every record of this body shares (stream, key, `time_extracted`, dropped fields). */
  context: RecordContext;
  /** Records of the body an earlier run already emitted. */
  skip: number;
  stateEveryRecords: number;
  /** Downloads again after a broken, truncated or corrupt body, before giving up. */
  maxRetries: number;
  logger: Logger;
  /** Called when `offset` records of the body are emitted (just before the next one). */
  onCheckpoint: (offset: number) => void;
  onProgress?: (records: number, bytes: number) => void;
  /** Called once, when the first body's response has started. */
  onStarted?: () => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** First backoff step between downloads, ms (default 1000). */
  backoffBaseMs?: number;
}

/** Emits one body whole; resolves with the records emitted and the decoded bytes scanned. */
export async function emitBody(options: EmitBodyOptions): Promise<{ records: number; bytes: number }> {
  const { writer, logger, stateEveryRecords: every } = options;
  writer.startBody(options.context);
  let skip = options.skip;
  if (skip > 0) logger.info(`resuming ${options.label} after its first ${skip} records (from the state)`);
  let records = 0;
  let bytes = 0;
  let pendingCheckpoint = -1;
  let started = false;
  for (let attempt = 0; ; attempt++) {
    let index = 0;
    const splitter = options.splitter((chunk, start, end, hasNewline) => {
      const i = index++;
      if (i < skip) return;
      // The checkpoint after record i-1 is written just before record i, so the body's last
      // record is followed by the caller's whole-body STATE rather than a redundant checkpoint.
      if (pendingCheckpoint >= 0) {
        options.onCheckpoint(pendingCheckpoint);
        pendingCheckpoint = -1;
      }
      writer.writeEvent(i, chunk, start, end, hasNewline);
      records++;
      if ((i + 1) % every === 0) pendingCheckpoint = i + 1;
    });
    try {
      const body = await options.open(attempt);
      if (!started) {
        started = true;
        options.onStarted?.();
      }
      for await (const chunk of decodeBody(body)) {
        splitter.push(chunk);
        await writer.drain();
        options.onProgress?.(records, bytes + splitter.bytes);
      }
      splitter.end();
      bytes += splitter.bytes;
      if (index < skip) {
        logger.warn(`${options.label} has ${index} records, fewer than the ${skip} already emitted; nothing more to emit from it`);
      }
      return { records, bytes };
    } catch (err) {
      bytes += splitter.bytes;
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
      logger.warn(`${options.label} broke off after ${index} records; downloading it again`, { reason, attempt: attempt + 1, wait_ms: wait });
      await (options.sleep ?? defaultSleep)(wait);
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
