/**
 * A byte-level scanner that splits a streamed JSON array of objects into the raw bytes of each
 * element and, in the same pass, checks that every element is valid JSON; nothing is parsed into
 * values or re-serialised.
 *
 * Why: an export bundle is one JSON array that can be gigabytes long
 * (https://developer.fullstory.com/server/v1/exports/get-event-export/). A whole-body `JSON.parse`
 * cannot hold it, and parsing then re-serialising each event is both slow and lossy for integers
 * above 2^53. Passing each element's bytes through untouched is lossless by construction, and
 * validating them here means no RECORD line is ever anything but JSON.
 *
 * The grammar is checked by a table-driven automaton (json-grammar.ts: one class lookup and one
 * transition per byte, as in Douglas Crockford's JSON_checker), with a stack of open containers.
 * This module checks the array's punctuation (`[`, `,`, `]`) between elements; inside each element
 * the automaton checks numbers, the literals `true`/`false`/`null`, commas, colons, escapes, raw
 * control characters in strings and the nesting of brackets. It runs in the WebAssembly scanner
 * (simd-scan.ts), which reads strings 16 bytes at a time and hands back to the JavaScript loop
 * below whatever needs words (an error) or a look across chunks; that loop can also run alone
 * (`engine: 'js'`). A body that breaks any of it is a {@link BundleFormatError}, so the bundle can
 * be fetched again.
 *
 * The same scanner reads NDJSON (`framing: 'lines'`, a Segment Export file): one object per line,
 * blank lines skipped, each object checked as above and required to end on its own line. Both
 * framings hand their elements to the same handler, so every row takes the same record path.
 */
import { isUtf8 } from 'node:buffer';
import {
  AR,
  ARR,
  ARR_CLOSE,
  ARR_OPEN,
  CLASS,
  CO,
  COMMA_NEXT,
  E3,
  ES,
  ElementFlags,
  FS,
  IN,
  KE,
  KEY_START,
  MI,
  NEWLINE,
  OB,
  OBJ,
  OBJ_CLOSE,
  OBJ_OPEN,
  OK,
  ST,
  STR_START,
  T1,
  TABLE,
  U1,
  U4,
  VA,
} from './json-grammar.js';
import { Reg, ScanStatus, sharedScanner } from './simd-scan.js';
import type { SimdScanner } from './simd-scan.js';

/** The bundle body is not a well-formed JSON array of objects (truncated, corrupt, or another shape). */
export class BundleFormatError extends Error {
  override readonly name = 'BundleFormatError';
}

/** Bits of the `flags` an {@link ElementHandler} receives (defined with the grammar). */
export { ElementFlags };

/**
 * Called synchronously for each complete, valid element: its bytes are `chunk[start, end)`, from
 * its `{` to its `}` inclusive; `flags` is a sum of {@link ElementFlags} (0 for the common case).
 * The buffer may be reused by the caller's stream afterwards: copy what you keep.
 */
export type ElementHandler = (chunk: Buffer, start: number, end: number, flags: number) => void;

/** Options of {@link ArraySplitter}. */
export interface ArraySplitterOptions {
  /** Largest element accepted, in bytes (default 64 MiB): bounds memory on a body that never closes an object. */
  maxElementBytes?: number;
  /** `array` (default): one JSON array of objects. `lines`: NDJSON, one object per line. */
  framing?: 'array' | 'lines';
  /**
   * Which loop runs the grammar: `simd` (default), the WebAssembly scanner of simd-scan.ts with the
   * JavaScript loop for what it hands back, or `js`, the JavaScript loop alone. Both accept and
   * reject exactly the same bodies (the tests run each); `js` is there to test and measure that.
   */
  engine?: 'simd' | 'js';
}

/** Bytes after the array's `]` that were not whitespace or NULs (they are ignored). */
export interface TrailingBytes {
  /** How many. */
  bytes: number;
  /** The first of them, described for a log line. */
  first: string;
}

const enum Phase {
  BeforeArray,
  FirstValueOrEnd,
  Value,
  InElement,
  AfterElement,
  Done,
}

