/**
 * A file of whole lines (the dead-letter file, the dry run's request bodies): every byte passes the
 * run's redactor, and the file only ever ends in a whole line.
 *
 * - Opened before any input is read: its folder is created, and a path that cannot be opened is a
 *   ConfigError (exit 2) before anything is sent.
 * - An earlier run that was killed mid-write may have left a torn last line; it is cut off at open,
 *   so new lines never follow a fragment. (Nothing is lost: a state is only emitted once the lines
 *   before it are on disk, so the torn line's record lies after the last state and is sent again.)
 * - A write that fails (a full disk: ENOSPC, or EFBIG past a file size limit) truncates the file back to
 *   its last whole line and fails the file: the error is thrown by every later call, and the run stops.
 *
 * Lines are buffered and written in chunks; {@link LineFile.flush} resolves once every line appended so
 * far is written.
 */

import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError, type Logger, type Redactor } from '@fullstory-singer/singer-core';

/**
 * A line file could not be written (a full disk). Exit 2, like any file the config names that cannot
 * be written; the run stops rather than send records whose rejections it could not record.
 */
export class FileWriteError extends ConfigError {}

/** The parts of a `FileHandle` a line file uses (tests pass one that fails on purpose). */
export interface LineFileHandle {
  stat(): Promise<{ size: number }>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link LineFile.open}. */
interface LineFileOptions {
  /** `append` keeps what is there (the dead-letter file); `truncate` starts empty (dry-run files). */
  mode: 'append' | 'truncate';
  /** The setting that names the file, for error messages (`dead_letter_path`). */
  setting: string;
  redactor: Redactor;
  logger?: Logger;
  /** Opens the file (default `fs.promises.open`). */
  openFile?: (path: string, flags: string) => Promise<LineFileHandle>;
}

/** Buffered lines beyond this are written at once, without waiting for a flush. */
const CHUNK_BYTES = 64 * 1024;

/** An open file of whole lines. */
export class LineFile {
  private pending: string[] = [];
  private pendingBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: FileWriteError | undefined;
  private size: number;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fh: LineFileHandle,
    private readonly o: LineFileOptions,
    /** True when this run created the file (an unused one is removed at close). */
    private readonly created: boolean,
    size: number,
  ) {
    this.size = size;
  }

  /**
   * Open (creating its folder) and check the file.
   * @throws ConfigError naming the setting and path when it cannot be opened
   */
  static async open(path: string, options: LineFileOptions): Promise<LineFile> {
    const cannot = (err: unknown): ConfigError =>
      new ConfigError(`${options.setting}: cannot write "${path}": ${describe(err)}`, { cause: err });
    let existed = true;
    try {
      await stat(path);
    } catch {
      existed = false;
    }
    let fh: LineFileHandle;
    try {
      await mkdir(dirname(path), { recursive: true });
      // a+: reads (to check the last line) and appends.
      fh = await (options.openFile ?? open)(path, options.mode === 'append' ? 'a+' : 'w');
    } catch (err) {
      throw cannot(err);
    }
    try {
      const size = options.mode === 'append' ? await cutTornTail(fh, path, options.logger) : 0;
      return new LineFile(path, fh, options, !existed, size);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw cannot(err);
    }
  }

  /** Bytes appended and not yet written. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** Append one line (`line` holds no newline). @throws the file's failure, once it failed. */
  append(line: string): void {
    if (this.failure) throw this.failure;
    const text = `${this.o.redactor.redact(line)}\n`;
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (this.pendingBytes >= CHUNK_BYTES) this.flush().catch(() => undefined);
  }

  /** Resolves once every line appended so far is written. @throws the file's failure. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.writePending());
    return this.chain;
  }

  /** Flush and close. A file this run created and never wrote to is removed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      await this.fh.close().catch(() => undefined);
    }
    if (this.created && this.size === 0) await unlink(this.path).catch(() => undefined);
  }

  private async writePending(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.pending.length === 0) return;
    const buf = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingBytes = 0;
    try {
      let off = 0;
      while (off < buf.length) {
        const { bytesWritten } = await this.fh.write(buf, off, buf.length - off);
        off += bytesWritten;
      }
      this.size += buf.length;
    } catch (err) {
      // Whatever part of the chunk reached the disk is cut off again: the file ends in a whole line.
      await this.fh.truncate(this.size).catch(() => undefined);
      this.failure = new FileWriteError(
        `${this.o.setting}: cannot write "${this.path}": ${describe(err)}; the file ends in its last whole line, and the last state printed does not cover the records that could not be written`,
        { cause: err },
      );
      throw this.failure;
    }
  }
}

/** If the file ends in a torn line, cut it off; returns the file's size after. */
async function cutTornTail(fh: LineFileHandle, path: string, logger: Logger | undefined): Promise<number> {
  const { size } = await fh.stat();
  if (size === 0) return 0;
  const last = Buffer.alloc(1);
  await fh.read(last, 0, 1, size - 1);
  if (last[0] === 0x0a) return size;
  // Look backwards for the end of the last whole line.
  const chunk = Buffer.alloc(64 * 1024);
  let end = size;
  let keep = 0;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await fh.read(chunk, 0, end - start, start);
    const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl >= 0) {
      keep = start + nl + 1;
      break;
    }
    end = start;
  }
  await fh.truncate(keep);
  logger?.warn('the file ended in a torn line (an earlier run stopped mid-write); cut it off', { path, bytes_removed: size - keep });
  return keep;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message.replace(/^[A-Z]+: /, '')}` : String(e?.message ?? err);
}
