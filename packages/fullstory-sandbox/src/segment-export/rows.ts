/**
 * The rows of a Segment Export, produced one JSON text at a time from the sandbox's generated
 * bundles, so an export of any size costs no memory.
 *
 * The generated bundles are the sandbox's one timeline: a window `[from, to)` of a Segment Export
 * holds exactly the generated events whose `EventStart` falls in it, whichever bundles they sit in,
 * so the same data can be read through either export API. Events of one bundle come out in time
 * order (the generator's times only grow) and bundles follow each other, so the rows are in
 * `EventStart` order. Fixture bundles are files of unknown content and are not part of the timeline.
 */
import { EventGenerator } from '../generator.js';
import { parseJsonLossless, stringifyJson } from '../json.js';
import type { BundleMeta } from '../types.js';
import type { Projection } from './fields.js';

const EVENT_START = '"EventStart":"';
/** `2024-01-01T00:00:00.000Z`: the generator writes every time with `toISOString`. */
const ISO_LENGTH = 24;

/**
 * JSON texts of the generated events with `from ≤ EventStart < to` (ms since the epoch), in time
 * order. Times are compared as ISO strings, which order like the instants they name.
 */
export function* eventTexts(bundles: readonly BundleMeta[], from: number, to: number): Generator<string> {
  const { low, high, generators } = timeline(bundles, from, to);
  for (const gen of generators) {
    for (let text = gen.next(); text !== undefined; text = gen.next()) {
      const time = eventStartOf(text);
      if (time < low) continue;
      if (time >= high) break;
      yield text;
    }
  }
}

/**
 * A Segment Export event row from a generated (legacy-shaped) event: the legacy `PageAgent` and
 * `EventTargetSelectorTok` are `PageUserAgent` and `EventTargetSelector` in Segment Export (hauser's
 * `BaseExportFields`), and a projection keeps only the requested keys. Without a projection the text
 * is passed on as it is, but for those renames.
 */
export function eventRow(text: string, projection: Projection | undefined): string {
  const renamed = text.replace('"PageAgent":', '"PageUserAgent":').replace('"EventTargetSelectorTok":', '"EventTargetSelector":');
  return projection === undefined ? renamed : project(renamed, projection);
}

/** The row with only the keys the projection keeps, in their original order (lossless for big ids). */
export function project(text: string, projection: Projection): string {
  const row = parseJsonLossless(text) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) if (projection.keeps(key)) out[key] = value;
  return stringifyJson(out);
}

interface Session {
  start: number;
  end: number;
  pages: Set<string>;
  events: number;
  activeMs: number;
}

/** What one individual's events add up to. */
class IndividualTally {
  private readonly indvId: bigint;
  private readonly sessions = new Map<string, Session>();
  private readonly pagesSeen = new Set<string>();
  private events = 0;
  private readonly firstSeen: string;
  private created: unknown;
  private last: Record<string, unknown> = {};
  private lastPlatform: unknown;
  private userVars: Record<string, unknown> = {};

  constructor(indvId: bigint, firstSeen: string) {
    this.indvId = indvId;
    this.firstSeen = firstSeen;
  }

  add(e: Record<string, unknown>): void {
    this.events++;
    const t = Date.parse(String(e['EventStart']));
    const sessionKey = String(e['SessionId']);
    let s = this.sessions.get(sessionKey);
    if (s === undefined) {
      s = { start: t, end: t, pages: new Set(), events: 0, activeMs: 0 };
      this.sessions.set(sessionKey, s);
    }
    s.end = t;
    s.events++;
    const pageKey = `${sessionKey}:${String(e['PageId'])}`;
    if (!s.pages.has(pageKey)) {
      s.pages.add(pageKey);
      this.pagesSeen.add(pageKey);
      s.activeMs += typeof e['PageActiveDuration'] === 'number' ? e['PageActiveDuration'] : 0;
    }
    if (this.created === undefined && e['UserCreated'] !== undefined) this.created = e['UserCreated'];
    if (e['PagePlatform'] !== undefined) this.lastPlatform = e['PagePlatform'];
    for (const [k, v] of Object.entries(e)) if (k.startsWith('user_')) this.userVars[k] = v;
    this.last = e;
  }

