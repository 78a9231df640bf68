/**
 * The Singer line reader: a byte stream (stdin) in, typed messages out, one per line.
 *
 * Why not `readline`: this is the target's hot path, and `readline` can neither cap a line's length
 * (a 1 GB line would be buffered whole) nor report invalid UTF-8 (it silently turns it into
 * U+FFFD). Splitting Buffers on `\n` ourselves and decoding each chunk's complete lines in one
 * `toString` call gives both at about readline's speed (measured: bench/reader-writer.mjs).
 */
import { isUtf8 } from 'node:buffer';
import { InputError } from './errors.js';
import { describeJsonError, parseJson } from './json.js';
import type { Logger } from './logger.js';
import type { OtherMessage, SingerMessage } from './messages.js';

/**
 * When `input` is a terminal, says so on `logger`: a target started by hand, with no tap piped into
 * it, otherwise just sits there silently reading the keyboard. Returns whether it said so.
 */
export function noteTerminalInput(input: NodeJS.ReadableStream, logger: Pick<Logger, 'info'>): boolean {
  if ((input as { isTTY?: boolean }).isTTY !== true) return false;
  logger.info('waiting for Singer messages on stdin (pipe a tap into this command; Ctrl-D ends the input)');
  return true;
}

/** Default cap on one line: a bigger line is an input error, not an out-of-memory crash. */
const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Options of {@link readMessages}. */
export interface ReadMessagesOptions {
  /** Named in error messages (`<source>:<line>: <reason>`). Default `stdin`. */
  source?: string;
  /** Longest accepted line in bytes. Default 64 MiB. */
  maxLineBytes?: number;
  /**
   * Read a SCHEMA without `key_properties` as `key_properties: []` instead of failing. Off by
   * default (the Singer spec requires the key); a target whose behaviour does not depend on key
   * properties turns it on to accept what Meltano SDK targets accept (its conformance stream
   * `pk_updates.singer` nests `key_properties` inside `schema`).
   */
  keyPropertiesOptional?: boolean;
}

/** How a line is checked, beyond its syntax. */
interface MessageCheckOptions {
  /** See {@link ReadMessagesOptions.keyPropertiesOptional}. */
  keyPropertiesOptional?: boolean;
}

/** One message read, with its 1-based line number. */
export interface ReadMessage {
  line: number;
  message: SingerMessage | OtherMessage;
  /** The line as read, without its newline (for a consumer that keeps messages as text, not objects). */
  text: string;
}

const NEWLINE = 0x0a;

/**
 * Reads Singer messages from a byte stream, one JSON object per line.
 *
 * Pull-based: the stream is only read as fast as the consumer iterates, so a slow consumer applies
 * backpressure instead of growing memory. Blank lines are skipped (but counted). `type` is matched
 * case-insensitively and normalised to upper case; unknown types are yielded as {@link OtherMessage}.
 * Integers beyond 2^53 are kept exact as `bigint` (see {@link parseJson}). Every message before a
 * bad line is yielded before the error is thrown.
 *
 * @throws InputError (exit 3) with message `<source>:<line>: <reason>` for a line that is not JSON,
 *   not an object, has no `type`, a SCHEMA/RECORD/STATE/ACTIVATE_VERSION missing a required key,
 *   invalid UTF-8, or a line longer than `maxLineBytes`.
 */
export async function* readMessages(
  input: NodeJS.ReadableStream | AsyncIterable<Buffer | string>,
  options: ReadMessagesOptions = {},
): AsyncGenerator<ReadMessage, void, undefined> {
  for await (const batch of readMessageBatches(input, options)) {
    for (const item of batch) yield item;
  }
}

/**
 * Like {@link readMessages}, but yields the messages of each input chunk as one array: fewer
 * promise round-trips per message, for hot loops. Same checks, errors and backpressure; a batch
 * holds the messages before a bad line, and the error is thrown on the next pull.
 */
export async function* readMessageBatches(
  input: NodeJS.ReadableStream | AsyncIterable<Buffer | string>,
  options: ReadMessagesOptions = {},
): AsyncGenerator<ReadMessage[], void, undefined> {
  const splitter = new MessageSplitter(options.source ?? 'stdin', options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, {
    keyPropertiesOptional: options.keyPropertiesOptional ?? false,
  });
  for await (const raw of input as AsyncIterable<Buffer | string>) {
    const batch = splitter.push(typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw);
    if (batch.length > 0) yield batch;
    if (splitter.error) throw splitter.error;
  }
  const last = splitter.end();
  if (last.length > 0) yield last;
  if (splitter.error) throw splitter.error;
}

