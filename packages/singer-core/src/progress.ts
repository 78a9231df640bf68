/**
 * Progress on stderr: a live line rewritten in place on a terminal, and periodic plain log lines
 * otherwise (a CI log or a runner's log file must not fill with carriage returns).
 */
import type { Redactor } from './redact.js';

/** Options of {@link ProgressReporter}. */
export interface ProgressOptions {
  /** Default `process.stderr`. */
  out?: NodeJS.WritableStream;
  /** Default: `out.isTTY`. */
  isTTY?: boolean;
  /** Least time between two outputs. Default 250 ms on a TTY, 60 s otherwise (singer-python's metric interval). */
  intervalMs?: number;
  /** Milliseconds clock; injectable for tests. Default `Date.now`. */
  clock?: () => number;
  redactor?: Redactor;
}

const CLEAR_TO_END = '\u001b[K';

/** Reports progress text at a bounded rate. */
export class ProgressReporter {
  readonly #out: NodeJS.WritableStream;
  readonly #tty: boolean;
  readonly #intervalMs: number;
  readonly #clock: () => number;
  readonly #redactor: Redactor | undefined;
  #last: number;
  #drawn = false;

  constructor(options: ProgressOptions = {}) {
    this.#out = options.out ?? process.stderr;
    this.#tty = options.isTTY ?? (this.#out as { isTTY?: boolean }).isTTY === true;
    this.#intervalMs = options.intervalMs ?? (this.#tty ? 250 : 60_000);
    this.#clock = options.clock ?? Date.now;
    this.#redactor = options.redactor;
    // Non-TTY: the first line comes one interval after start, so short runs print no noise.
    this.#last = this.#tty ? -Infinity : this.#clock();
  }

  /** Shows `text` if at least one interval passed since the last output; otherwise drops it. */
  update(text: string): void {
    const now = this.#clock();
    if (now - this.#last < this.#intervalMs) return;
    this.#last = now;
    if (this.#tty) {
      this.#out.write(`\r${this.#clean(text)}${CLEAR_TO_END}`);
      this.#drawn = true;
    } else {
      this.#out.write(`INFO ${this.#clean(text)}\n`);
    }
  }

  /** Ends the live line (TTY) and prints `text` as a final line when given. */
  done(text?: string): void {
    if (this.#tty) {
      if (text !== undefined) this.#out.write(`\r${this.#clean(text)}${CLEAR_TO_END}\n`);
      else if (this.#drawn) this.#out.write(`\r${CLEAR_TO_END}`);
      this.#drawn = false;
    } else if (text !== undefined) {
      this.#out.write(`INFO ${this.#clean(text)}\n`);
    }
  }

  #clean(text: string): string {
    // One line only: a newline inside would break the live line or the log format.
    const oneLine = text.replace(/[\r\n]+/g, ' ');
    return this.#redactor ? this.#redactor.redact(oneLine) : oneLine;
  }
}
