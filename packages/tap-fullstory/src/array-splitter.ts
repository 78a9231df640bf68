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
 * The grammar is checked by a table-driven automaton (one class lookup and one transition per
 * byte, as in Douglas Crockford's JSON_checker), with a stack of open containers and a tight loop
 * for the bytes inside strings. It checks the array's punctuation (`[`, `,`, `]`), and inside
 * each element numbers, the literals `true`/`false`/`null`, commas, colons, escapes, raw control
 * characters in strings and the nesting of brackets. A body that breaks any of it is a
 * {@link BundleFormatError}, so the bundle can be fetched again.
 */
import { isUtf8 } from 'node:buffer';

/** The bundle body is not a well-formed JSON array of objects (truncated, corrupt, or another shape). */
export class BundleFormatError extends Error {
  override readonly name = 'BundleFormatError';
}

/** Bits of the `flags` an {@link ElementHandler} receives. */
export const ElementFlags = {
  /** A CR or LF occurs between the element's tokens (a pretty-printed body): it cannot go on one line as it is. */
  NEWLINE: 1,
  /**
   * A top-level key starts with `_` or an escape, so it may be one of the key fields the tap adds
   * (`_sdc_bundle_id`, `_sdc_bundle_index`): the writer must look at the keys.
   */
  RESERVED_KEY: 2,
  /** A string holds bytes that are not UTF-8. */
  BAD_UTF8: 4,
} as const;

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

// Character classes of the automaton.
const enum C {
  SPACE, NL, LCURB, RCURB, LSQRB, RSQRB, COLON, COMMA, QUOTE, BACKS, SLASH, PLUS, MINUS, POINT, ZERO, DIGIT,
  LOW_A, LOW_B, LOW_C, LOW_D, LOW_E, LOW_F, LOW_L, LOW_N, LOW_R, LOW_S, LOW_T, LOW_U, ABCDF, UP_E, ETC, CTRL, HIGH,
}
const NC = 33;

// States. OK: after a value inside a container; OB: after `{`; KE: after `,` in an object; CO: after
// a key; VA: after `:` or `,` in an array; AR: after `[`; ST: in a string (the tight loop); ES: after
// `\`; U1-U4: the hex digits of `\u`; MI, ZE, IN, FR, FS, E1, E2, E3: a number (after `-`, `0`, other
// integer digits, `.`, fraction digits, `e`, the exponent's sign, exponent digits); T1-T3, F1-F4,
// N1-N3: inside `true`, `false`, `null`.
const enum S {
  OK, OB, KE, CO, VA, AR, ST, ES, U1, U2, U3, U4, MI, ZE, IN, FR, FS, E1, E2, E3, T1, T2, T3, F1, F2, F3, F4, N1, N2, N3,
}
const NS = 30;

// Actions: negative entries of the transition table.
const ERR = -1;
const OBJ_OPEN = -2;
const OBJ_CLOSE = -3;
const ARR_OPEN = -4;
const ARR_CLOSE = -5;
const COMMA_NEXT = -6;
const KEY_START = -7;
const STR_START = -8;
const NEWLINE = -9;

const OBJ = 1;
const ARR = 2;

const CLASS = new Uint8Array(256);
const TABLE = new Int8Array(NS * NC).fill(ERR);
/** In a string: 0 for a byte that needs nothing, else what it is. */
const STRING_BYTE = new Uint8Array(256);
const SB_QUOTE = 1;
const SB_BACKSLASH = 2;
const SB_CONTROL = 3;
const SB_HIGH = 4;

{
  for (let b = 0; b < 256; b++) CLASS[b] = b < 0x20 ? C.CTRL : b >= 0x80 ? C.HIGH : C.ETC;
  const set = (chars: string, c: C): void => {
    for (const ch of chars) CLASS[ch.charCodeAt(0)] = c;
  };
  set(' \t', C.SPACE);
  set('\n\r', C.NL);
  set('{', C.LCURB);
  set('}', C.RCURB);
  set('[', C.LSQRB);
  set(']', C.RSQRB);
  set(':', C.COLON);
  set(',', C.COMMA);
  set('"', C.QUOTE);
  set('\\', C.BACKS);
  set('/', C.SLASH);
  set('+', C.PLUS);
  set('-', C.MINUS);
  set('.', C.POINT);
  set('0', C.ZERO);
  set('123456789', C.DIGIT);
  set('a', C.LOW_A);
  set('b', C.LOW_B);
  set('c', C.LOW_C);
  set('d', C.LOW_D);
  set('e', C.LOW_E);
  set('f', C.LOW_F);
  set('l', C.LOW_L);
  set('n', C.LOW_N);
  set('r', C.LOW_R);
  set('s', C.LOW_S);
  set('t', C.LOW_T);
  set('u', C.LOW_U);
  set('ABCDF', C.ABCDF);
  set('E', C.UP_E);

  const on = (state: S, classes: C[], next: number): void => {
    for (const c of classes) TABLE[state * NC + c] = next;
  };
  const WHITE: C[] = [C.SPACE];
  const VALUE_STARTS = (state: S): void => {
    on(state, [C.LCURB], OBJ_OPEN);
    on(state, [C.LSQRB], ARR_OPEN);
    on(state, [C.QUOTE], STR_START);
    on(state, [C.MINUS], S.MI);
    on(state, [C.ZERO], S.ZE);
    on(state, [C.DIGIT], S.IN);
    on(state, [C.LOW_T], S.T1);
    on(state, [C.LOW_F], S.F1);
    on(state, [C.LOW_N], S.N1);
  };
  /** What may follow a complete value: whitespace, `,`, or the container's end. */
  const VALUE_ENDS = (state: S): void => {
    on(state, WHITE, S.OK);
    on(state, [C.NL], NEWLINE);
    on(state, [C.COMMA], COMMA_NEXT);
    on(state, [C.RCURB], OBJ_CLOSE);
    on(state, [C.RSQRB], ARR_CLOSE);
  };
  VALUE_ENDS(S.OK);
  for (const s of [S.OB, S.KE, S.CO, S.VA, S.AR]) {
    on(s, WHITE, s);
    on(s, [C.NL], NEWLINE);
  }
  on(S.OB, [C.QUOTE], KEY_START);
  on(S.OB, [C.RCURB], OBJ_CLOSE);
  on(S.KE, [C.QUOTE], KEY_START);
  on(S.CO, [C.COLON], S.VA);
  VALUE_STARTS(S.VA);
  VALUE_STARTS(S.AR);
  on(S.AR, [C.RSQRB], ARR_CLOSE);
  on(S.ES, [C.QUOTE, C.BACKS, C.SLASH, C.LOW_B, C.LOW_F, C.LOW_N, C.LOW_R, C.LOW_T], S.ST);
  on(S.ES, [C.LOW_U], S.U1);
  const HEX: C[] = [C.ZERO, C.DIGIT, C.LOW_A, C.LOW_B, C.LOW_C, C.LOW_D, C.LOW_E, C.LOW_F, C.ABCDF, C.UP_E];
  on(S.U1, HEX, S.U2);
  on(S.U2, HEX, S.U3);
  on(S.U3, HEX, S.U4);
  on(S.U4, HEX, S.ST);
  on(S.MI, [C.ZERO], S.ZE);
  on(S.MI, [C.DIGIT], S.IN);
  VALUE_ENDS(S.ZE);
  on(S.ZE, [C.POINT], S.FR);
  on(S.ZE, [C.LOW_E, C.UP_E], S.E1);
  VALUE_ENDS(S.IN);
  on(S.IN, [C.ZERO, C.DIGIT], S.IN);
  on(S.IN, [C.POINT], S.FR);
  on(S.IN, [C.LOW_E, C.UP_E], S.E1);
  on(S.FR, [C.ZERO, C.DIGIT], S.FS);
  VALUE_ENDS(S.FS);
  on(S.FS, [C.ZERO, C.DIGIT], S.FS);
  on(S.FS, [C.LOW_E, C.UP_E], S.E1);
  on(S.E1, [C.PLUS, C.MINUS], S.E2);
  on(S.E1, [C.ZERO, C.DIGIT], S.E3);
  on(S.E2, [C.ZERO, C.DIGIT], S.E3);
  VALUE_ENDS(S.E3);
  on(S.E3, [C.ZERO, C.DIGIT], S.E3);
  on(S.T1, [C.LOW_R], S.T2);
  on(S.T2, [C.LOW_U], S.T3);
  on(S.T3, [C.LOW_E], S.OK);
  on(S.F1, [C.LOW_A], S.F2);
  on(S.F2, [C.LOW_L], S.F3);
  on(S.F3, [C.LOW_S], S.F4);
  on(S.F4, [C.LOW_E], S.OK);
  on(S.N1, [C.LOW_U], S.N2);
  on(S.N2, [C.LOW_L], S.N3);
  on(S.N3, [C.LOW_L], S.OK);

  for (let b = 0; b < 0x20; b++) STRING_BYTE[b] = SB_CONTROL;
  for (let b = 0x80; b < 256; b++) STRING_BYTE[b] = SB_HIGH;
  STRING_BYTE[0x22] = SB_QUOTE;
  STRING_BYTE[0x5c] = SB_BACKSLASH;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const UNDERSCORE = 0x5f;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

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
  private phase = Phase.BeforeArray;
  /** The automaton's state inside an element. */
  private state: number = S.OB;
  /** Whether the string being read is a key (it is followed by `:`) or a value. */
  private stringIsKey = false;
  /** The first byte of a top-level key is in the next chunk: look at it there. */
  private keyStartPending = false;
  private stack = new Uint8Array(64);
  private depth = 0;
  private flags = 0;
  private nonAscii = false;
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
      if (this.phase === Phase.Done) {
        this.skipTrailing(chunk, i);
        return;
      }
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
            this.state = S.OB;
            this.stack[0] = OBJ;
            this.depth = 1;
            this.flags = 0;
            this.nonAscii = false;
            elemStart = i;
            i++;
          } else {
            throw this.error(`event ${this.elements} of the bundle is not a JSON object (found ${describe(c)})`, i, n);
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
        throw this.error(`event ${this.elements} is larger than ${this.maxElementBytes} bytes`, n, n);
      }
    }
  }

  /** Call after the last chunk: throws unless the array was closed. */
  end(): void {
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

  /** Whether the closing `]` has been seen. */
  get done(): boolean {
    return this.phase === Phase.Done;
  }

  /**
   * Runs the automaton over an element from `i`; returns the index just past its closing brace,
   * or -1 when the chunk ends first (the state is kept for the next chunk).
   */
  private scanElement(chunk: Buffer, i: number): number {
    const n = chunk.length;
    let state = this.state;
    let depth = this.depth;
    let stack = this.stack;
    if (this.keyStartPending) {
      this.keyStartPending = false;
      this.checkKeyStart(chunk[i]!);
    }
    while (i < n) {
      if (state === S.ST) {
        // The tight loop: most of a bundle's bytes are inside strings.
        let b = 0;
        let kind = 0;
        while (i < n) {
          b = chunk[i]!;
          kind = STRING_BYTE[b]!;
          if (kind !== 0) break;
          i++;
        }
        if (i === n) break;
        i++;
        if (kind === SB_QUOTE) {
          // Shortcuts for what most often follows (each does what the table would): `":"` or
          // `":` + a value after a key, `","` after a value string in an object.
          if (this.stringIsKey) {
            state = S.CO;
            if (i + 1 < n && chunk[i] === COLON) {
              state = S.VA;
              i++;
              if (chunk[i] === QUOTE) {
                i++;
                state = S.ST;
                this.stringIsKey = false;
              }
            }
          } else {
            state = S.OK;
            if (i + 2 < n && chunk[i] === COMMA && chunk[i + 1] === QUOTE && stack[depth - 1] === OBJ) {
              i += 2;
              state = S.ST;
              this.stringIsKey = true;
              if (depth === 1) this.checkKeyStart(chunk[i]!);
            }
          }
        } else if (kind === SB_BACKSLASH) state = S.ES;
        else if (kind === SB_HIGH) this.nonAscii = true;
        else throw this.invalid(`a raw control character (${describe(b)}) in a string`, i - 1, n);
        continue;
      }
      const c = chunk[i++]!;
      const next = TABLE[state * NC + CLASS[c]!]!;
      if (next >= 0) {
        state = next;
        continue;
      }
      switch (next) {
        case KEY_START:
          state = S.ST;
          this.stringIsKey = true;
          if (depth === 1) {
            if (i < n) this.checkKeyStart(chunk[i]!);
            else this.keyStartPending = true;
          }
          break;
        case STR_START:
          state = S.ST;
          this.stringIsKey = false;
          break;
        case COMMA_NEXT:
          state = stack[depth - 1] === OBJ ? S.KE : S.VA;
          break;
        case OBJ_OPEN:
        case ARR_OPEN:
          if (depth === stack.length) {
            const bigger = new Uint8Array(stack.length * 2);
            bigger.set(stack);
            stack = this.stack = bigger;
          }
          stack[depth++] = next === OBJ_OPEN ? OBJ : ARR;
          state = next === OBJ_OPEN ? S.OB : S.AR;
          break;
        case OBJ_CLOSE:
        case ARR_CLOSE:
          if (stack[depth - 1] !== (next === OBJ_CLOSE ? OBJ : ARR)) throw this.invalid(`a mismatched ${describe(c)}`, i - 1, n);
          depth--;
          state = S.OK;
          if (depth === 0) {
            this.state = state;
            this.depth = 0;
            return i;
          }
          break;
        case NEWLINE:
          this.flags |= ElementFlags.NEWLINE;
          // A newline ends a number as a space does; elsewhere it is whitespace.
          if (state >= S.MI) state = S.OK;
          break;
        default:
          throw this.invalid(unexpected(state, c), i - 1, n);
      }
    }
    this.state = state;
    this.depth = depth;
    return -1;
  }

  private checkKeyStart(b: number): void {
    if (b === UNDERSCORE || b === BACKSLASH) this.flags |= ElementFlags.RESERVED_KEY;
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
    return this.error(`event ${this.elements} is not valid JSON: ${what}`, at, n);
  }

  /** `at` is an index in the current chunk of length `n`; the message names the body offset. */
  private error(message: string, at: number, n: number): BundleFormatError {
    return new BundleFormatError(`${message} at byte ${this.bytes - n + at} of the body`);
  }
}

/** What went wrong at byte `c` in `state`, in words. */
function unexpected(state: number, c: number): string {
  const found = describe(c);
  if (state === S.ES) return `an invalid escape \\${String.fromCharCode(c)}`;
  if (state >= S.U1 && state <= S.U4) return `a \\u escape with ${found} instead of a hex digit`;
  if (state >= S.MI && state <= S.E3) return `a malformed number (${found})`;
  if (state >= S.T1) return `a misspelt literal (${found})`;
  if (state === S.CO) return `${found} where ':' should follow a key`;
  if (state === S.OB || state === S.KE) return `${found} where a key should start`;
  if (state === S.VA || state === S.AR) return `${found} where a value should start`;
  return `${found} after a value (a ',' or a closing bracket is missing)`;
}

function describe(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
