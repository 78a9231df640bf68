/**
 * Decompresses a bundle body when it is gzip, by sniffing its first two bytes (`1f 8b`), and
 * passes it through otherwise. FullStory's docs disagree on whether bundles are gzipped and
 * proxies may already have inflated them (fullstory-api.md §2.2), so headers are not trusted.
 */
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';

/** Output chunk size of the gunzip stream: larger chunks mean fewer callbacks per megabyte. */
const GUNZIP_CHUNK = 64 * 1024;
/** Inflated bytes gunzip may hold ahead of the scanner. */
const GUNZIP_READ_AHEAD = 1024 * 1024;

/**
 * Yields the decoded bytes of `body`. Errors of the body or of gunzip (truncated or corrupt gzip:
 * `Z_BUF_ERROR`, `Z_DATA_ERROR`, codes starting with `Z_`) are thrown from the iteration.
 * Stopping the iteration early destroys the body.
 */
export async function* decodeBody(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer, void, undefined> {
  const source = body[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  try {
    while (head.length < 2) {
      const next = await source.next();
      if (next.done) break;
      head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
    }
    const rest = async function* (): AsyncGenerator<Buffer, void, undefined> {
      if (head.length > 0) yield head;
      for (;;) {
        const next = await source.next();
        if (next.done) return;
        yield next.value;
      }
    };
    if (head[0] === 0x1f && head[1] === 0x8b) {
      // A deep read-ahead lets zlib (on the libuv threadpool) inflate the next chunks while this thread
      // scans the current one, instead of taking turns.
      // (`readableHighWaterMark` is passed on to the Transform, though @types/node's ZlibOptions omits it.)
      const options: ZlibOptions & { readableHighWaterMark: number } = { chunkSize: GUNZIP_CHUNK, readableHighWaterMark: GUNZIP_READ_AHEAD };
      const gunzip = createGunzip(options);
      // pipeline forwards a body error to gunzip (so our iteration throws it) and tears both down
      // when the iteration stops early.
      pipeline(Readable.from(rest(), { objectMode: false }), gunzip, () => undefined);
      yield* gunzip as AsyncIterable<Buffer>;
    } else {
      yield* rest();
    }
  } finally {
    await source.return?.();
  }
}

/** True for zlib's errors (a truncated or corrupt gzip body): worth downloading the bundle again. */
export function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}