/** In a string: 0 for a byte that needs nothing, else what it is. */
const STRING_BYTE = new Uint8Array(256);
const SB_QUOTE = 1;
const SB_BACKSLASH = 2;
const SB_CONTROL = 3;
const SB_HIGH = 4;
{
  for (let b = 0; b < 0x20; b++) STRING_BYTE[b] = SB_CONTROL;
  for (let b = 0x80; b < 256; b++) STRING_BYTE[b] = SB_HIGH;
  STRING_BYTE[0x22] = SB_QUOTE;
  STRING_BYTE[0x5c] = SB_BACKSLASH;
}

/**
 * Whether any of the four bytes of `w` (a little-endian word of a string's bytes) needs a look:
 * a `"`, a `\\`, a control character (< 0x20) or a byte above 0x7f, i.e. whether STRING_BYTE is
 * non-zero for one of them. Bit tricks from "Bit Twiddling Hacks" (determine if a word has a zero
 * byte / a byte less than n): `(x - 0x01010101) & ~x & 0x80808080` is non-zero exactly when a byte
 * of x is 0, so `x = w ^ 0x22222222` finds a quote; `(w - 0x20202020) & ~w` finds a byte below
 * 0x20 among bytes below 0x80; `| w` finds a byte of 0x80 or more (then the others may be wrong,
 * but the word is looked at byte by byte anyway).
 */
