/**
 * Spaces bundle downloads so that at most `perMinute` start in any minute. FullStory allows two
 * `export/get` calls a minute and answers 429 beyond that (fullstory-api.md §2.2); pacing
 * ourselves avoids spending a request (and a Retry-After wait) to learn it.
 */
export interface PacerOptions {
  perMinute: number;
  /** ms since the epoch (default `Date.now`). */
  now?: () => number;
  /** Waits `ms` (default: a timer). */
  sleep?: (ms: number) => Promise<void>;
}

/** Hands out download slots at most `perMinute` per minute; the first one at once. */
export class Pacer {
  private nextAt = -Infinity;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: PacerOptions) {
    this.intervalMs = 60_000 / options.perMinute;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Resolves when the caller may start a download. Slots are reserved in call order. */
  async acquire(): Promise<void> {
    const now = this.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.intervalMs;
    if (at > now) await this.sleep(at - now);
  }
}
