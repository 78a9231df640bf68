import { Writable } from 'node:stream';

/** Options of {@link MemoryWritable}. */
interface MemoryWritableOptions {
  /** Stream highWaterMark in bytes (Node's default 16 KiB when omitted). */
  highWaterMark?: number;
  /**
   * Each chunk is acknowledged this many ms after it arrives: a slow consumer. Default 0
   * (acknowledged at once). `'immediate'` acknowledges on the next `setImmediate`: a consumer that
   * keeps up with the event loop but not with a tight producer.
   */
  delayMs?: number | 'immediate';
  /** Sets `isTTY` on the stream (for progress tests). */
  isTTY?: boolean;
}

/**
 * A Writable that keeps everything written to it, for tests. `pause()` holds acknowledgements so
 * the stream's buffer fills (a stalled consumer); `resume()` releases them. `maxWritableLength`
 * records the largest `writableLength` seen right after any `write()` — the bytes a producer left
 * buffered — so a test can assert backpressure was honoured.
 */
export class MemoryWritable extends Writable {
  readonly chunks: Buffer[] = [];
  maxWritableLength = 0;
  isTTY?: boolean;
  #paused = false;
  #pending: Array<() => void> = [];
  readonly #delayMs: number | 'immediate';

  constructor(options: MemoryWritableOptions = {}) {
    super(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark });
    this.#delayMs = options.delayMs ?? 0;
    if (options.isTTY !== undefined) this.isTTY = options.isTTY;
  }

  override write(chunk: unknown, encodingOrCb?: BufferEncoding | ((error: Error | null | undefined) => void), cb?: (error: Error | null | undefined) => void): boolean {
    const ok = super.write(chunk, encodingOrCb as BufferEncoding, cb);
    if (this.writableLength > this.maxWritableLength) this.maxWritableLength = this.writableLength;
    return ok;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    const ack = (): void => {
      if (this.#delayMs === 'immediate') setImmediate(() => callback());
      else if (this.#delayMs > 0) setTimeout(() => callback(), this.#delayMs);
      else callback();
    };
    if (this.#paused) this.#pending.push(ack);
    else ack();
  }

  /** Stops acknowledging chunks: further writes accumulate in the stream's buffer. */
  pause(): this {
    this.#paused = true;
    return this;
  }

  /** Acknowledges held chunks and resumes normal consumption. */
  resume(): this {
    this.#paused = false;
    const pending = this.#pending;
    this.#pending = [];
    for (const ack of pending) ack();
    return this;
  }

  /** True while paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Everything written so far, decoded as UTF-8. */
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** Non-empty lines written so far. */
  lines(): string[] {
    return this.text().split('\n').filter((l) => l.length > 0);
  }
}
