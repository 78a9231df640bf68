/**
 * Progress on stderr at a bounded rate: the logger's live status line on a terminal, and a plain
 * log line once a minute otherwise (a CI log or a runner's log file must not fill with carriage
 * returns). Where the size of the job is known, each report ends with the share done and an
 * estimate of the time left.
 */
import { createLogger, type Logger } from './logger.js';
import type { Redactor } from './redact.js';

/** Options of {@link ProgressReporter}. */
interface ProgressOptions {
  /**
   * The program's logger. Pass it whenever there is one: the live line must go through the same
   * object as the log lines, or they end up glued together on the terminal. Without it, the
   * reporter makes a logger of its own on `out`.
   */
  logger?: Logger;
  /** Without `logger` only: default `process.stderr`. */
  out?: NodeJS.WritableStream;
  /** Without `logger` only. */
  redactor?: Redactor;
  /** Whether to draw a live line. Default: the logger's `tty` (else `out.isTTY`). */
  isTTY?: boolean;
  /** Least time between two outputs. Default 250 ms on a TTY, 60 s otherwise (singer-python's metric interval). */
  intervalMs?: number;
  /** Milliseconds clock; injectable for tests. Default `Date.now`. */
  clock?: () => number;
}

/** How far the job is, when its size is known: `done` of `total`, in any one unit. */
interface Completion {
  done: number;
  total: number;
}

// No estimate from less than this much work: the first seconds (a download starting) say little.
const MIN_ESTIMATE_MS = 2000;

/** Reports progress text at a bounded rate. */
export class ProgressReporter {
  readonly #logger: Logger;
  readonly #live: boolean;
  readonly #intervalMs: number;
  readonly #clock: () => number;
  #last: number;
  /** The first report with a completion: the rate behind the estimate is measured from it. */
  #first: { at: number; done: number } | undefined;

  constructor(options: ProgressOptions = {}) {
    const out = options.out ?? process.stderr;
    const ownTty = options.isTTY ?? (out as { isTTY?: boolean }).isTTY === true;
    this.#logger =
      options.logger ?? createLogger({ out, isTTY: ownTty, ...(options.redactor ? { redactor: options.redactor } : {}) });
    const tty = options.isTTY ?? (options.logger ? (options.logger as { tty?: boolean }).tty === true : ownTty);
    this.#live = tty && this.#logger.status !== undefined;
    this.#intervalMs = options.intervalMs ?? (this.#live ? 250 : 60_000);
    this.#clock = options.clock ?? Date.now;
    // Non-TTY: the first line comes one interval after start, so short runs print no noise.
    this.#last = this.#live ? -Infinity : this.#clock();
  }

  /**
   * Shows `text` if at least one interval passed since the last output; otherwise drops it. With a
   * `completion`, the text gets the share done and, once there is enough to go on, the time left:
   * `…, 40%, about 3 min left`.
   */
  update(text: string, completion?: Completion): void {
    const now = this.#clock();
    if (completion && this.#first === undefined) this.#first = { at: now, done: completion.done };
    if (now - this.#last < this.#intervalMs) return;
    this.#last = now;
    // One line only: a newline inside would break the live line or the log format.
    const oneLine = text.replace(/[\r\n]+/g, ' ');
    const shown = completion ? `${oneLine}, ${this.#estimate(completion, now)}` : oneLine;
    if (this.#live) this.#logger.status!(shown);
    else this.#logger.info(shown);
  }

  /** Ends the live line (TTY) and logs `text` as a final line when given. */
  done(text?: string): void {
    if (this.#live) this.#logger.clearStatus?.();
    if (text !== undefined) this.#logger.info(text);
  }

  #estimate({ done, total }: Completion, now: number): string {
    const share = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
    // Floor, so 100% is only ever shown when everything is done.
    const percent = `${Math.floor(share * 100)}%`;
    const first = this.#first!;
    const elapsed = now - first.at;
    const progressed = done - first.done;
    if (!(total > 0) || share >= 1 || elapsed < MIN_ESTIMATE_MS || progressed <= 0) return percent;
    return `${percent}, about ${formatDuration(((total - done) * elapsed) / progressed)} left`;
  }
}

/** `45 s`, `3 min`, `1 h 20 min`: an estimate, so no false precision. */
function formatDuration(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}
