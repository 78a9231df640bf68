/**
 * A Readable that produces a generated bundle body (`[` + events joined by `,` + `]`) on demand.
 * `_read` is only called when the consumer wants more, so memory stays flat whatever the bundle
 * size: one chunk (256 KiB) plus the stream buffers is all that is ever held.
 *
 * Events are written straight into the chunk Buffer (latin1: generated text is ASCII), which is
 * about twice as fast as concatenating a chunk string and converting it.
 */
import { Readable } from 'node:stream';
import { EventGenerator, type GenerateOptions } from './generator.js';

const CHUNK_BYTES = 256 * 1024;
const OPEN = 0x5b; // [
const COMMA = 0x2c;
const CLOSE = 0x5d; // ]

/** An event to serve in place of a generated one (a fault: its text need not be JSON). */
interface EventReplacement {
  index: number;
  /** One byte per character (latin1). */
  text: string;
}

export class BundleStream extends Readable {
  private readonly gen: EventGenerator;
  private written = 0;
  private generated = 0;
  private started = false;
  private done = false;
  /** An event that did not fit the previous chunk. */
  private pending: string | undefined;

  constructor(
    seed: number,
    bundleId: number | bigint | string,
    count: number,
    window: GenerateOptions,
    private readonly replacement?: EventReplacement,
  ) {
    super({ highWaterMark: CHUNK_BYTES });
    this.gen = new EventGenerator(seed, bundleId, count, window);
  }

  /** The next event's text (the replacement at its index), or undefined after the last. */
  private nextEvent(): string | undefined {
    const text = this.gen.next();
    if (text === undefined) return undefined;
    return this.generated++ === this.replacement?.index ? this.replacement.text : text;
  }

  override _read(): void {
    if (this.done) return;
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let off = 0;
    if (!this.started) {
      this.started = true;
      buf[off++] = OPEN;
    }
    for (;;) {
      const text = this.pending ?? this.nextEvent();
      this.pending = undefined;
      if (text === undefined) {
        buf[off++] = CLOSE;
        this.done = true;
        break;
      }
      if (off + text.length + 2 > CHUNK_BYTES) {
        if (off === 0) {
          // Larger than a whole chunk (never for generated events, but stay correct).
          this.push(Buffer.from((this.written++ > 0 ? ',' : '') + text, 'latin1'));
          return;
        }
        this.pending = text;
        break;
      }
      if (this.written++ > 0) buf[off++] = COMMA;
      off += buf.write(text, off, 'latin1');
    }
    this.push(buf.subarray(0, off));
    if (this.done) this.push(null);
  }
}
