/**
 * Where a batch keeps its request bodies and its records while it waits and runs: as UTF-8 bytes, back
 * to back in one buffer, off the JavaScript heap.
 *
 * Why: a batch lives long enough (it fills, waits for a slot, runs for a job's length) that everything it
 * holds is promoted to V8's old generation, and dies there once the batch settles. Held as strings and
 * objects, that garbage made the heap grow to several times what was live before V8 collected it
 * (peak RSS 320-850 MB at batch_size 5000, `--trace-gc` shows the heap climbing to ~240 MB between
 * mark-compacts that leave ~40 MB). Held as bytes in buffers that are reused from batch to batch
 * ({@link BufferPool}), it is neither garbage nor heap: what the heap sees per record is gone young.
 *
 * A list of requests is kept framed as a batch body: `{"requests":[` r0 `,` r1 ... then `]}` is written
 * behind the last one when the whole body is asked for, so sending the whole batch copies nothing.
 */

/**
 * Buffers handed back by settled batches, for the next batches to fill (one pool per kind of list, so
 * each settles at its own size). A new list gets the largest free buffer, and a new buffer is made a
 * little larger than the most any list of the pool held, so lists do not grow through a chain of ever
 * larger buffers: freeing and making buffers of a megabyte or more, batch after batch, fragments the C
 * heap (glibc raises its mmap threshold on each such free), which showed as resident memory creeping
 * up with the input size.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  /** The most bytes a list of this pool held, and so the size new buffers are made at. */
  private largest = 0;

  /** @param keep most buffers kept for reuse (about the batches alive at once) */
  constructor(private readonly keep: number) {}

  /** A buffer of at least `size` bytes (its content is garbage). */
  take(size: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) if (best < 0 || this.free[i]!.length > this.free[best]!.length) best = i;
    if (best >= 0 && this.free[best]!.length >= size) return this.free.splice(best, 1)[0]!;
    // An eighth more than the most held, in 64 KB steps.
    const typical = Math.ceil((this.largest * 1.125) / 65_536) * 65_536;
    return Buffer.allocUnsafeSlow(Math.max(size, typical));
  }

  /** Hand a buffer back (`used` of its bytes were filled); nothing may read or write it afterwards. */
  give(buf: Buffer, used = buf.length): void {
    this.largest = Math.max(this.largest, used);
    if (this.free.length < this.keep) {
      this.free.push(buf);
      return;
    }
    // Full: keep the larger ones.
    let smallest = 0;
    for (let i = 1; i < this.free.length; i++) if (this.free[i]!.length < this.free[smallest]!.length) smallest = i;
    if (this.free[smallest]!.length < buf.length) this.free[smallest] = buf;
  }
}

const FIRST_BYTES = 64 * 1024;

/** The pools a batch's two lists take their buffers from. */
export interface BatchPools {
  requests: BufferPool;
  records: BufferPool;
}

/** Texts appended back to back in one growable buffer. */
export class TextList {
  private buf: Buffer | undefined;
  private used: number;
  /** End offset of each text; text i starts after text i-1's end and the separator. */
  private readonly ends: number[] = [];

  /** The separator's byte, or -1 for none. */
  private readonly separator: number;

  /**
   * @param head written before the first text (a body's `{"requests":[`; ASCII)
   * @param separator written between two texts (one ASCII character, or none)
   */
  constructor(
    private readonly pool: BufferPool,
    private readonly head = '',
    separator = '',
  ) {
    this.separator = separator === '' ? -1 : separator.charCodeAt(0);
    this.buf = pool.take(FIRST_BYTES);
    this.used = this.buf.write(head, 0, 'latin1');
  }

  get length(): number {
    return this.ends.length;
  }

  /** Append one text. */
  push(text: string): void {
    this.reserve(1 + text.length * 3);
    const buf = this.buf!;
    if (this.separator >= 0 && this.ends.length > 0) buf[this.used++] = this.separator;
    this.used += buf.write(text, this.used);
    this.ends.push(this.used);
  }

  /** Text `i`. */
  text(i: number): string {
    return this.buf!.toString('utf8', this.start(i), this.ends[i]!);
  }

  /** The texts `[lo, hi)`, in order. */
  slice(lo: number, hi: number): string[] {
    const out: string[] = [];
    for (let i = lo; i < hi; i++) out.push(this.text(i));
    return out;
  }

  /**
   * The bytes `head` + texts `[lo, hi)` with separators + `tail`. For the whole list this is a view of
   * the buffer (no copy), valid until the list is released.
   */
  framed(lo: number, hi: number, tail: string): Buffer {
    if (lo === 0 && hi === this.ends.length) {
      this.reserve(tail.length);
      const end = this.used + this.buf!.write(tail, this.used, 'latin1');
      return this.buf!.subarray(0, end);
    }
    const body = this.buf!.subarray(this.start(lo), this.ends[hi - 1]!);
    return Buffer.concat([Buffer.from(this.head, 'latin1'), body, Buffer.from(tail, 'latin1')]);
  }

  /** Give the buffer back to the pool (when nothing can still be sending it); the count stays. */
  release(): void {
    if (this.buf) this.pool.give(this.buf, this.used);
    this.buf = undefined;
  }

  /** Forget the buffer without reusing it (a request may still hold it). */
  drop(): void {
    this.buf = undefined;
  }

  private start(i: number): number {
    return i === 0 ? this.head.length : this.ends[i - 1]! + (this.separator >= 0 ? 1 : 0);
  }

  /** Make room for `bytes` more. */
  private reserve(bytes: number): void {
    const buf = this.buf!;
    if (this.used + bytes <= buf.length) return;
    // Half as large again: a list settles near the size it needs (doubling would leave up to half unused).
    const bigger = this.pool.take(Math.max(Math.ceil(buf.length * 1.5), this.used + bytes));
    buf.copy(bigger, 0, 0, this.used);
    this.pool.give(buf, this.used);
    this.buf = bigger;
  }
}
