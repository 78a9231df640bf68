/**
 * A Segment Export file is NDJSON when the tap asks for `FORMAT_NDJSON`, but a JSON array is read too
 * (`FORMAT_JSON`, or a server that answers with one): the first byte that is not blank decides
 * between the {@link ArraySplitter} and the {@link LineSplitter}. Both hand rows to the same handler.
 */
import { ArraySplitter } from '../array-splitter.js';
import type { ArraySplitterOptions, ElementHandler } from '../array-splitter.js';
import { LineSplitter } from './line-splitter.js';

const OPEN_BRACKET = 0x5b;

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

export class FileSplitter {
  private inner: ArraySplitter | LineSplitter | undefined;
  /** Blank bytes seen before the first significant one. */
  private leading = 0;

  constructor(
    private readonly onElement: ElementHandler,
    private readonly options: ArraySplitterOptions = {},
  ) {}

  push(chunk: Buffer): void {
    if (this.inner === undefined) {
      let i = 0;
      // A UTF-8 byte order mark is skipped by either splitter.
      if (this.leading === 0 && chunk[0] === 0xef) i = 3;
      while (i < chunk.length && isBlank(chunk[i]!)) i++;
      if (i >= chunk.length) {
        this.leading += chunk.length;
        return;
      }
      this.inner = chunk[i] === OPEN_BRACKET ? new ArraySplitter(this.onElement, this.options) : new LineSplitter(this.onElement, this.options);
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
}
