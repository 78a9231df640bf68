/**
 * A Segment Export file is NDJSON when the tap asks for `FORMAT_NDJSON`, but a JSON array is read too
 * (`FORMAT_JSON`, or a server that answers with one): the first byte that is not blank decides the
 * framing of the {@link ArraySplitter} that reads it. Either way rows go to the same handler.
 */
import { ArraySplitter } from '../array-splitter.js';
import type { ArraySplitterOptions, ElementHandler, TrailingBytes } from '../array-splitter.js';

const OPEN_BRACKET = 0x5b;

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

export class FileSplitter {
  private inner: ArraySplitter | undefined;
  /** Blank bytes seen before the first significant one. */
  private leading = 0;

  constructor(
    private readonly onElement: ElementHandler,
    private readonly options: ArraySplitterOptions = {},
  ) {}

  push(chunk: Buffer): void {
    if (this.inner === undefined) {
      let i = 0;
      // A UTF-8 byte order mark is skipped by the splitter.
      if (this.leading === 0 && chunk[0] === 0xef) i = 3;
      while (i < chunk.length && isBlank(chunk[i]!)) i++;
      if (i >= chunk.length) {
        this.leading += chunk.length;
        return;
      }
      const framing = chunk[i] === OPEN_BRACKET ? 'array' : 'lines';
      this.inner = new ArraySplitter(this.onElement, { ...this.options, framing });
    }
    this.inner.push(chunk);
  }

  end(): void {
    this.inner?.end();
  }

  /** Body bytes scanned. */
  get bytes(): number {
    return this.leading + (this.inner?.bytes ?? 0);
  }

  /** Whether the file is known to be complete: a JSON array that closed (NDJSON has no end mark). */
  get done(): boolean {
    return this.inner?.done ?? false;
  }

  /** Bytes after a JSON array's end that were not padding (ignored). */
  get trailing(): TrailingBytes | undefined {
    return this.inner?.trailing;
  }

  /** Every byte after a JSON array's end. */
  get bytesAfterArray(): number {
    return this.inner?.bytesAfterArray ?? 0;
  }
}
