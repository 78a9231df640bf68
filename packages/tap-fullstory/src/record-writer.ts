/**
 * Turns the raw bytes of each element of a body (a bundle's events, a Segment Export file's rows;
 * already checked to be valid JSON by the splitter) into a Singer RECORD line, and batches lines
 * into large writes through singer-core's MessageWriter (the only stdout writer).
 *
 * Fast path (the common case): the RECORD line is built by concatenation, never parsing the event:
 * `{"type":"RECORD","stream":"events","record":{"_sdc_bundle_id":<id>,"_sdc_bundle_index":<i>,`
 * + the element's bytes after its `{` + `,"time_extracted":"<ts>"}` (the two key fields are the
 * source's, streams/key-fields.ts). Every number, string escape and key order FullStory sent
 * survives byte for byte (ids above 2^53 included).
 *
 * Member path (a catalog deselected fields, the element spans lines, or a top-level key may be one
 * of the tap's key fields): the element's top-level members are walked at byte level, and each kept
 * member is copied with the whitespace between its tokens removed. No value is parsed, so this path
 * is lossless too, and it needs no recursion however deep an event is nested. Members named like
 * the tap's key fields (`_sdc_bundle_id`, `_sdc_bundle_index`, or the window's) are dropped: the
 * tap's key fields always win, so two records never share a key.
 *
 * An element whose strings are not UTF-8 is decoded with U+FFFD for the bad bytes first, so every
 * line is UTF-8 JSON a target can read.
 *
 * Lines are copied into one buffer and handed to the writer in batches of about `batchBytes`,
 * without ever decoding them into a string, because one `write()` per 900-byte record would cost
 * more than the scanning. STATE messages go through the same buffer, so a STATE is always written
 * after every RECORD queued before it.
 */
import { stringifyJson } from '@fullstory-singer/singer-core';
import type { SingerMessage } from '@fullstory-singer/singer-core';
import { ElementFlags } from './array-splitter.js';
import type { KeyFields } from './streams/key-fields.js';

/**
 * Where batches go: a singer-core MessageWriter (or anything with its `writeLines`). `released` is
 * called once the sink no longer holds `bytes`, so the buffer can be used for another batch.
 */
interface LineSink {
  writeLines(bytes: Buffer, released?: () => void): Promise<void>;
}

/** What every record of one body (a bundle, a window's file) shares. */
export interface RecordContext {
  stream: string;
  /** The names of the two key fields. */
  keys: Pick<KeyFields, 'id' | 'index'>;
  /** The first key field's value: the bundle id, or the window's start. */
  origin: number | bigint | string;
  /** RFC 3339, the RECORD's `time_extracted`. */
  timeExtracted: string;
  /** Top-level fields to leave out (fields a catalog deselected); empty or absent = keep all. */
  dropFields?: ReadonlySet<string>;
}

/** Options of {@link RecordWriter}. */
interface RecordWriterOptions {
  /** Target size of one write, in bytes (default 64 KiB). */
  batchBytes?: number;
}

/** Elements of the current body that needed a repair, for one log line each (`first` is an element index). */
interface BodyRepairs {
  /** Elements that carried their own key fields (replaced by the tap's). */
  ownKeyFields: { count: number; first: number } | undefined;
  /** Events whose strings held bytes that are not UTF-8 (replaced by U+FFFD). */
  badUtf8: { count: number; first: number } | undefined;
}

const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const CLOSE_BRACE_BYTES = Buffer.from('}');
const NEWLINE_BYTES = Buffer.from('\n');

/** Builds RECORD lines from raw elements and writes them in batches. See the module comment. */
export class RecordWriter {
  private readonly cap: number;
  private buf: Buffer;
  private len = 0;
  /** Completed batches waiting to be written: their buffer and how much of it holds lines. */
  private full: Array<{ buf: Buffer; len: number }> = [];
  /**
   * Batch buffers the sink has released, to fill again: a new 64 KiB buffer per batch would make
   * V8 collect garbage for the external memory alone (a tenth of the run on a piped stdout).
   */
  private spare: Buffer[] = [];
  private ctx: RecordContext | undefined;
  /** The fields the head puts first in every record; an element's own members of these names are dropped. */
  private keyFields: ReadonlySet<string> = new Set();
  /** The RECORD line up to the index key field's `:`. */
  private headBytes: Buffer = Buffer.alloc(0);
  /** `,"time_extracted":"…"}`. */
  private tailBytes: Buffer = Buffer.alloc(0);
  private repairs: BodyRepairs = { ownKeyFields: undefined, badUtf8: undefined };
  /** RECORD lines queued so far (all bundles). */
  records = 0;

