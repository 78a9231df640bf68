/**
 * Spaces bundle downloads so that at most `perMinute` start in any minute. FullStory allows two
 * `export/get` calls a minute and answers 429 beyond that
 * (https://developer.fullstory.com/server/v1/exports/get-event-export/); pacing ourselves avoids
 * spending a request (and a Retry-After wait) to learn it.
 */
interface PacerOptions {
  perMinute: number;
  /** ms since the epoch (default `Date.now`). */
  now?: () => number;
  /** Waits `ms`, or rejects with `signal.reason` once it aborts (default: a timer). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Hands out download slots at most `perMinute` per minute; the first one at once. */
export class Pacer {
  private nextAt = -Infinity;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: PacerOptions) {
    this.intervalMs = 60_000 / options.perMinute;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
  }

  /**
   * Resolves when the caller may start a download. Slots are reserved in call order.
   * @param onWait told the wait in ms before it starts, when there is one
   * @param signal ends the wait at once, rejecting with its reason
   */
  async acquire(onWait?: (ms: number) => void, signal?: AbortSignal): Promise<void> {
    const now = this.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.intervalMs;
    if (at > now) {
      onWait?.(at - now);
      await this.sleep(at - now, signal);
    }
  }
}

/** A timer that a signal cancels (rejecting with its reason). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
