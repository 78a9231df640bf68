import { HttpCore } from './http-core.js';
import type { ClientOptions } from './options.js';

/**
 * What both FullStory API clients share: one {@link HttpCore} (auth, retries, metrics, error
 * wording) and the 429 hook.
 */
export abstract class FullStoryApi {
  protected readonly http: HttpCore;

  protected constructor(options: ClientOptions) {
    this.http = new HttpCore(options);
  }

  /** Called with the wait in ms on every 429, before waiting (the target lowers its in-flight job cap). */
  get onThrottle(): ((retryAfterMs: number) => void) | undefined {
    return this.http.onThrottle;
  }

  set onThrottle(handler: ((retryAfterMs: number) => void) | undefined) {
    this.http.onThrottle = handler;
  }
}
