/**
 * Secret redaction. Every log line and every error line printed by the runner passes through a
 * {@link Redactor}, so a registered secret (an API key) never reaches stderr, whatever fails.
 */

/** What a secret is replaced with. */
export const REDACTED = '[REDACTED]';

/** Shorter strings are not registered: redacting "a" everywhere would shred every message. */
const MIN_SECRET_LENGTH = 4;

/**
 * Replaces registered secrets, and the forms they are likely to travel in (base64 as in a Basic
 * `Authorization` header, URL-encoded), with `[REDACTED]`.
 */
export class Redactor {
  /** The secrets as registered. */
  readonly #registered = new Set<string>();
  /** Every form of every registered secret. */
  #secrets = new Set<string>();
  #pattern: RegExp | undefined;

  /** Registers a secret. `undefined`, empty and very short values (< 4 chars) are ignored. */
  register(secret: string | undefined): void {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH || this.#registered.has(secret)) return;
    this.#registered.add(secret);
    let added = false;
    for (const form of formsOf(secret)) {
      if (!this.#secrets.has(form)) {
        this.#secrets.add(form);
        added = true;
      }
    }
    if (added) this.#pattern = undefined;
  }

  /**
   * Unregisters a secret registered before, for short-lived secrets such as a signed download URL,
   * so that a long run does not accumulate one per download. The forms of the other secrets stay.
   */
  forget(secret: string | undefined): void {
    if (typeof secret !== 'string' || !this.#registered.delete(secret)) return;
    this.#secrets = new Set([...this.#registered].flatMap(formsOf));
    this.#pattern = undefined;
  }

  /** Number of registered forms (for diagnostics and tests). */
  get size(): number {
    return this.#secrets.size;
  }

  /** Returns `text` with every registered secret replaced by `[REDACTED]`. */
  redact(text: string): string {
    if (this.#secrets.size === 0) return text;
    if (this.#pattern === undefined) {
      // Longest first, so a secret that contains another is replaced whole.
      const alternatives = [...this.#secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.#pattern = new RegExp(alternatives.join('|'), 'g');
    }
    return text.replace(this.#pattern, REDACTED);
  }
}

/** A secret and the forms it is likely to travel in: base64 (with and without padding, as in a Basic header) and URL-encoded. */
function formsOf(secret: string): string[] {
  const b64 = Buffer.from(secret, 'utf8').toString('base64');
  return [secret, b64, encodeURIComponent(secret), b64.replace(/=+$/, '')].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