  constructor(
    private readonly sink: LineSink,
    options: RecordWriterOptions = {},
  ) {
    this.cap = options.batchBytes ?? 64 * 1024;
    this.buf = Buffer.allocUnsafe(this.cap);
  }

  /** Sets the body the next records belong to. */
  startBody(ctx: RecordContext): void {
    this.ctx = ctx;
    this.keyFields = new Set([ctx.keys.id, ctx.keys.index]);
    const origin = typeof ctx.origin === 'string' ? JSON.stringify(ctx.origin) : String(ctx.origin);
    this.headBytes = Buffer.from(
      `{"type":"RECORD","stream":${JSON.stringify(ctx.stream)},"record":{${JSON.stringify(ctx.keys.id)}:${origin},${JSON.stringify(ctx.keys.index)}:`,
      'utf8',
    );
    this.tailBytes = Buffer.from(`,"time_extracted":${JSON.stringify(ctx.timeExtracted)}}`, 'utf8');
    this.repairs = { ownKeyFields: undefined, badUtf8: undefined };
  }

  /** The repairs made to the current body's elements so far. */
  get bodyRepairs(): BodyRepairs {
    return this.repairs;
  }

  /**
   * Queues the RECORD for the valid JSON object `chunk[start, end)` (from `{` to `}`), the
   * `index`-th element of the body, with the splitter's `flags`. Synchronous; call {@link drain}
   * to write what is queued.
   */
  writeEvent(index: number, chunk: Buffer, start: number, end: number, flags: number): void {
    const ctx = this.ctx;
    if (!ctx) throw new Error('RecordWriter.startBody() was not called');
    this.records++;
    if (flags !== 0 || (ctx.dropFields !== undefined && ctx.dropFields.size > 0)) {
      this.writeMembers(ctx, index, chunk, start, end, flags);
      return;
    }
    let p = start + 1;
    while (p < end && (chunk[p] === 0x20 || chunk[p] === 0x09)) p++;
    const empty = chunk[p] === CLOSE_BRACE;
    const head = this.headBytes;
    const tail = this.tailBytes;
    const bodyLen = empty ? 0 : end - start - 1;
    // head, up to 16 digits of the index, ',' or '}', the event after its '{', tail, newline
    const need = head.length + 17 + bodyLen + tail.length + 1;
    if (this.len + need > this.cap) {
      this.rotate();
      if (need > this.cap) {
        const line = Buffer.concat([head, Buffer.from(`${index}${empty ? '}' : ','}`), chunk.subarray(start + 1, empty ? start + 1 : end), tail, NEWLINE_BYTES]);
        this.full.push({ buf: line, len: line.length });
        return;
      }
    }
    // TypedArray#set for the fixed parts: several times cheaper than writing a string per record.
    const buf = this.buf;
    let len = this.len;
    buf.set(head, len);
    len = writeDecimal(buf, len + head.length, index);
    buf[len++] = empty ? CLOSE_BRACE : COMMA;
    if (!empty) len += chunk.copy(buf, len, start + 1, end);
    buf.set(tail, len);
    len += tail.length;
    buf[len++] = NEWLINE;
    this.len = len;
  }

  /** Queues any message (a STATE) after everything queued so far. */
  writeMessage(message: SingerMessage): void {
    this.appendLine(Buffer.from(`${stringifyJson(message)}\n`, 'utf8'));
  }

  /** Writes the batches that are full, awaiting backpressure. */
  async drain(): Promise<void> {
    if (this.full.length === 0) return;
    const batches = this.full;
    this.full = [];
    for (const { buf, len } of batches) {
      const reusable = buf.length === this.cap;
      await this.sink.writeLines(len === buf.length ? buf : buf.subarray(0, len), reusable ? () => this.spare.push(buf) : undefined);
    }
  }

  /** Writes everything queued, awaiting backpressure. */
  async flush(): Promise<void> {
    this.rotate();
    await this.drain();
  }

