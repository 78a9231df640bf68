/**
 * Decompresses a bundle body when it is gzip, by sniffing its first two bytes (`1f 8b`), and
 * passes it through otherwise. FullStory's docs call the body "a JSON document (optionally
 * gzipped)" (https://developer.fullstory.com/server/v1/exports/get-event-export/), and proxies may
 * already have inflated it, so headers are not trusted.
 *
 * The gzip framing (RFC 1952: header, deflate data, CRC-32 and length) is read here around zlib's
 * raw inflate, rather than by zlib's gunzip, because gunzip cannot tell where a member ends: bytes
 * after it (a newline a proxy appended) make it fail, and drop the last output of the same chunk.
 * Here the end of each member is exact, so what follows is classified: another member (decoded
 * too, as gunzip does), whitespace or NULs (ignored), or anything else (ignored with a notice).
 */
import type { Transform } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';

/**
 * Output chunk size of the inflate stream. zlib inflates on the thread pool but needs this thread
 * between two output chunks, so larger chunks mean fewer round trips while the scanner is busy:
 * on the reference bundle 512 KiB cost about 11% less CPU than 64 KiB, for about 2 MB more RSS.
 * 1 MiB was about 5% faster again, but more discarded chunks wait for the garbage collector: peak
 * RSS on a 5,000,000-event bundle read through a pipe was 125 MiB (124 at 512 KiB), too close to
 * the 128 MB the tap keeps under when peaks vary by 3 MiB between runs.
 */
const INFLATE_CHUNK = 512 * 1024;
/** Inflated bytes zlib may hold ahead of the scanner. */
const INFLATE_READ_AHEAD = 1024 * 1024;
/**
 * Bytes after the gzip data read before the rest is let go: enough to tell padding from other
 * bytes, and a body that never ends after a complete bundle cannot keep the tap busy.
 */
export const MAX_BYTES_AFTER_DATA = 1024 * 1024;

/** Options of {@link decodeBody}. */
interface DecodeOptions {
  /**
   * Asked when the gzip data breaks off: whether the bytes decoded so far already hold the whole
   * document (the splitter saw the array close). If so the body is accepted, with a notice.
   */
  isComplete?: () => boolean;
  /** Told, in a few words, about something that was ignored (bytes after the gzip data, a gzip end missing). */
  onNotice?: (text: string) => void;
}

/** A gzip body that is corrupt or cut short; `code` follows zlib's (`Z_DATA_ERROR`, `Z_BUF_ERROR`). */
class GzipError extends Error {
  constructor(
    message: string,
    readonly code: 'Z_DATA_ERROR' | 'Z_BUF_ERROR',
  ) {
    super(`gzip: ${message}`);
  }
}

/**
 * Yields the decoded bytes of `body`. Errors of the body are thrown from the iteration, and so
 * are a corrupt or truncated gzip body's (codes starting with `Z_`, see {@link isZlibError}).
 * Stopping the iteration early destroys the body.
 */
export async function* decodeBody(body: AsyncIterable<Buffer>, options: DecodeOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const source = new ByteSource(body);
  try {
    const head = await source.take(2);
    source.unread(head);
    if (head[0] !== 0x1f || head[1] !== 0x8b) {
      for (let chunk = await source.next(); chunk !== undefined; chunk = await source.next()) yield chunk;
      return;
    }
    try {
      do {
        yield* gzipMember(source);
      } while (await nextIsGzipMember(source, options));
    } catch (err) {
      if (!isTruncation(err) || !options.isComplete?.()) throw err;
      // The array closed before the gzip data broke off: every event arrived.
      options.onNotice?.(`the gzip data ended early after the complete array (${(err as Error).message}); the rest was ignored`);
    }
  } finally {
    await source.close();
  }
}

/** True for zlib's errors and ours (a truncated or corrupt gzip body): worth downloading the bundle again. */
export function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

function isTruncation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'Z_BUF_ERROR';
}

/** One gzip member: header, inflated data (yielded), then the CRC-32 and length check. */
async function* gzipMember(source: ByteSource): AsyncGenerator<Buffer, void, undefined> {
  await skipGzipHeader(source);
  let crc = 0;
  let size = 0;
  for await (const chunk of inflateRaw(source)) {
    crc = crc32(chunk, crc);
    size += chunk.length;
    yield chunk;
  }
  const trailer = await source.take(8);
  if (trailer.length < 8) throw new GzipError('unexpected end of file (in the CRC-32 and length)', 'Z_BUF_ERROR');
  if (trailer.readUInt32LE(0) !== crc >>> 0) throw new GzipError('incorrect data check (CRC-32)', 'Z_DATA_ERROR');
  if (trailer.readUInt32LE(4) !== size % 2 ** 32) throw new GzipError('incorrect length check', 'Z_DATA_ERROR');
}

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

async function skipGzipHeader(source: ByteSource): Promise<void> {
  const fixed = await source.take(10);
  if (fixed.length < 10) throw new GzipError('unexpected end of file (in the header)', 'Z_BUF_ERROR');
  if (fixed[0] !== 0x1f || fixed[1] !== 0x8b) throw new GzipError('incorrect header check', 'Z_DATA_ERROR');
  if (fixed[2] !== 8) throw new GzipError('unknown compression method', 'Z_DATA_ERROR');
  const flags = fixed[3]!;
  if ((flags & 0xe0) !== 0) throw new GzipError('unknown header flags set', 'Z_DATA_ERROR');
  if (flags & FEXTRA) {
    const length = await source.take(2);
    if (length.length < 2) throw new GzipError('unexpected end of file (in the header)', 'Z_BUF_ERROR');
    await source.skip(length.readUInt16LE(0));
  }
  if (flags & FNAME) await source.skipPast(0);
  if (flags & FCOMMENT) await source.skipPast(0);
  if (flags & FHCRC) await source.skip(2);
}

