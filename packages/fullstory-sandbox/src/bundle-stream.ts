/**
 * A Readable that produces a generated bundle body (`[` + events joined by `,` + `]`) on demand.
 * `_read` is only called when the consumer wants more, so memory stays flat whatever the bundle
 * size: at most one chunk (~64 KiB) plus the stream buffer is ever held.
 */
import { Readable } from 'node:stream';
import { EventGenerator, type GenerateOptions } from './generator.js';

const CHUNK_CHARS = 64 * 1024;

export class BundleStream extends Readable {
  private readonly gen: EventGenerator;
  private started = false;
  private done = false;

  constructor(seed: number, bundleId: number | bigint | string, count: number, window: GenerateOptions) {
    super({ highWaterMark: 256 * 1024 });
    this.gen = new EventGenerator(seed, bundleId, count, window);
  }

  override _read(): void {
    if (this.done) return;
    let chunk = '';
    if (!this.started) {
      this.started = true;
      chunk = '[';
      const first = this.gen.next();
      if (first !== undefined) chunk += first;
    }
    // Generated text is ASCII, so string length equals byte length.
    while (chunk.length < CHUNK_CHARS) {
      const text = this.gen.next();
      if (text === undefined) {
        chunk += ']';
        this.done = true;
        break;
      }
      chunk += ',' + text;
    }
    this.push(Buffer.from(chunk, 'latin1'));
    if (this.done) this.push(null);
  }
}
