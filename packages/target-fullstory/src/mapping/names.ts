/**
 * FullStory v2 property-name rules: a name matches `[A-Za-z][A-Za-z0-9_]*`, and the full dotted path of
 * a nested property is at most 512 characters (https://developer.fullstory.com/server/users/create-user/).
 * Names that break the rules are rewritten, not dropped: every invalid character becomes `_`, and a name
 * that does not start with a letter gets the prefix `p` (so `_id` → `p_id`, `2fa` → `p2fa`,
 * `agent:type` → `agent_type`). Two names of one object that rewrite to the same name are a collision,
 * which the mapper rejects (properties.ts): a rewrite never overwrites a value.
 */

/** Prefix put before a name that does not start with a letter. */
const NAME_PREFIX = 'p';

const VALID = /^[A-Za-z][A-Za-z0-9_]*$/;
const INVALID_CHARS = /[^A-Za-z0-9_]/g;

/** The FullStory-safe form of one name segment; returns `name` itself when it is valid. */
export function rewritePropertyName(name: string): string {
  if (VALID.test(name)) return name;
  const replaced = name.replace(INVALID_CHARS, '_');
  return /^[A-Za-z]/.test(replaced) ? replaced : NAME_PREFIX + replaced;
}

/** snake_case of a free-form name (`High Value Customers` → `high_value_customers`, `VIPUsers` → `vip_users`). */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

/**
 * Rewrites names and remembers what it did, so each rewrite is reported once per run (not once per
 * record) through `onRewrite`. The cache also keeps the hot path to one Map lookup per unknown key.
 */
export class PropertyNamer {
  private readonly cache = new Map<string, string>();
  private readonly onRewrite: (from: string, to: string) => void;
  /** Number of distinct names rewritten so far. */
  rewrites = 0;

  constructor(onRewrite: (from: string, to: string) => void = () => {}) {
    this.onRewrite = onRewrite;
  }

  /** FullStory-safe name for one segment; reports the first rewrite of each distinct name. */
  name(raw: string): string {
    const hit = this.cache.get(raw);
    if (hit !== undefined) return hit;
    const out = rewritePropertyName(raw);
    // Bound the cache: names come from data (additionalProperties), and memory must stay flat.
    if (this.cache.size < 100_000) this.cache.set(raw, out);
    if (out !== raw) {
      this.rewrites++;
      this.onRewrite(raw, out);
    }
    return out;
  }
}
