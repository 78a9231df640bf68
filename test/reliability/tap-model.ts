/**
 * What the tap should emit for a sandbox's generated bundles, and checks of what it did emit.
 *
 * Every event gets a global position: bundles in `Start` order, then the event's index in its bundle.
 * A state value maps to a cursor position (the first event it does not cover), so "nothing before the
 * cursor", "a state never runs ahead of the records" and "duplicates at most one checkpoint
 * interval" become comparisons of integers.
 */
import { parseJson, stringifyJson } from '@fullstory-singer/singer-core';
import { generateBundleEvents, type BundleMeta } from 'fullstory-sandbox';
import { check } from './helpers.js';

/** The sandbox's bundles, their events' exact texts and the position arithmetic. */
export class ExpectedEvents {
  /** Bundles in Start order. */
  readonly bundles: BundleMeta[];
  /** First global position of each bundle, by bundle id (as a decimal string). */
  private readonly firstPos = new Map<string, number>();
  /** Exact JSON text of every event, by global position. */
  readonly texts: string[] = [];

  constructor(bundles: BundleMeta[], seed: number) {
    this.bundles = [...bundles].sort((a, b) => a.start - b.start);
    for (const b of this.bundles) {
      check(b.events !== null, 'the model needs generated bundles (known event counts)');
      this.firstPos.set(String(b.id), this.texts.length);
      for (const text of generateBundleEvents(seed, b.id, b.events, { start: b.start, stop: b.stop })) this.texts.push(text);
    }
  }

  get total(): number {
    return this.texts.length;
  }

  /** Global position of event `index` of bundle `id`. */
  position(id: unknown, index: number): number {
    const first = this.firstPos.get(String(id));
    check(first !== undefined, `record names unknown bundle ${String(id)}`);
    return first + index;
  }

  /**
   * Which positions `seen` (how many times each position landed) never holds, and which it holds more
   * than once.
   */
  missingAndDoubled(seen: Map<number, number>): { missing: number[]; doubled: number[] } {
    const missing: number[] = [];
    const doubled: number[] = [];
    for (let pos = 0; pos < this.total; pos++) {
      const c = seen.get(pos) ?? 0;
      if (c === 0) missing.push(pos);
      if (c > 1) doubled.push(pos);
    }
    return { missing, doubled };
  }

  /** The first position a state value does not cover (0 for no state). */
  cursor(state: Record<string, unknown> | undefined): number {
    const events = (state?.['bookmarks'] as Record<string, unknown> | undefined)?.['events'] as Record<string, unknown> | undefined;
    if (events === undefined) return 0;
    const inProgress = events['in_progress'] as { bundle_id: unknown; offset: number } | undefined;
    if (inProgress !== undefined) return this.position(inProgress.bundle_id, inProgress.offset);
    const lastStop = Date.parse(String(events['last_bundle_stop'])) / 1000;
    check(Number.isFinite(lastStop), `state has neither in_progress nor a valid last_bundle_stop: ${stringifyJson(state)}`);
    let pos = 0;
    for (const b of this.bundles) if (b.stop <= lastStop) pos += b.events!;
    return pos;
  }
}

/** One RECORD the tap printed. */
export interface EmittedRecord {
  pos: number;
  /** The printed line, exactly. */
  line: string;
}

/** What one tap run printed, in order. */
export interface TapOutput {
  records: EmittedRecord[];
  /** STATE values, each with how many records had been printed before it. */
  states: Array<{ value: Record<string, unknown>; after: number }>;
  schemas: number;
}

/**
 * Parses a run's complete stdout lines (losslessly: bundle ids above 2^53 survive) and checks each
 * message is well formed and each record is byte-for-byte the event the sandbox served.
 */
export function readTapOutput(lines: string[], model: ExpectedEvents): TapOutput {
  const out: TapOutput = { records: [], states: [], schemas: 0 };
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const msg = parseJson(line) as { type: string; stream?: string; record?: Record<string, unknown>; value?: Record<string, unknown>; time_extracted?: string };
    if (msg.type === 'RECORD') {
      check(msg.stream === 'events', `line ${i + 1}: RECORD of stream ${String(msg.stream)}`);
      const rec = msg.record!;
      const pos = model.position(rec['_sdc_bundle_id'], Number(rec['_sdc_bundle_index']));
      check(pos < model.total, `line ${i + 1}: index beyond its bundle`);
      const text = model.texts[pos]!;
      // The event's bytes pass through untouched: its body (without the braces) is in the line.
      check(line.includes(text.slice(1, -1)), `line ${i + 1}: record at position ${pos} differs from the event served`);
      check(typeof msg.time_extracted === 'string', `line ${i + 1}: RECORD without time_extracted`);
      out.records.push({ pos, line });
    } else if (msg.type === 'STATE') {
      out.states.push({ value: msg.value!, after: out.records.length });
    } else if (msg.type === 'SCHEMA') {
      out.schemas++;
    } else {
      throw new Error(`line ${i + 1}: unexpected message type ${msg.type}`);
    }
  });
  return out;
}

/**
 * Checks one run that started from `startState`: its records begin exactly at the cursor, are
 * contiguous (nothing skipped, nothing repeated within the run), and no STATE covers a record that
 * was not printed before it.
 */
export function checkRun(out: TapOutput, model: ExpectedEvents, startState: Record<string, unknown> | undefined, label: string): void {
  const from = model.cursor(startState);
  out.records.forEach((r, k) => {
    check(r.pos === from + k, `${label}: record ${k} is at position ${r.pos}, expected ${from + k} (resumed from ${from})`);
  });
  for (const s of out.states) {
    const covered = model.cursor(s.value);
    check(covered <= from + s.after, `${label}: a STATE covers position ${covered} but only ${from + s.after} were printed before it`);
    check(covered >= from, `${label}: a STATE moved the cursor back to ${covered} (run started at ${from})`);
  }
}