  /** The member path (see the module comment). */
  private writeMembers(ctx: RecordContext, index: number, chunk: Buffer, start: number, end: number, flags: number): void {
    let bytes = chunk;
    if ((flags & ElementFlags.BAD_UTF8) !== 0) {
      bytes = Buffer.from(chunk.toString('utf8', start, end), 'utf8');
      start = 0;
      end = bytes.length;
      this.repairs.badUtf8 = note(this.repairs.badUtf8, index);
    }
    const parts: Buffer[] = [this.headBytes, Buffer.from(String(index))];
    let ownKeyFields = false;
    for (const member of topLevelMembers(bytes, start, end)) {
      const key = decodeKey(bytes, member.keyStart, member.keyEnd);
      if (this.keyFields.has(key)) {
        ownKeyFields = true;
        continue;
      }
      if (ctx.dropFields?.has(key)) continue;
      parts.push(COMMA_BYTES, compact(bytes, member.keyStart, member.end));
    }
    if (ownKeyFields) this.repairs.ownKeyFields = note(this.repairs.ownKeyFields, index);
    parts.push(CLOSE_BRACE_BYTES, this.tailBytes, NEWLINE_BYTES);
    this.appendLine(Buffer.concat(parts));
  }

  /** Queues one whole line (ending in `\n`). */
  private appendLine(line: Buffer): void {
    if (this.len + line.length > this.cap) {
      this.rotate();
      if (line.length > this.cap) {
        this.full.push({ buf: line, len: line.length });
        return;
      }
    }
    this.len += line.copy(this.buf, this.len);
  }

  /** Moves the current buffer's lines to the queue and starts another buffer (a queued one is not touched until released). */
  private rotate(): void {
    if (this.len === 0) return;
    this.full.push({ buf: this.buf, len: this.len });
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(this.cap);
    this.len = 0;
  }
}

const COMMA_BYTES = Buffer.from(',');

/** Writes the decimal digits of the non-negative integer `n` at `at`; returns the index after them. */
function writeDecimal(buf: Buffer, at: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  const end = at + digits;
  for (let k = end - 1; k >= at; k--) {
    buf[k] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return end;
}

function note(seen: { count: number; first: number } | undefined, index: number): { count: number; first: number } {
  return seen === undefined ? { count: 1, first: index } : { count: seen.count + 1, first: seen.first };
}

/** One `"key": value` member of an object: the key's bytes (quotes included) and where the value ends. */
interface Member {
  keyStart: number;
  keyEnd: number;
  end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Index just past the string that starts with the quote at `i`. */
function skipString(b: Buffer, i: number): number {
  for (i++; ; i++) {
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++;
  }
}

/**
 * The top-level members of the valid JSON object `b[start, end)`. Values are skipped by counting
 * brackets outside strings, so any depth costs no stack.
 */
function* topLevelMembers(b: Buffer, start: number, end: number): Generator<Member> {
  let i = start + 1;
  for (;;) {
    while (isWhitespace(b[i]!)) i++;
    if (b[i] === CLOSE_BRACE || i >= end) return;
    const keyStart = i;
    i = skipString(b, i);
    const keyEnd = i;
    while (b[i] !== 0x3a) i++; // the ':'
    i++;
    while (isWhitespace(b[i]!)) i++;
    let depth = 0;
    for (;;) {
      const c = b[i]!;
      if (c === QUOTE) {
        i = skipString(b, i);
        if (depth === 0) break;
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === CLOSE_BRACE || c === 0x5d) {
        if (depth === 0) break; // the object's own '}' after a scalar
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      } else if (depth === 0 && (c === 0x2c || isWhitespace(c))) break;
      i++;
    }
    yield { keyStart, keyEnd, end: i };
    while (isWhitespace(b[i]!)) i++;
    if (b[i] === 0x2c) i++;
  }
}

/** The text of the key string `b[start, end)` (quotes included), escapes decoded. */
function decodeKey(b: Buffer, start: number, end: number): string {
  const raw = b.toString('utf8', start + 1, end - 1);
  return raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
}

/** `b[start, end)` without the whitespace between tokens (whitespace inside strings is kept). */
function compact(b: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === QUOTE) {
      const close = skipString(b, i);
      n += b.copy(out, n, i, close);
      i = close - 1;
    } else if (!isWhitespace(c)) {
      out[n++] = c;
    }
  }
  return out.subarray(0, n);
}
