/**
 * The dead-letter file (target.md, "Mapping"): every record the target or FullStory rejected, appended
 * as one JSON line `{"stream", "record", "reason", "code", "message", "at"}` where `record` is the
 * original Singer record. When FullStory reports an error item that matches no record of its batch,
 * the line carries `record: null` and the echoed `request` instead, so nothing is lost silently.
 *
 * The file is opened (in append mode) only when the first line is written, so a clean run leaves none.
 */

import { createWriteStream, type WriteStream } from 'node:fs';
import { ConfigError, stringifyJson } from '@fullstory-singer/singer-core';
import type { RejectionReason } from './rejection.js';

/** One dead-letter line. */
export interface DeadLetterEntry {
  stream: string;
  /** The original Singer record, or null when FullStory's error item matched none. */
  record: unknown;
  reason: RejectionReason;
  code: string;
  message: string;
  /** The request FullStory echoed, only when no record matched it. */
  request?: unknown;
}

/** Options of {@link DeadLetterWriter}. */
export interface DeadLetterOptions {
  path: string;
  /** Clock for `at` (ms since epoch). */
  now?: () => number;
}

/** Appends rejected records to the dead-letter file; counts them by reason. */
export class DeadLetterWriter {
  readonly path: string;
  private readonly now: () => number;
  private stream?: WriteStream;
  private error?: Error;
  private lastWrite: Promise<void> = Promise.resolve();
  /** Lines written so far. */
  count = 0;
  /** Lines written so far, per reason. */
  readonly byReason: Partial<Record<RejectionReason, number>> = {};

  constructor(options: DeadLetterOptions) {
    this.path = options.path;
    this.now = options.now ?? Date.now;
  }

  /**
   * Append one line. Resolves when the stream accepted it (waits for 'drain' under backpressure);
   * call {@link flush} before emitting a state that depends on it.
   */
  async write(entry: DeadLetterEntry): Promise<void> {
    if (this.error) throw this.failure();
    const line: Record<string, unknown> = {
      stream: entry.stream,
      record: entry.record,
      reason: entry.reason,
      code: entry.code,
      message: entry.message,
      at: new Date(this.now()).toISOString(),
    };
    if (entry.request !== undefined) line['request'] = entry.request;
    const out = this.open();
    this.count++;
    this.byReason[entry.reason] = (this.byReason[entry.reason] ?? 0) + 1;
    let resolveWritten!: () => void;
    this.lastWrite = new Promise<void>((res) => (resolveWritten = res));
    const accepted = out.write(`${stringifyJson(line)}\n`, () => resolveWritten());
    if (!accepted) await new Promise<void>((res) => out.once('drain', res));
  }

  /** Resolves once every line written so far reached the file; rejects if the file cannot be written. */
  async flush(): Promise<void> {
    await this.lastWrite;
    if (this.error) throw this.failure();
  }

  /** Flush and close the file (if it was opened). */
  async close(): Promise<void> {
    await this.flush();
    const s = this.stream;
    if (!s) return;
    await new Promise<void>((res) => s.end(res));
    if (this.error) throw this.failure();
  }

  private open(): WriteStream {
    if (!this.stream) {
      const s = createWriteStream(this.path, { flags: 'a' });
      s.on('error', (err) => {
        this.error = err;
        // Unblock anyone waiting on a write that will never complete.
        s.emit('drain');
      });
      this.stream = s;
    }
    return this.stream;
  }

  private failure(): ConfigError {
    return new ConfigError(`dead_letter_path: cannot write "${this.path}": ${this.error?.message ?? 'unknown error'}`, {
      cause: this.error,
    });
  }
}
