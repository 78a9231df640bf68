/**
 * The dead-letter file: every record the target or FullStory rejected, appended as one JSON line
 * `{"stream", "record", "reason", "code", "message", "at"}` where `record` is the original Singer
 * record. When FullStory reports an error item that matches no record of its batch, the line carries
 * `record: null` and the echoed `request` instead, so nothing FullStory said is lost.
 *
 * The file is a {@link LineFile}: opened before any input is read, redacted in every byte, whole lines
 * only. A record that cannot be serialised (nested thousands deep) still gets its line: the fields
 * that serialise are kept, the others replaced by a note, and `record_error` says why.
 *
 * A dry run writes its rejections to a file of its own beside the real one ({@link dryRunDeadLetterPath}).
 */

import { extname } from 'node:path';
import { stringifyJson, type Logger, type Redactor } from '@fullstory-singer/singer-core';
import type { Clock } from './clock.js';
import { LineFile, type LineFileHandle } from './line-file.js';
import type { RejectionReason } from './rejection.js';

/** One dead-letter line. */
interface DeadLetterEntry {
  stream: string;
  /** The original Singer record, or null when FullStory's error item matched none. */
  record: unknown;
  reason: RejectionReason;
  code: string;
  message: string;
  /** The request FullStory echoed, only when no record matched it. */
  request?: unknown;
}

/** Where a dry run writes its rejections: the dead-letter path with `.dry-run` before its extension. */
export function dryRunDeadLetterPath(deadLetterPath: string): string {
  const ext = extname(deadLetterPath);
  return ext === '' ? `${deadLetterPath}.dry-run` : `${deadLetterPath.slice(0, -ext.length)}.dry-run${ext}`;
}

/** Options of {@link DeadLetterFile.open}. */
interface DeadLetterOptions {
  path: string;
  /** A dry run starts its own file afresh; a real run appends. */
  dryRun: boolean;
  redactor: Redactor;
  clock: Clock;
  logger?: Logger;
  openFile?: (path: string, flags: string) => Promise<LineFileHandle>;
}

/** The open dead-letter file. */
export class DeadLetterFile {
  /** Lines written (records and unmatched error items). */
  lines = 0;

  private constructor(
    private readonly file: LineFile,
    private readonly clock: Clock,
  ) {}

  /** @throws ConfigError (exit 2) naming `dead_letter_path` when the file cannot be opened */
  static async open(o: DeadLetterOptions): Promise<DeadLetterFile> {
    const file = await LineFile.open(o.path, {
      mode: o.dryRun ? 'truncate' : 'append',
      setting: 'dead_letter_path',
      redactor: o.redactor,
      ...(o.logger ? { logger: o.logger } : {}),
      ...(o.openFile ? { openFile: o.openFile } : {}),
    });
    return new DeadLetterFile(file, o.clock);
  }

  get path(): string {
    return this.file.path;
  }

  /** Whether enough is buffered that the caller should wait for {@link flush} before adding more. */
  get full(): boolean {
    return this.file.buffered >= 1024 * 1024;
  }

  /** Append one line. @throws the file's failure (ConfigError, exit 2), once a write failed. */
  write(entry: DeadLetterEntry): void {
    this.file.append(serialise(entry, new Date(this.clock.now()).toISOString()));
    this.lines++;
  }

  /** Resolves once every line so far is written; before a state is emitted. */
  flush(): Promise<void> {
    return this.file.flush();
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

function serialise(entry: DeadLetterEntry, at: string): string {
  const line = (record: unknown, request: unknown, recordError?: string): Record<string, unknown> => ({
    stream: entry.stream,
    record,
    reason: entry.reason,
    code: entry.code,
    message: entry.message,
    at,
    ...(request !== undefined ? { request } : {}),
    ...(recordError !== undefined ? { record_error: recordError } : {}),
  });
  try {
    return stringifyJson(line(entry.record, entry.request));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return stringifyJson(
      line(keepable(entry.record, why), keepable(entry.request, why), `the record could not be written whole (${why}); the fields that could not are replaced by a note`),
    );
  }
}

/** `value` with each top-level field that cannot be serialised replaced by a note. */
function keepable(value: unknown, why: string): unknown {
  if (value === undefined) return undefined;
  const note = `[not serialisable: ${why}]`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    try {
      stringifyJson(value);
      return value;
    } catch {
      return note;
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    try {
      stringifyJson(v);
      out[k] = v;
    } catch {
      out[k] = note;
    }
  }
  return out;
}