/**
 * Splits byte chunks into lines and parses them. Synchronous and push-based, so the async
 * wrappers above pay one promise per chunk rather than per line. After an error, `error` is set
 * and the messages before the bad line are returned.
 */
class MessageSplitter {
  error: InputError | undefined;
  #lineNo = 0;
  // Bytes of the current, unfinished line, kept as the chunks they arrived in (no copying until
  // the line completes).
  #carry: Buffer[] = [];
  #carryBytes = 0;
  #atStart = true;

  constructor(
    readonly source: string,
    readonly maxLineBytes: number,
    readonly check: MessageCheckOptions = {},
  ) {}

  push(chunk: Buffer): ReadMessage[] {
    const out: ReadMessage[] = [];
    try {
      this.#split(chunk, out);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      this.error = err;
    }
    return out;
  }

  end(): ReadMessage[] {
    const out: ReadMessage[] = [];
    if (this.#carryBytes === 0 || this.error) return out;
    // Last line without a trailing newline.
    try {
      const bytes = Buffer.concat(this.#carry, this.#carryBytes);
      this.#carry = [];
      this.#carryBytes = 0;
      this.#lineNo += 1;
      const message = parseLineBytes(bytes, 0, bytes.length, this.#lineNo, this.source, this.check);
      if (message !== undefined) out.push({ line: this.#lineNo, message, text: bytes.toString('utf8') });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      this.error = err;
    }
    return out;
  }

  #tooLong(line: number): InputError {
    return new InputError(`${this.source}:${line}: line is longer than the ${formatBytes(this.maxLineBytes)} limit`, {
      line,
      source: this.source,
    });
  }

  #split(input: Buffer, out: ReadMessage[]): void {
    if (this.error) return;
    let chunk = input;
    if (this.#atStart) {
      // A UTF-8 byte order mark (some Windows tools write one) is not part of the first message.
      // Assumes the first chunk holds at least 3 bytes, which every real stream does.
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
      this.#atStart = chunk.length === 0;
    }
    const { source, maxLineBytes } = this;
    const firstNl = chunk.indexOf(NEWLINE);
    if (firstNl === -1) {
      this.#carryBytes += chunk.length;
      if (this.#carryBytes > maxLineBytes) throw this.#tooLong(this.#lineNo + 1);
      this.#carry.push(chunk);
      return;
    }
    let start = 0;
    if (this.#carryBytes > 0) {
      // The first newline completes the line carried over from earlier chunks.
      const total = this.#carryBytes + firstNl;
      if (total > maxLineBytes) throw this.#tooLong(this.#lineNo + 1);
      this.#carry.push(chunk.subarray(0, firstNl));
      const bytes = Buffer.concat(this.#carry, total);
      this.#carry = [];
      this.#carryBytes = 0;
      this.#lineNo += 1;
      const message = parseLineBytes(bytes, 0, bytes.length, this.#lineNo, source, this.check);
      if (message !== undefined) out.push({ line: this.#lineNo, message, text: bytes.toString('utf8') });
      start = firstNl + 1;
    }
    const lastNl = chunk.lastIndexOf(NEWLINE);
    if (lastNl >= start) {
      // Decode every complete line of the chunk at once: one native call instead of one per line.
      // Cutting at a newline byte never splits a UTF-8 sequence.
      const text = chunk.toString('utf8', start, lastNl);
      // U+FFFD means invalid UTF-8 was replaced (or a real U+FFFD): check those lines' bytes.
      const suspicious = text.includes('\uFFFD');
      let pos = 0;
      let byteStart = start;
      for (;;) {
        const nl = text.indexOf('\n', pos);
        const end = nl === -1 ? text.length : nl;
        const line = ++this.#lineNo;
        const lineText = text.slice(pos, end);
        let message: SingerMessage | OtherMessage | undefined;
        if (suspicious) {
          // Rare path: map back to this line's bytes.
          const byteNl = chunk.indexOf(NEWLINE, byteStart);
          const byteEnd = byteNl === -1 || byteNl > lastNl ? lastNl : byteNl;
          if (byteEnd - byteStart > maxLineBytes) throw this.#tooLong(line);
          message = parseLineBytes(chunk, byteStart, byteEnd, line, source, this.check);
          byteStart = byteEnd + 1;
        } else {
          // UTF-16 length <= UTF-8 length, so only a long string needs its bytes counted.
          if (lineText.length * 3 > maxLineBytes && Buffer.byteLength(lineText) > maxLineBytes) throw this.#tooLong(line);
          message = parseMessageText(lineText, line, source, this.check);
        }
        if (message !== undefined) out.push({ line, message, text: lineText });
        if (nl === -1) break;
        pos = nl + 1;
      }
    }
    if (lastNl + 1 < chunk.length) {
      const rest = chunk.subarray(lastNl + 1);
      if (rest.length > maxLineBytes) throw this.#tooLong(this.#lineNo + 1);
      this.#carry.push(rest);
      this.#carryBytes = rest.length;
    }
  }
}

function parseLineBytes(
  buf: Buffer,
  start: number,
  end: number,
  line: number,
  source: string,
  check: MessageCheckOptions,
): SingerMessage | OtherMessage | undefined {
  const text = buf.toString('utf8', start, end);
  if (text.includes('\uFFFD') && !isUtf8(buf.subarray(start, end))) {
    throw new InputError(`${source}:${line}: line is not valid UTF-8`, { line, source });
  }
  return parseMessageText(text, line, source, check);
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses and checks one line of Singer text. Returns `undefined` for a blank line.
 * Exposed for callers that already split lines (tests, `collectMessages`).
 * @throws InputError naming `<source>:<line>` and the reason.
 */
export function parseMessageText(
  text: string,
  line: number,
  source = 'stdin',
  check: MessageCheckOptions = {},
): SingerMessage | OtherMessage | undefined {
  // A blank line (possibly a lone \r from CRLF input) is skipped; the check is cheap because
  // real messages start with `{`.
  if (text.length === 0 || (text.charCodeAt(0) !== 0x7b && isBlank(text))) return undefined;
  const fail = (reason: string): InputError => new InputError(`${source}:${line}: ${reason}`, { line, source });
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (err) {
    throw fail(`not valid JSON (${describeJsonError(err)})`);
  }
  if (!isObject(value)) throw fail(`expected a JSON object, got ${describeType(value)}`);
  const rawType = value.type;
  if (typeof rawType !== 'string' || rawType.length === 0) {
    throw fail(rawType === undefined ? 'message has no "type"' : '"type" must be a non-empty string');
  }
  // Singer: type is "interpreted case-insensitively" (SPEC.md). Skip toUpperCase on the common case.
  const type = rawType === 'RECORD' || rawType === 'STATE' || rawType === 'SCHEMA' ? rawType : rawType.toUpperCase();
  if (type !== rawType) value.type = type;
  switch (type) {
    case 'RECORD':
      if (typeof value.stream !== 'string') throw fail(missing('RECORD', 'stream', 'a string', value.stream));
      if (!isObject(value.record)) throw fail(missing('RECORD', 'record', 'an object', value.record));
      break;
    case 'SCHEMA':
      if (typeof value.stream !== 'string') throw fail(missing('SCHEMA', 'stream', 'a string', value.stream));
      if (!isObject(value.schema)) throw fail(missing('SCHEMA', 'schema', 'an object', value.schema));
      if (value.key_properties === undefined && check.keyPropertiesOptional) {
        value.key_properties = [];
      } else if (!Array.isArray(value.key_properties)) {
        throw fail(missing('SCHEMA', 'key_properties', 'an array', value.key_properties));
      }
      break;
    case 'STATE':
      if (!('value' in value)) throw fail('STATE has no "value"');
      break;
    case 'ACTIVATE_VERSION':
      if (typeof value.stream !== 'string') throw fail(missing('ACTIVATE_VERSION', 'stream', 'a string', value.stream));
      if (typeof value.version !== 'number' && typeof value.version !== 'bigint') {
        throw fail(missing('ACTIVATE_VERSION', 'version', 'a number', value.version));
      }
      break;
    default:
      break;
  }
  return value as unknown as SingerMessage | OtherMessage;
}

function missing(type: string, key: string, expected: string, actual: unknown): string {
  return actual === undefined ? `${type} has no "${key}"` : `${type} "${key}" must be ${expected}, got ${describeType(actual)}`;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'bigint') return 'a number';
  return `a ${typeof value}`;
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
