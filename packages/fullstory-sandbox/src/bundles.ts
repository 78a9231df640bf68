/**
 * The sandbox's list of published export bundles: generated ones (a seed, an event count and a
 * window) and fixture files. Bundles are kept oldest first (by Stop, then Id) as the list API
 * answers them; ids are compared as decimal strings so ids above 2^53 work.
 */
import type { BundleMeta, PublishSpec } from './types.js';

/** A published bundle with its id as a canonical decimal string (the lookup key). */
export interface BundleEntry {
  key: string;
  meta: BundleMeta;
  /** For fixture bundles: whether the file holds gzip bytes. */
  gzipped?: boolean;
}

/** Settings that shape generated bundles. */
interface GeneratedDefaults {
  seed: number;
  eventsPerBundle: number | number[];
  bundleHours: number;
  /** Unix seconds where the first bundle starts when nothing was published yet. */
  firstStart: number;
  firstId: bigint;
}

/** `number` when it fits a double exactly, else `bigint`. */
export function toId(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** Parses a bundle id given as number, bigint or decimal string; undefined if not a non-negative integer. */
export function parseId(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n ? value : undefined;
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : undefined;
  if (typeof value === 'string' && /^\d{1,30}$/.test(value)) return BigInt(value);
  return undefined;
}

export class BundleCatalog {
  private readonly entries: BundleEntry[] = [];
  private readonly byKey = new Map<string, BundleEntry>();

  constructor(private readonly defaults: GeneratedDefaults) {}

  /** Every bundle, oldest first. */
  all(): BundleEntry[] {
    return this.entries;
  }

  get(key: string): BundleEntry | undefined {
    return this.byKey.get(key);
  }

  /** At most `limit` bundles whose Stop is after `start` (unix seconds), oldest first. */
  list(start: number, limit = 20): BundleEntry[] {
    const out: BundleEntry[] = [];
    for (const entry of this.entries) {
      if (entry.meta.stop > start) {
        out.push(entry);
        if (out.length === limit) break;
      }
    }
    return out;
  }

  /** Adds a bundle; throws if its id is taken. */
  add(entry: BundleEntry): void {
    if (this.byKey.has(entry.key)) throw new Error(`bundle id ${entry.key} is already published`);
    this.byKey.set(entry.key, entry);
    this.entries.push(entry);
    this.entries.sort((a, b) => a.meta.stop - b.meta.stop || compareKeys(a.key, b.key));
  }

  /**
   * Publishes generated bundles after the last one (window after the latest Stop, id after the
   * highest id). Returns their metadata.
   */
  publish(spec: PublishSpec = {}): BundleMeta[] {
    const events = spec.events ?? this.defaults.eventsPerBundle;
    const count = spec.count ?? (Array.isArray(events) ? events.length : 1);
    const hours = spec.hours ?? this.defaults.bundleHours;
    if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
    if (!(hours > 0)) throw new RangeError('hours must be a positive number');
    const counts = Array.isArray(events) ? events : [events];
    if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 0)) {
      throw new RangeError('events must be a non-negative integer or a non-empty array of them');
    }
    const out: BundleMeta[] = [];
    for (let i = 0; i < count; i++) {
      const last = this.entries[this.entries.length - 1];
      const start = last === undefined ? this.defaults.firstStart : last.meta.stop;
      const stop = start + Math.round(hours * 3600);
      const idValue = this.nextId();
      const meta: BundleMeta = {
        id: toId(idValue), start, stop, events: counts[i % counts.length]!, source: 'generated', seed: this.defaults.seed,
      };
      this.add({ key: idValue.toString(), meta });
      out.push(meta);
    }
    return out;
  }

  private nextId(): bigint {
    let max: bigint | undefined;
    for (const e of this.entries) {
      const v = BigInt(e.key);
      if (max === undefined || v > max) max = v;
    }
    return max === undefined ? this.defaults.firstId : max + 1n;
  }
}

function compareKeys(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