function wordNeedsLook(w: number): boolean {
  const q = w ^ 0x22222222;
  const b = w ^ 0x5c5c5c5c;
  return ((((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b) | ((w - 0x20202020) & ~w) | w) & 0x80808080) !== 0;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const UNDERSCORE = 0x5f;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const LF = 0x0a;
const CR = 0x0d;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Incremental splitter: `push()` each chunk of the (decompressed) body in order, then `end()`.
 * Both throw {@link BundleFormatError} on a body that is not a JSON array of valid JSON objects.
 * Bytes after the closing `]` do not fail the body: whitespace and NULs are skipped, anything
 * else is counted in {@link trailing} and ignored.
 */
export class ArraySplitter {
  private phase: Phase;
  /** NDJSON rather than an array (see the module comment). */
  private readonly lines: boolean;
  /** The automaton's state inside an element. */
  private state = OB;
  /** Whether the string being read is a key (it is followed by `:`) or a value. */
  private stringIsKey = false;
  /** The first byte of a top-level key is in the next chunk: look at it there. */
  private keyStartPending = false;
  /** The open containers (OBJ or ARR) by depth. */
  private stack: Uint8Array = new Uint8Array(64);
  /** The WebAssembly scanner, unless the `js` engine was asked for (or Node has no WebAssembly). */
  private readonly simd: SimdScanner | undefined;
  /** The scanner's ticket for the chunk being pushed (see sharedScanner). */
  private ticket = 0;
  private depth = 0;
  private flags = 0;
  private nonAscii = false;
  /** The chunk being pushed, read four bytes at a time in strings. */
  private words: DataView = new DataView(new ArrayBuffer(0));
  /** Pieces of an element that started in an earlier chunk. */
  private pieces: Buffer[] = [];
  private piecesBytes = 0;
  private readonly maxElementBytes: number;
  /** Number of elements handed to the handler so far. */
  elements = 0;
  /** Number of body bytes pushed so far. */
  bytes = 0;
  /** Bytes after the array that were not whitespace or NULs, if any (ignored). */
  trailing: TrailingBytes | undefined;
  /** Every byte pushed after the array's `]` (padding included). */
  bytesAfterArray = 0;

  constructor(
    private readonly onElement: ElementHandler,
    options: ArraySplitterOptions = {},
  ) {
    this.maxElementBytes = options.maxElementBytes ?? 64 * 1024 * 1024;
    this.lines = options.framing === 'lines';
    this.simd = options.engine === 'js' ? undefined : sharedScanner();
    // Lines have no opening bracket: every place between them is where an element may start.
    this.phase = this.lines ? Phase.Value : Phase.BeforeArray;
  }

  /** Scans one chunk; calls the handler for every element that completes in it. */
  push(chunk: Buffer): void {
    const simd = this.simd;
    if (simd !== undefined) {
      if (chunk.length > simd.chunkCapacity) {
        // Its memory holds one chunk of up to 1 MiB: a larger one goes in as several.
        for (let at = 0; at < chunk.length; at += simd.chunkCapacity) this.push(chunk.subarray(at, at + simd.chunkCapacity));
        return;
      }
      this.ticket = simd.load(chunk);
    }
    const n = chunk.length;
    this.bytes += n;
    this.words = new DataView(chunk.buffer, chunk.byteOffset, n);
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
      if (this.phase === Phase.Done) {
        this.skipTrailing(chunk, i);
        return;
      }
      if (this.lines && this.phase === Phase.AfterElement) {
        // Only blanks may follow an object on its line.
        if (c === LF) this.phase = Phase.Value;
        else if (c !== 0x20 && c !== 0x09 && c !== CR) throw this.error(`unexpected ${describe(c)} after row ${this.elements - 1} on its line`, i, n);
        i++;
        continue;
      }
      if (isWhitespace(c)) {
        i++;
        continue;
      }
      // A UTF-8 byte order mark at the very start is tolerated (some proxies and editors add one).
      if (c === 0xef && this.bytes - n + i === 0 && chunk[i + 1] === 0xbb && chunk[i + 2] === 0xbf) {
        i += 3;
        continue;
      }
      switch (this.phase) {
        case Phase.BeforeArray:
          if (c !== OPEN_BRACKET) throw this.error(`bundle body is not a JSON array (starts with ${describe(c)})`, i, n);
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
            this.state = OB;
            this.stack[0] = OBJ;
            this.depth = 1;
            this.flags = 0;
            this.nonAscii = false;
            elemStart = i;
            i++;
          } else {
            const what = this.lines ? `row ${this.elements}` : `event ${this.elements} of the bundle`;
            throw this.error(`${what} is not a JSON object (found ${describe(c)})`, i, n);
          }
          break;
        case Phase.AfterElement:
          if (c === COMMA) this.phase = Phase.Value;
          else if (c === CLOSE_BRACKET) this.phase = Phase.Done;
          else throw this.error(`expected ',' or ']' after event ${this.elements - 1}, found ${describe(c)}`, i, n);
          i++;
          break;
      }
    }
    if (this.phase === Phase.InElement) {
      const rest = elemStart === 0 ? chunk : chunk.subarray(elemStart);
      this.pieces.push(rest);
      this.piecesBytes += rest.length;
      if (this.piecesBytes > this.maxElementBytes) {
        throw this.error(`${this.noun} ${this.elements} is larger than ${this.maxElementBytes} bytes`, n, n);
      }
    }
  }

  /** Call after the last chunk: throws unless the array was closed (or, for lines, the last row ended). */
  end(): void {
    if (this.lines) {
      if (this.phase === Phase.InElement) throw new BundleFormatError(`body ended early, inside row ${this.elements}, at byte ${this.bytes}`);
      return;
    }
    if (this.phase !== Phase.Done) {
      const where =
        this.phase === Phase.BeforeArray
          ? 'before the array started'
          : this.phase === Phase.InElement
            ? `inside event ${this.elements}`
            : `after ${this.elements} event(s), inside the array`;
      throw new BundleFormatError(`bundle body ended early (${where}) at byte ${this.bytes}`);
    }
  }

  /** Whether the closing `]` has been seen (never for lines: NDJSON has no end mark). */
  get done(): boolean {
    return this.phase === Phase.Done;
  }

  /**
   * Runs the automaton over an element from `i`; returns the index just past its closing brace,
   * or -1 when the chunk ends first (the state is kept for the next chunk). The WebAssembly
   * scanner goes first; the JavaScript loop takes over from the byte it hands back, if any.
   */
  private scanElement(chunk: Buffer, i: number): number {
    if (this.keyStartPending) {
      this.keyStartPending = false;
      this.flags |= keyStartFlag(chunk[i]!);
    }
    const simd = this.simd;
    if (simd !== undefined && this.depth < simd.stack.length) {
      // Another splitter may have loaded a chunk since (from an element handler).
      if (simd.ticket !== this.ticket) this.ticket = simd.load(chunk);
      const regs = simd.regs;
      regs[Reg.STATE] = this.state;
      regs[Reg.DEPTH] = this.depth;
      regs[Reg.IS_KEY] = this.stringIsKey ? 1 : 0;
      regs[Reg.FLAGS] = this.flags;
      regs[Reg.NON_ASCII] = this.nonAscii ? 1 : 0;
      regs[Reg.LINES] = this.lines ? 1 : 0;
      copyStack(this.stack, simd.stack, this.depth);
      const at = simd.scan(i, chunk.length);
      const depth = regs[Reg.DEPTH]!;
      if (depth > this.stack.length) this.stack = grown(this.stack, depth);
      copyStack(simd.stack, this.stack, depth);
      this.save(regs[Reg.STATE]!, depth, regs[Reg.IS_KEY] === 1, regs[Reg.FLAGS]!, regs[Reg.NON_ASCII] === 1);
      const status = regs[Reg.STATUS];
      if (status === ScanStatus.DONE) return at;
      if (status === ScanStatus.CHUNK_END) return -1;
      i = at;
    }
    return this.scanWithJs(chunk, i);
  }

  /**
   * The JavaScript loop of the automaton, from `i`, with the same results as {@link scanElement}.
   * The state lives in locals while the loop runs, and is written back when it returns.
   */
  private scanWithJs(chunk: Buffer, i: number): number {
    const n = chunk.length;
    let state = this.state;
    let depth = this.depth;
    let stack = this.stack;
    let isKey = this.stringIsKey;
    let flags = this.flags;
    let nonAscii = this.nonAscii;
    const words = this.words;
    while (i < n) {
      if (state === ST) {
        // The tight loop: most of a bundle's bytes are inside strings. Four plain bytes at a
        // time while there are (a quarter of the loads and branches of one at a time: the scan
        // is about a quarter faster on the reference bundle), then the rest byte by byte.
        let kind = 0;
        while (i + 4 <= n && !wordNeedsLook(words.getInt32(i, true))) i += 4;
        while (i < n && (kind = STRING_BYTE[chunk[i]!]!) === 0) i++;
        if (i === n) break;
        i++;
        if (kind === SB_QUOTE) {
          // Shortcuts for what most often follows (each does what the table would): `":"` or
          // `":` + a value after a key, `","` after a value string in an object.
          if (isKey) {
            state = CO;
            if (i + 1 < n && chunk[i] === COLON) {
              i++;
              state = VA;
              if (chunk[i] === QUOTE) {
                i++;
                state = ST;
                isKey = false;
              }
            }
          } else {
            state = OK;
            if (i + 2 < n && chunk[i] === COMMA && chunk[i + 1] === QUOTE && stack[depth - 1] === OBJ) {
              i += 2;
              state = ST;
              isKey = true;
              if (depth === 1) flags |= keyStartFlag(chunk[i]!);
            }
          }
        } else if (kind === SB_BACKSLASH) {
          state = ES;
        } else if (kind === SB_HIGH) {
          nonAscii = true;
        } else {
          throw this.invalid(`a raw control character (${describe(chunk[i - 1]!)}) in a string`, i - 1, n);
        }
        continue;
      }
      const c = chunk[i++]!;
      const next = TABLE[state + CLASS[c]!]!;
      if (next >= 0) {
        state = next;
        if (state === IN || state === FS || state === E3) {
          // The rest of a run of digits (ids are 16 of them).
          let d = 0;
          while (i < n && (d = chunk[i]!) >= 0x30 && d <= 0x39) i++;
        }
        continue;
      }
      switch (next) {
        case KEY_START:
          state = ST;
          isKey = true;
          if (depth === 1) {
            if (i < n) flags |= keyStartFlag(chunk[i]!);
            else this.keyStartPending = true;
          }
          break;
        case STR_START:
          state = ST;
          isKey = false;
          break;
        case COMMA_NEXT:
          if (stack[depth - 1] !== OBJ) {
            state = VA;
          } else if (i < n && chunk[i] === QUOTE) {
            // The key that follows (the common case after a number or a literal), as KEY_START does.
            i++;
            state = ST;
            isKey = true;
            if (depth === 1) {
              if (i < n) flags |= keyStartFlag(chunk[i]!);
              else this.keyStartPending = true;
            }
          } else {
            state = KE;
          }
          break;
        case OBJ_OPEN:
        case ARR_OPEN:
          if (depth === stack.length) stack = this.stack = grown(stack, depth + 1);
          stack[depth++] = next === OBJ_OPEN ? OBJ : ARR;
          state = next === OBJ_OPEN ? OB : AR;
          break;
        case OBJ_CLOSE:
        case ARR_CLOSE:
          if (stack[depth - 1] !== (next === OBJ_CLOSE ? OBJ : ARR)) throw this.invalid(`a mismatched ${describe(c)}`, i - 1, n);
          depth--;
          state = OK;
          if (depth === 0) {
            this.save(OK, 0, isKey, flags, nonAscii);
            return i;
          }
          break;
        case NEWLINE:
          if (this.lines) throw this.invalid('a line break inside the row (each row must be on one line)', i - 1, n);
          flags |= ElementFlags.NEWLINE;
          // A newline ends a number as a space does; elsewhere it is whitespace.
          if (state >= MI) state = OK;
          break;
        default:
          throw this.invalid(unexpected(state, c), i - 1, n);
      }
    }
    this.save(state, depth, isKey, flags, nonAscii);
    return -1;
  }

  private save(state: number, depth: number, isKey: boolean, flags: number, nonAscii: boolean): void {
    this.state = state;
    this.depth = depth;
    this.stringIsKey = isKey;
    this.flags = flags;
    this.nonAscii = nonAscii;
  }

  private finishElement(chunk: Buffer, start: number, end: number): void {
    this.phase = Phase.AfterElement;
    this.elements++;
    let bytes = chunk;
    if (this.pieces.length > 0) {
      this.pieces.push(chunk.subarray(0, end));
      bytes = Buffer.concat(this.pieces);
      this.pieces = [];
      this.piecesBytes = 0;
      start = 0;
      end = bytes.length;
    }
    // Bytes above 0x7f are rare: check the element's UTF-8 only when it has some (natively, at once).
    if (this.nonAscii && !isUtf8(bytes.subarray(start, end))) this.flags |= ElementFlags.BAD_UTF8;
    this.onElement(bytes, start, end, this.flags);
  }

  /** After the array: whitespace and NULs are padding; anything else is counted and ignored. */
  private skipTrailing(chunk: Buffer, i: number): void {
    this.bytesAfterArray += chunk.length - i;
    for (; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.trailing !== undefined) {
        this.trailing.bytes++;
      } else if (!isWhitespace(c) && c !== 0) {
        this.trailing = { bytes: 1, first: describe(c) };
      }
    }
  }

  /** An element that breaks the JSON grammar. */
  private invalid(what: string, at: number, n: number): BundleFormatError {
    return this.error(`${this.noun} ${this.elements} is not valid JSON: ${what}`, at, n);
  }

  /** What an element is called in messages. */
  private get noun(): string {
    return this.lines ? 'row' : 'event';
  }

  /** `at` is an index in the current chunk of length `n`; the message names the body offset. */
  private error(message: string, at: number, n: number): BundleFormatError {
    return new BundleFormatError(`${message} at byte ${this.bytes - n + at} of the body`);
  }
}

