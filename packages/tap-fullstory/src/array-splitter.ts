/**
 * A byte-level scanner that splits a streamed JSON array of objects into the raw bytes of each
 * element, without parsing or re-serialising anything.
 *
 * Why: an export bundle is one JSON array that can be gigabytes long (fullstory-api.md §2.2). A
 * whole-body `JSON.parse` cannot hold it, and parsing then re-serialising each event is both slow
 * and lossy for integers above 2^53. Passing each element's bytes through untouched is lossless by
 * construction and costs one pass over the bytes.
 *
 * The scanner tracks only what it must to find element boundaries: whether it is inside a string
 * (and whether the next byte is escaped), and a stack of open brackets. It checks the array's
 * punctuation (`[`, `,`, `]`) and that brackets match, so a truncated or mangled body is reported
 * as a {@link BundleFormatError} and the bundle can be fetched again. It does not validate every
 * token inside an element (numbers, literals): FullStory produced those bytes and they pass through.
 */

/** The bundle body is not a well-formed JSON array of objects (truncated, corrupt, or another shape). */
export class BundleFormatError extends Error {
  override readonly name = 'BundleFormatError';
}

/**
 * Called synchronously for each complete element: its bytes are `chunk[start, end)`, from its `{`
 * to its `}` inclusive. `hasNewline` says whether a CR or LF occurs between its tokens (a
 * pretty-printed body), in which case the bytes cannot be copied onto one output line as they are.
 * The buffer may be reused by the caller's stream afterwards: copy what you keep.
 */
export type ElementHandler = (chunk: Buffer, start: number, end: number, hasNewline: boolean) => void;

/** Options of {@link ArraySplitter}. */
export interface ArraySplitterOptions {
  /** Largest element accepted, in bytes (default 64 MiB): bounds memory on a body that never closes an object. */
  maxElementBytes?: number;
}

const enum Phase {
  BeforeArray,
  FirstValueOrEnd,
  Value,
  InElement,
  AfterElement,
  Done,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === LF || c === CR || c === 0x09;
}

/**
 * Incremental splitter: `push()` each chunk of the (decompressed) body in order, then `end()`.
 * Both throw {@link BundleFormatError} on a body that is not a JSON array of objects.
 */
export class ArraySplitter {
  private phase = Phase.BeforeArray;
  private inString = false;
  private escapePending = false;
  private stack = new Uint8Array(64);
  private depth = 0;
  private hasNewline = false;
  /** Pieces of an element that started in an earlier chunk. */
  private pieces: Buffer[] = [];
  private piecesBytes = 0;
  private readonly maxElementBytes: number;
  /** Number of elements handed to the handler so far. */
  elements = 0;
  /** Number of body bytes pushed so far. */
  bytes = 0;

  constructor(
    private readonly onElement: ElementHandler,
    options: ArraySplitterOptions = {},
  ) {
    this.maxElementBytes = options.maxElementBytes ?? 64 * 1024 * 1024;
  }

  /** Scans one chunk; calls the handler for every element that completes in it. */
  push(chunk: Buffer): void {
    const n = chunk.length;
    this.bytes += n;
    let i = 0;
    let elemStart = 0; // an element carried over from the previous chunk continues at 0
    while (i < n) {
      if (this.phase === Phase.InElement) {
        const end = this.scanElement(chunk, i);
        if (end < 0) break; // element continues in the next chunk
        this.finishElement(chunk, elemStart, end);
        i = end;
        continue;
      }
      const c = chunk[i]!;
      if (isWhitespace(c)) {
        i++;
        continue;
      }
      switch (this.phase) {
        case Phase.BeforeArray:
          // A UTF-8 byte order mark before the array is tolerated (some proxies and editors add one).
          if (c === 0xef && this.bytes - n + i === 0 && chunk[i + 1] === 0xbb && chunk[i + 2] === 0xbf) {
            i += 3;
            break;
          }
          if (c !== OPEN_BRACKET) throw this.error(`bundle body is not a JSON array (starts with ${describe(c)})`);
          this.phase = Phase.FirstValueOrEnd;
          i++;
          break;
        case Phase.FirstValueOrEnd:
        case Phase.Value:
          if (c === CLOSE_BRACKET && this.phase === Phase.FirstValueOrEnd) {
            this.phase = Phase.Done;
            i++;
          } else if (c === OPEN_BRACE) {
            this.phase = Phase.InElement;
            this.hasNewline = false;
            elemStart = i; // scanElement consumes the '{'
          } else {
            throw this.error(`element ${this.elements} of the bundle is not an object (found ${describe(c)})`);
          }
          break;
        case Phase.AfterElement:
          if (c === COMMA) this.phase = Phase.Value;
          else if (c === CLOSE_BRACKET) this.phase = Phase.Done;
          else throw this.error(`expected ',' or ']' after element ${this.elements - 1}, found ${describe(c)}`);
          i++;
          break;
        default:
          throw this.error(`unexpected ${describe(c)} after the end of the bundle's array`);
      }
    }
    if (this.phase === Phase.InElement) {
      const rest = elemStart === 0 ? chunk : chunk.subarray(elemStart);
      this.pieces.push(rest);
      this.piecesBytes += rest.length;
      if (this.piecesBytes > this.maxElementBytes) {
        throw this.error(`element ${this.elements} is larger than ${this.maxElementBytes} bytes`);
      }
    }
  }

  /** Call after the last chunk: throws unless the array was closed. */
  end(): void {
    if (this.phase !== Phase.Done) {
      const where = this.phase === Phase.BeforeArray ? 'before the array started' : `after ${this.elements} element(s), inside the array`;
      throw this.error(`bundle body ended early (${where})`);
    }
  }

  /** Whether the closing `]` has been seen. */
  get done(): boolean {
    return this.phase === Phase.Done;
  }

  /**
   * Scans an element from `i`; returns the index just past its closing brace, or -1 when the
   * chunk ends first (state is kept for the next chunk).
   */
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
        // A plain byte loop: JSON strings here are short (keys, ids, URLs), where a native
        // indexOf call costs more than it saves.
        let closed = false;
        while (i < n) {
          const b = chunk[i++]!;
          if (b === QUOTE) {
            closed = true;
            break;
          }
          if (b === BACKSLASH) {
            if (i < n) i++;
            else this.escapePending = true;
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
          throw this.error(`mismatched ${describe(c)} in element ${this.elements}`);
        }
        depth--;
        if (depth === 0) {
          this.depth = 0;
          return i;
        }
      } else if (c === LF || c === CR) {
        this.hasNewline = true;
      }
    }
    this.depth = depth;
    return -1;
  }

  private finishElement(chunk: Buffer, start: number, end: number): void {
    this.phase = Phase.AfterElement;
    this.elements++;
    if (this.pieces.length === 0) {
      this.onElement(chunk, start, end, this.hasNewline);
      return;
    }
    this.pieces.push(chunk.subarray(0, end));
    const whole = Buffer.concat(this.pieces);
    this.pieces = [];
    this.piecesBytes = 0;
    this.onElement(whole, 0, whole.length, this.hasNewline);
  }

  private error(message: string): BundleFormatError {
    return new BundleFormatError(`${message} at byte ${this.bytes}`);
  }
}

function describe(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