  /** The `TYPE_INDIVIDUAL` row (absent values left out, as FullStory leaves them out). */
  row(): string {
    const sessions = [...this.sessions.values()];
    const sec = (ms: number): number => Math.round(ms / 100) / 10;
    const total = sessions.reduce((n, s) => n + (s.end - s.start), 0);
    const active = sessions.reduce((n, s) => n + s.activeMs, 0);
    const lastSession = sessions[sessions.length - 1]!;
    const e = this.last;
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
    const row: Record<string, unknown> = {
      IndvId: this.indvId,
      Created: this.created ?? this.firstSeen,
      Uid: str(e['UserAppKey']),
      DisplayName: str(e['UserDisplayName']),
      Email: str(e['UserEmail']),
      NumSessions: sessions.length,
      NumPages: this.pagesSeen.size,
      NumEvents: this.events,
      TotalSec: sec(total),
      ActiveSec: sec(active),
      AvgSessionSec: sec(total / sessions.length),
      AvgSessionActiveSec: sec(active / sessions.length),
      MaxSessionSec: sec(Math.max(...sessions.map((s) => s.end - s.start))),
      LastSessionNumPages: lastSession.pages.size,
      LastSessionNumEvents: lastSession.events,
      LastSessionSec: sec(lastSession.end - lastSession.start),
      LastSessionActiveSec: sec(lastSession.activeMs),
      LastSessionStart: new Date(lastSession.start).toISOString(),
      LastPage: str(e['PageUrl']) ?? str(e['AppViewName']),
      LastIp: str(e['PageIp']),
      LastLatLong: str(e['PageLatLong']),
      LastEventStart: e['EventStart'],
      LastBrowser: str(e['PageBrowser']),
      LastDevice: str(e['PageDevice']),
      LastPlatform: str(this.lastPlatform),
      LastOperatingSystem: str(e['PageOperatingSystem']),
      ...this.userVars,
    };
    for (const key of Object.keys(row)) if (row[key] === undefined) delete row[key];
    return stringifyJson(row);
  }
}

/**
 * JSON texts of the `TYPE_INDIVIDUAL` rows for `[from, to)`: one per individual with at least one
 * event in it. The counts cover the individual's whole run of events in the timeline, before and
 * after the window too, as FullStory's are lifetime totals. A generated individual's events are
 * contiguous, so one run at a time is held (a few hundred events at most), and only the runs that
 * reach the window are parsed.
 */
export function* individualTexts(bundles: readonly BundleMeta[], from: number, to: number): Generator<string> {
  const { low, high, generators } = timeline(bundles, from, to);
  for (const gen of generators) {
    let run: { id: string; texts: string[]; inWindow: boolean } | undefined;
    for (let text = gen.next(); text !== undefined; text = gen.next()) {
      const id = text.slice(INDV_ID.length, text.indexOf(',', INDV_ID.length));
      const time = eventStartOf(text);
      if (run === undefined || id !== run.id) {
        if (run?.inWindow) yield tally(run.id, run.texts);
        run = undefined;
        // Past the window, only the run of an individual already seen in it is still of interest.
        if (time >= high) break;
        run = { id, texts: [], inWindow: false };
      }
      run.texts.push(text);
      if (time >= low && time < high) run.inWindow = true;
    }
    if (run?.inWindow) yield tally(run.id, run.texts);
  }
}

/**
 * `[from, to)` (ms) as ISO strings, and a generator for each generated bundle that overlaps it, in
 * timeline order. Empty when `from` is not before `to`.
 */
function timeline(bundles: readonly BundleMeta[], from: number, to: number): { low: string; high: string; generators: Generator<EventGenerator> } {
  const low = new Date(Math.max(from, -8.64e15)).toISOString();
  const high = new Date(Math.min(to, 8.64e15)).toISOString();
  function* generators(): Generator<EventGenerator> {
    if (!(from < to)) return;
    for (const b of bundles) {
      if (b.source !== 'generated' || !b.events || b.start * 1000 >= to || b.stop * 1000 <= from) continue;
      yield new EventGenerator(b.seed ?? 1, b.id, b.events, { start: b.start, stop: b.stop });
    }
  }
  return { low, high, generators: generators() };
}

/** Every generated event starts with its IndvId. */
const INDV_ID = '{"IndvId":';

function eventStartOf(text: string): string {
  const at = text.indexOf(EVENT_START) + EVENT_START.length;
  return text.slice(at, at + ISO_LENGTH);
}

/** The row of one individual's run of events. Ids are read from the text, so they stay exact. */
function tally(id: string, texts: readonly string[]): string {
  const events = texts.map((t) => JSON.parse(t) as Record<string, unknown>);
  const t = new IndividualTally(BigInt(id), String(events[0]!['EventStart']));
  for (const e of events) t.add(e);
  return t.row();
}
