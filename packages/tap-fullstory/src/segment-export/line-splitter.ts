/**
 * The NDJSON counterpart of the {@link ArraySplitter}: splits a streamed body of one JSON object per
 * line (Segment Export's `FORMAT_NDJSON`) into the raw bytes of each object, without parsing it, and
 * hands them to the same {@link ElementHandler}, so NDJSON rows take the same record path as bundle
 * elements.
 *
 * It checks what it must to be sure each line is one whole object: brackets match, strings close,
 * nothing but blanks follows the object on its line, and no object spans lines (a raw line break
 * inside an object is not NDJSON, inside a string not JSON). A body cut short inside a line is a
 * {@link BundleFormatError}, so the file can be fetched again. Blank lines are skipped, as PostHog's
 * reader does; an empty body is an empty file.
 */
import { BundleFormatError } from '../array-splitter.js';
import type { ArraySplitterOptions, ElementHandler } from '../array-splitter.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const LF = 0x0a;
const CR = 0x0d;

const enum Phase {
  BetweenLines,
  InElement,
  AfterElement,
}

/** Incremental NDJSON splitter: `push()` each chunk of the decompressed body in order, then `end()`. */
export class LineSplitter {
  private phase = Phase.BetweenLines;
  private inString = false;
  private escapePending = false;
  private stack = new Uint8Array(64);
  private depth = 0;
  private pieces: Buffer[] = [];
  private piecesBytes = 0;
  private readonly maxElementBytes: number;
  /** Objects handed to the handler so far. */
  elements = 0;
  /** Body bytes pushed so far. */
  bytes = 0;

  constructor(
    private readonly onElement: ElementHandler,
    options: ArraySplitterOptions = {},
  ) {
    this.maxElementBytes = options.maxElementBytes ?? 64 * 1024 * 1024;
  }

  /** Scans one chunk; calls the handler for every object that completes in it. */
  push(chunk: Buffer): void {
    const n = chunk.length;
    this.bytes += n;
    let i = 0;
    let elemStart = 0; // an object carried over from the previous chunk continues at 0
    while (i < n) {
      if (this.phase === Phase.InElement) {
        const end = this.scanElement(chunk, i);
        if (end < 0) break;
        this.finishElement(chunk, elemStart, end);
        i = end;
        continue;
      }
      const c = chunk[i]!;
      if (this.phase === Phase.AfterElement) {
        if (c === LF) this.phase = Phase.BetweenLines;
        else if (c !== 0x20 && c !== 0x09 && c !== CR) throw this.error(`unexpected ${describe(c)} after row ${this.elements - 1} on its line`);
        i++;
        continue;
      }
      if (c === 0x20 || c === 0x09 || c === CR || c === LF) {
        i++;
      } else if (c === 0xef && this.bytes - n + i === 0 && chunk[i + 1] === 0xbb && chunk[i + 2] === 0xbf) {
        i += 3; // a UTF-8 byte order mark at the very start
      } else if (c === OPEN_BRACE) {
        this.phase = Phase.InElement;
        elemStart = i;
      } else {
        throw this.error(`row ${this.elements} is not a JSON object (starts with ${describe(c)})`);
      }
    }
    if (this.phase === Phase.InElement) {
      const rest = elemStart === 0 ? chunk : chunk.subarray(elemStart);
      this.pieces.push(rest);
      this.piecesBytes += rest.length;
      if (this.piecesBytes > this.maxElementBytes) throw this.error(`row ${this.elements} is larger than ${this.maxElementBytes} bytes`);
    }
  }

  /** Call after the last chunk: throws when the body ended inside a row. */
  end(): void {
    if (this.phase === Phase.InElement) throw this.error(`body ended early, inside row ${this.elements}`);
  }

  /** Scans an object from `i`; returns the index past its closing brace, or -1 when the chunk ends first. */
  private scanElement(chunk: Buffer, i: number): number {
    const n = chunk.length;
    let depth = this.depth;
    let stack = this.stack;
    while (i < n) {
      if (this.inString) {
        if (this.escapePending) {
          this.escapePending = false;
          i++;
        }
        let closed = false;
        while (i < n) {
          const b = chunk[i++]!;
          // Most bytes of a string are above the backslash (lower-case letters): one comparison for them.
          if (b > BACKSLASH) continue;
          if (b === QUOTE) {
            closed = true;
            break;
          }
          if (b === BACKSLASH) {
            if (i < n) i++;
            else this.escapePending = true;
          } else if (b < 0x20) {
            // A raw control character is not JSON; a raw line break means the row was cut and joined to the next.
            throw this.error(`row ${this.elements} has a raw control character (byte 0x${b.toString(16).padStart(2, '0')}) inside a string`);
          }
        }
        if (closed) this.inString = false;
        continue;
      }
      const c = chunk[i++]!;
      if (c === QUOTE) {
        this.inString = true;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth === stack.length) {
          const bigger = new Uint8Array(stack.length * 2);
          bigger.set(stack);
          stack = this.stack = bigger;
        }
        stack[depth++] = c;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        const open = c === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET;
        if (depth === 0 || stack[depth - 1] !== open) {
          this.depth = depth;
          throw this.error(`mismatched ${describe(c)} in row ${this.elements}`);
        }
        depth--;
        if (depth === 0) {
          this.depth = 0;
          return i;
        }
      } else if (c === LF || c === CR) {
        throw this.error(`row ${this.elements} does not end on its line`);
      }
    }
    this.depth = depth;
    return -1;
  }

  private finishElement(chunk: Buffer, start: number, end: number): void {
    this.phase = Phase.AfterElement;
    this.elements++;
    if (this.pieces.length === 0) {
      this.onElement(chunk, start, end, false);
      return;
    }
    this.pieces.push(chunk.subarray(0, end));
    const whole = Buffer.concat(this.pieces);
    this.pieces = [];
    this.piecesBytes = 0;
    this.onElement(whole, 0, whole.length, false);
  }

  private error(message: string): BundleFormatError {
    return new BundleFormatError(`${message} at byte ${this.bytes}`);
  }
}

function describe(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