/** The first `depth` open containers of `from`, into `to` (a loop: the depth is 1 or 2 but for the odd deep event). */
function copyStack(from: Uint8Array, to: Uint8Array, depth: number): void {
  for (let k = 0; k < depth; k++) to[k] = from[k]!;
}

/** A copy of `stack` with room for at least `depth` open containers. */
function grown(stack: Uint8Array, depth: number): Uint8Array {
  let size = stack.length * 2;
  while (size < depth) size *= 2;
  const bigger = new Uint8Array(size);
  bigger.set(stack);
  return bigger;
}

/** RESERVED_KEY when `b`, the first byte of a top-level key, may start `_sdc_...` (a `_`, or an escape). */
function keyStartFlag(b: number): number {
  return b === UNDERSCORE || b === BACKSLASH ? ElementFlags.RESERVED_KEY : 0;
}

/** What went wrong at byte `c` in `state`, in words. */
function unexpected(state: number, c: number): string {
  const found = describe(c);
  if (state === ES) return `an invalid escape \\${String.fromCharCode(c)}`;
  if (state >= U1 && state <= U4) return `a \\u escape with ${found} instead of a hex digit`;
  if (state >= MI && state <= E3) return `a malformed number (${found})`;
  if (state >= T1) return `a misspelt literal (${found})`;
  if (state === CO) return `${found} where ':' should follow a key`;
  if (state === OB || state === KE) return `${found} where a key should start`;
  if (state === VA || state === AR) return `${found} where a value should start`;
  return `${found} after a value (a ',' or a closing bracket is missing)`;
}

function describe(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
