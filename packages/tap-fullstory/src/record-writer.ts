/**
 * Turns the raw bytes of each element of a body (a bundle's events, a Segment Export file's rows)
 * into a Singer RECORD line and batches lines into large writes through singer-core's
 * MessageWriter (the only stdout writer).
 *
 * Fast path (no field deselected, element on one line): the RECORD line is built by
 * concatenation, never parsing the event:
 * `{"type":"RECORD","stream":"events","record":{"_sdc_bundle_id":<id>,"_sdc_bundle_index":<i>,`
 * + the element's bytes after its `{` + `,"time_extracted":"<ts>"}` (the two key fields are the
 * source's, see streams/key-fields.ts). Every number, string escape and
 * key order FullStory sent survives byte for byte (ids above 2^53 included).
 *
 * Slow path (a catalog deselected fields, or a pretty-printed element spanning lines): the element
 * is parsed losslessly (singer-core `parseJson`: big integers become bigint) and re-serialised.
 *
 * Lines are copied into one reusable buffer and handed to the writer in batches of about
 * `batchBytes`, because one `write()` per 900-byte record would cost more than the scanning.
 * STATE messages go through the same buffer, so a STATE is always written after every RECORD
 * queued before it.
 */
import { parseJson, stringifyJson } from '@fullstory-singer/singer-core';
import type { SingerMessage } from '@fullstory-singer/singer-core';
import { BundleFormatError } from './array-splitter.js';
import type { KeyFields } from './streams/key-fields.js';

/** Where lines go: a singer-core MessageWriter (or anything with its `writeLine`). */
export interface LineSink {
  writeLine(line: string): Promise<void>;
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
export interface RecordWriterOptions {
  /** Target size of one write, in bytes (default 64 KiB). */
  batchBytes?: number;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Builds RECORD lines from raw elements and writes them in batches. See the module comment. */
export class RecordWriter {
  private readonly cap: number;
  private buf: Buffer;
  private len = 0;
  /** Completed batches waiting to be written (strings without the final newline). */
  private full: string[] = [];
  private ctx: RecordContext | undefined;
  private head = '';
  private tail = '';
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
    const origin = typeof ctx.origin === 'string' ? JSON.stringify(ctx.origin) : String(ctx.origin);
    this.head = `{"type":"RECORD","stream":${JSON.stringify(ctx.stream)},"record":{${JSON.stringify(ctx.keys.id)}:${origin},${JSON.stringify(ctx.keys.index)}:`;
    this.tail = `,"time_extracted":${JSON.stringify(ctx.timeExtracted)}}`;
  }

  /**
   * Queues the RECORD for the element `chunk[start, end)` (from `{` to `}`), the `index`-th of the
   * body. Synchronous; call {@link drain} to write what is queued.
   * @throws BundleFormatError when the slow path finds the element is not a JSON object
   */
  writeEvent(index: number, chunk: Buffer, start: number, end: number, hasNewline: boolean): void {
    const ctx = this.ctx;
    if (!ctx) throw new Error('RecordWriter.startBody() was not called');
    this.records++;
    if (hasNewline || (ctx.dropFields !== undefined && ctx.dropFields.size > 0)) {
      this.appendLine(this.reserialise(ctx, index, chunk.toString('utf8', start, end)));
      return;
    }
    if (chunk[start] !== OPEN_BRACE || chunk[end - 1] !== CLOSE_BRACE) {
      throw new BundleFormatError(`element ${index} is not a JSON object`);
    }
    let p = start + 1;
    while (p < end && (chunk[p] === 0x20 || chunk[p] === 0x09)) p++;
    const empty = chunk[p] === CLOSE_BRACE;
    // `{"<index key>":i,` + rest after '{', or `...:i}` for an empty object.
    const head = this.head + index + (empty ? '}' : ',');
    const bodyLen = empty ? 0 : end - start - 1;
    const need = head.length + bodyLen + this.tail.length + 1;
    if (this.len + need > this.cap) {
      this.rotate();
      if (need > this.cap) {
        const line = Buffer.concat([Buffer.from(head, 'latin1'), chunk.subarray(start + 1, empty ? start + 1 : end), Buffer.from(this.tail, 'latin1')]);
        this.full.push(line.toString('utf8'));
        return;
      }
    }
    const buf = this.buf;
    this.len += buf.write(head, this.len, 'latin1');
    if (!empty) this.len += chunk.copy(buf, this.len, start + 1, end);
    this.len += buf.write(this.tail, this.len, 'latin1');
    buf[this.len++] = 0x0a;
  }

  /** Queues any message (a STATE) after everything queued so far. */
  writeMessage(message: SingerMessage): void {
    this.appendLine(stringifyJson(message));
  }

  /** Writes the batches that are full, awaiting backpressure. */
  async drain(): Promise<void> {
    if (this.full.length === 0) return;
    const batches = this.full;
    this.full = [];
    for (const batch of batches) await this.sink.writeLine(batch);
  }

  /** Writes everything queued, awaiting backpressure. */
  async flush(): Promise<void> {
    this.rotate();
    await this.drain();
  }

  private appendLine(line: string): void {
    const need = Buffer.byteLength(line) + 1;
    if (this.len + need > this.cap) {
      this.rotate();
      if (need > this.cap) {
        this.full.push(line);
        return;
      }
    }
    this.len += this.buf.write(line, this.len, 'utf8');
    this.buf[this.len++] = 0x0a;
  }

  /** Moves the current buffer's lines to the queue (decoded once, as one string). */
  private rotate(): void {
    if (this.len === 0) return;
    this.full.push(this.buf.toString('utf8', 0, this.len - 1));
    this.len = 0;
  }

  private reserialise(ctx: RecordContext, index: number, text: string): string {
    let event: unknown;
    try {
      event = parseJson(text);
    } catch (err) {
      throw new BundleFormatError(`element ${index} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      throw new BundleFormatError(`element ${index} is not a JSON object`);
    }
    const record: Record<string, unknown> = { [ctx.keys.id]: ctx.origin, [ctx.keys.index]: index };
    for (const [key, value] of Object.entries(event as Record<string, unknown>)) {
      if (ctx.dropFields?.has(key)) continue;
      // defineProperty, so a key named "__proto__" stays a plain field.
      Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return stringifyJson({ type: 'RECORD', stream: ctx.stream, record, time_extracted: ctx.timeExtracted });
  }
}
