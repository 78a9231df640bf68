/**
 * The one stdout writer. Every Singer message a CLI prints goes through a {@link MessageWriter}, so
 * stdout carries nothing else and a slow consumer (a target, a pipe to a file on a slow disk)
 * throttles the producer instead of letting buffered output grow without bound.
 */
import { stringifyJson } from './json.js';
import type { OtherMessage, SingerMessage } from './messages.js';
import { StdoutClosedError } from './stop.js';

/** Options of {@link MessageWriter}. */
interface MessageWriterOptions {
  /**
   * Whether {@link MessageWriter.end} ends the stream. Default: true, except for `process.stdout`
   * and `process.stderr`, which are only flushed.
   */
  endStream?: boolean;
  /**
   * Batch the lines written in one tick into one `writev` (cork until the next tick). Default: on
   * when the stream implements `_writev` (pipes and sockets, e.g. stdout into `| target`), where it
   * more than doubles throughput; off for streams that would write chunk by chunk anyway (files).
   */
  batch?: boolean;
}

/**
 * Writes one JSON message per line and honours backpressure.
 *
 * Each `write*` resolves as soon as the stream accepted the chunk below its `highWaterMark`;
 * otherwise it resolves on `'drain'`. Callers `await` every write, so at most one message sits
 * above the stream's `highWaterMark`. A stream error (e.g. `EPIPE` when the reader went away)
 * rejects the pending write and every later one.
 */
export class MessageWriter {
  readonly #out: NodeJS.WritableStream;
  readonly #endStream: boolean;
  #error: Error | undefined;
  #waiting: Promise<void> | undefined;
  readonly #batch: boolean;
  readonly #releasesChunks: boolean;
  #corked = false;

  constructor(out: NodeJS.WritableStream = process.stdout, options: MessageWriterOptions = {}) {
    this.#out = out;
    this.#endStream = options.endStream ?? (out !== process.stdout && out !== process.stderr);
    this.#releasesChunks = out === process.stdout || out === process.stderr;
    this.#batch =
      options.batch ?? (typeof (out as { _writev?: unknown })._writev === 'function' && typeof (out as { cork?: unknown }).cork === 'function');
    out.on('error', (err: Error) => {
      this.#error ??= asWriterError(err);
    });
  }

  /** Serialises a message with {@link stringifyJson} (big integers stay exact) and writes it. */
  write(message: SingerMessage | OtherMessage): Promise<void> {
    return this.writeLine(stringifyJson(message));
  }

  /** Writes any JSON value as one line (e.g. a target's bare state value). */
  writeJson(value: unknown): Promise<void> {
    return this.writeLine(stringifyJson(value));
  }

  /** Writes a pre-serialised JSON line; `line` must not contain a newline (one is appended). */
  writeLine(line: string): Promise<void> {
    return this.#write(`${line}\n`);
  }

  /**
   * Writes bytes that hold whole lines, each one JSON message ending in `\n` (a batch built by a
   * producer that never decodes its bytes into a string). The buffer must not be changed until
   * `released` is called: then the bytes have left the process and the producer may reuse the
   * buffer. `released` is only ever called for `process.stdout` and `process.stderr`, which hand
   * each chunk to the operating system before its write callback runs; another stream (a
   * PassThrough, a test's memory stream) may keep the chunk itself, so its buffers are never released.
   */
  writeLines(bytes: Buffer, released?: () => void): Promise<void> {
    return this.#write(bytes, this.#releasesChunks ? released : undefined);
  }

  #write(chunk: string | Buffer, released?: () => void): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#waiting) {
      // A caller that did not await the previous write: queue behind it, keep the order.
      return this.#waiting.then(() => this.#write(chunk, released));
    }
    if (this.#batch && !this.#corked) this.#cork();
    if (this.#out.write(chunk, released === undefined ? undefined : () => released())) return Promise.resolve();
    this.#waiting = this.#waitForDrain().finally(() => {
      this.#waiting = undefined;
    });
    return this.#waiting;
  }

  /** Flushes everything written so far and, unless writing to stdout/stderr, ends the stream. */
  async end(): Promise<void> {
    if (this.#waiting) await this.#waiting;
    if (this.#error) throw this.#error;
    const out = this.#out as NodeJS.WritableStream & { writableLength?: number };
    if (!this.#endStream && !out.writableLength) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (this.#endStream) out.end(() => done());
      // An empty write's callback runs once every earlier chunk is flushed.
      else out.write('', (err?: Error | null) => done(err));
    });
  }

  #cork(): void {
    // Lines written until the next tick go out in one writev. The await of a write that returned
    // true resumes as a microtask, before this tick callback: a tight producer fills the stream up
    // to its highWaterMark, waits for 'drain', and the uncork below then flushes the batch. So the
    // backpressure bound is unchanged and a line waits at most until the producer next waits.
    const out = this.#out as NodeJS.WritableStream & { cork(): void; uncork(): void };
    this.#corked = true;
    out.cork();
    process.nextTick(() => {
      this.#corked = false;
      out.uncork();
    });
  }

  #waitForDrain(): Promise<void> {
    const out = this.#out;
    return new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        out.off('drain', onDrain);
        out.off('error', onError);
        out.off('close', onClose);
      };
      const onDrain = (): void => {
        cleanup();
        resolve();
      };
      const onError = (err: Error): void => {
        cleanup();
        this.#error ??= asWriterError(err);
        reject(this.#error);
      };
      const onClose = (): void => {
        cleanup();
        this.#error ??= new StdoutClosedError();
        reject(this.#error);
      };
      out.on('drain', onDrain);
      out.on('error', onError);
      out.on('close', onClose);
    });
  }
}

function asWriterError(err: Error): Error {
  return (err as NodeJS.ErrnoException).code === 'EPIPE' ? new StdoutClosedError({ cause: err }) : err;
}