/**
 * Inflates raw deflate data from `source` until the deflate stream ends, and gives back to
 * `source` whatever follows it. zlib runs on the thread pool; `readableHighWaterMark` lets it
 * inflate ahead while this thread scans (it is passed on to the Transform, though @types/node's
 * ZlibOptions omits it).
 */
async function* inflateRaw(source: ByteSource): AsyncGenerator<Buffer, void, undefined> {
  const zlibOptions: ZlibOptions & { readableHighWaterMark: number } = { chunkSize: INFLATE_CHUNK, readableHighWaterMark: INFLATE_READ_AHEAD };
  const inflate = createInflateRaw(zlibOptions);
  // Input written to zlib and not yet known to be consumed: zlib stops at the end of the deflate
  // stream, and `bytesWritten` then says exactly where, so the bytes after it are found here.
  const written: Buffer[] = [];
  let writtenStart = 0; // offset of written[0] in this member's deflate data
  let finished = false;
  const feed = async (): Promise<void> => {
    for (;;) {
      const chunk = await source.next();
      if (finished) {
        if (chunk !== undefined) source.unread(chunk);
        return;
      }
      if (chunk === undefined) {
        inflate.end();
        return;
      }
      while (written.length > 0 && writtenStart + written[0]!.length <= inflate.bytesWritten) writtenStart += written.shift()!.length;
      written.push(chunk);
      if (!inflate.write(chunk)) await drained(inflate);
    }
  };
  const feeding = feed().catch((err: unknown) => {
    inflate.destroy(err as Error);
  });
  try {
    for await (const chunk of inflate as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    // zlib's "unexpected end of file" when the input ends inside the deflate data.
    if ((err as { code?: unknown }).code === 'Z_BUF_ERROR') throw new GzipError('unexpected end of file', 'Z_BUF_ERROR');
    throw err;
  } finally {
    finished = true;
    inflate.destroy();
  }
  await feeding;
  const rest = Buffer.concat(written).subarray(inflate.bytesWritten - writtenStart);
  source.unread(rest);
}

/** Resolves when `stream` can take more input, or will never need it (it ended or closed). */
function drained(stream: Transform): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('end', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('end', done);
    stream.on('close', done);
  });
}

/**
 * After a member: true when another member follows. Otherwise reads the rest of the body and
 * reports it, unless it is only whitespace or NULs.
 */
async function nextIsGzipMember(source: ByteSource, options: DecodeOptions): Promise<boolean> {
  const head = await source.take(2);
  if (head.length === 2 && head[0] === 0x1f && head[1] === 0x8b) {
    source.unread(head);
    return true;
  }
  let bytes = 0;
  let first: number | undefined;
  for (let chunk: Buffer | undefined = head; chunk !== undefined && bytes <= MAX_BYTES_AFTER_DATA; chunk = await source.next()) {
    for (const c of chunk) {
      if (first === undefined && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0) first = c;
    }
    bytes += chunk.length;
  }
  if (first !== undefined) {
    const count = bytes > MAX_BYTES_AFTER_DATA ? `more than ${MAX_BYTES_AFTER_DATA}` : String(bytes);
    options.onNotice?.(`${count} byte(s) after the end of the gzip data were ignored (starting with byte 0x${first.toString(16).padStart(2, '0')})`);
  }
  return false;
}

/** Pull-based reading of a byte stream, with bytes pushed back for the next read. */
class ByteSource {
  private readonly iterator: AsyncIterator<Buffer>;
  private readonly back: Buffer[] = [];

  constructor(body: AsyncIterable<Buffer>) {
    this.iterator = body[Symbol.asyncIterator]();
  }

  /** The next piece of the body, or undefined at its end. */
  async next(): Promise<Buffer | undefined> {
    const pushed = this.back.pop();
    if (pushed !== undefined) return pushed;
    const next = await this.iterator.next();
    return next.done ? undefined : next.value;
  }

  /** Gives bytes back: the next `next()` returns them. */
  unread(bytes: Buffer): void {
    if (bytes.length > 0) this.back.push(bytes);
  }

  /** Exactly `n` bytes, or fewer when the body ends first. */
  async take(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      const chunk = await this.next();
      if (chunk === undefined) break;
      const part = chunk.length > n - have ? chunk.subarray(0, n - have) : chunk;
      if (part !== chunk) this.unread(chunk.subarray(part.length));
      parts.push(part);
      have += part.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Skips `n` bytes. */
  async skip(n: number): Promise<void> {
    if ((await this.take(n)).length < n) throw new GzipError('unexpected end of file (in the header)', 'Z_BUF_ERROR');
  }

  /** Skips up to and including the next byte `value`. */
  async skipPast(value: number): Promise<void> {
    for (;;) {
      const chunk = await this.next();
      if (chunk === undefined) throw new GzipError('unexpected end of file (in the header)', 'Z_BUF_ERROR');
      const at = chunk.indexOf(value);
      if (at >= 0) {
        this.unread(chunk.subarray(at + 1));
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}
