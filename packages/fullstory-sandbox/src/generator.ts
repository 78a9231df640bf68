/**
 * Deterministic generator of Data Export v1 events.
 *
 * The model is a single stream of visits: a user has 1-3 sessions, a session 1-6 pages, a page
 * 4-39 events (first `navigate`, then `load`, then clicks, custom events, errors...). Event times
 * grow through the bundle's [Start, Stop) window. For speed, the JSON of the user part and of the
 * page part is built once per user / per page and spliced into every event of that page, so the
 * per-event work is a handful of string concatenations (see the README for measured throughput).
 *
 * The same (seed, bundle id, count, window) always gives the same bytes: the HTTP server streams
 * exactly what {@link generateEventJson} yields, so tests can compare what a tap emitted with what
 * was served.
 */
import {
  AGENTS, APP_VIEWS, APPS, CUSTOM_EVENTS, EMAIL_DOMAINS, ERROR_KINDS, FIRST_NAMES, LAST_NAMES, LOCATIONS, ORIGIN,
  PAGES, PLANS, PRODUCTS, REFERRERS, ROLES, SECTIONS, SOURCE_FILES, TARGETS, UNITS,
  type AgentProfile, type AppProfile,
} from './event-pools.js';
import { hashString, mulberry32, type Random } from './prng.js';

/** Default bundle window start: 2024-01-01T00:00:00Z (unix seconds). */
const DEFAULT_WINDOW_START = 1704067200;

/** The bundle window the events fall in. Pass the bundle's own Start/Stop to reproduce a served bundle. */
export interface GenerateOptions {
  /** Window start, unix seconds. Default 2024-01-01T00:00:00Z. */
  start?: number;
  /** Window end (exclusive), unix seconds. Default `start` + 24 h. */
  stop?: number;
}

/** 2^53 + 1: the smallest integer a double cannot hold exactly, written as an id when an id is "big". */
const BIG_ID_BASE = 9007199254740993n;
const DAY_MS = 86_400_000;

interface UserState {
  indvId: string;
  userId: string;
  /** `,"UserAppKey":...` and the rest of the user fields, ready to splice. */
  json: string;
  sessionsLeft: number;
  agent: AgentProfile;
  app: AppProfile | undefined;
  ip: string;
  latLong: string;
  /** `,"UserCreated":...` (a newer export field, sent with the page summary). */
  created: string;
}

interface PageState {
  id: string;
  startMs: number;
  /** Legacy page fields (every event). */
  json: string;
  /** Legacy plus newer page fields (navigate and load events). */
  fullJson: string;
  eventsLeft: number;
  number: number;
}

/** `"key":"value"` for a pool string, JSON-escaped once. */
const q = (s: string): string => JSON.stringify(s);
const Q_CUSTOM = CUSTOM_EVENTS.map(q);
const Q_TARGET_TEXT = TARGETS.map(([t]) => q(t));
const Q_TARGET_SEL = TARGETS.map(([, s]) => q(s));
const Q_LOC = LOCATIONS.map(q);

/**
 * Streams events one JSON text at a time. `next()` returns undefined after `count` events.
 * Use {@link generateEventJson} unless you need the raw speed of a non-generator loop.
 */
export class EventGenerator {
  private readonly rnd: Random;
  private readonly startMs: number;
  private readonly spanMs: number;
  private readonly avgGapMs: number;
  private index = 0;
  private user: UserState | undefined;
  private sessionId = '';
  private sessionStartMs = 0;
  private pagesLeft = 0;
  private page: PageState | undefined;
  private lastUrl = '';
  private usersMade = 0;
  private customMade = 0;

  constructor(seed: number, bundleId: number | bigint | string, readonly count: number, options: GenerateOptions = {}) {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
    const start = options.start ?? DEFAULT_WINDOW_START;
    const stop = options.stop ?? start + 86_400;
    this.rnd = mulberry32(hashString(`${seed}:${String(bundleId)}`));
    this.startMs = start * 1000;
    this.spanMs = Math.max(0, (stop - start) * 1000);
    this.avgGapMs = count > 0 ? this.spanMs / count : 0;
  }

  /** The next event's JSON text (no trailing separator), or undefined when done. */
  next(): string | undefined {
    const i = this.index;
    if (i >= this.count) return undefined;
    this.index = i + 1;
    // Monotonic: floor((i + r) * gap) never passes floor((i + 1) * gap) and stays below Stop.
    const t = this.startMs + Math.floor((i + this.rnd()) * this.avgGapMs);
    if (this.page === undefined || this.page.eventsLeft === 0) this.nextPage(t, i);
    const page = this.page!;
    const user = this.user!;
    const k = page.eventsLeft;
    page.eventsLeft--;
    const type = this.eventBody(page, user, k);
    // Page-summary fields (the newer export's extras) ride on the page's first two events only,
    // which keeps the average event near 900 bytes / 30 fields like a legacy bundle.
    const pageJson = k >= page.number - 1 ? page.fullJson : page.json;
    return '{"IndvId":' + user.indvId + ',"UserId":' + user.userId + ',"SessionId":' + this.sessionId + ',"PageId":' + page.id
      + ',"EventStart":"' + new Date(t).toISOString() + '","EventType":' + type
      + ',"EventPageOffset":' + (t - page.startMs) + ',"EventSessionOffset":' + (t - this.sessionStartMs)
      + pageJson + user.json + '}';
  }

  private int(n: number): number {
    return Math.floor(this.rnd() * n);
  }

  private pick<T>(pool: readonly T[]): T {
    return pool[Math.floor(this.rnd() * pool.length)]!;
  }

  /** A 16-digit id below 2^53 (like FullStory's ~5e15 ids), or above 2^53 with probability `bigChance`. */
  private id(bigChance: number): string {
    if (bigChance > 0 && this.rnd() < bigChance) return this.bigId();
    const hi = 1_000_000 + Math.floor(this.rnd() * 7_999_999);
    const lo = Math.floor(this.rnd() * 1e9);
    return String(hi) + String(lo).padStart(9, '0');
  }

  private bigId(): string {
    return (BIG_ID_BASE + BigInt(Math.floor(this.rnd() * 1e9))).toString();
  }

  private nextPage(t: number, i: number): void {
    if (this.user === undefined || (this.pagesLeft === 0 && this.user.sessionsLeft === 0)) this.newUser(t);
    if (this.pagesLeft === 0) {
      this.user!.sessionsLeft--;
      // The first session of a bundle always has an id above 2^53, so every bundle carries one.
      this.sessionId = i === 0 ? this.bigId() : this.id(0.02);
      this.sessionStartMs = t;
      this.pagesLeft = 1 + this.int(6);
      this.lastUrl = '';
    }
    this.pagesLeft--;
    this.page = this.newPage(t, i === 0);
  }

  private newUser(t: number): void {
    const first = this.usersMade === 0;
    this.usersMade++;
    const anonymous = !first && this.rnd() < 0.35;
    const userId = this.id(0.02);
    const indvId = first ? this.bigId() : anonymous || this.rnd() < 0.6 ? userId : this.id(0.02);
    const agent = this.pick(AGENTS);
    const app = this.rnd() < 0.1 ? this.pick(APPS) : undefined;
    const created = new Date(t - this.int(400) * DAY_MS - this.int(DAY_MS)).toISOString();
    let json: string;
    if (anonymous) {
      json = `,"UserAppKey":"","UserDisplayName":"User ${10000 + this.int(90000)}","UserEmail":""`;
    } else {
      const firstName = this.pick(FIRST_NAMES);
      const lastName = this.pick(LAST_NAMES);
      const appKey = `u${100000 + this.int(900000)}`;
      const email = `${firstName.toLowerCase()}.${lastName.toLowerCase()}@${this.pick(EMAIL_DOMAINS)}`;
      json = `,"UserAppKey":"${appKey}","UserDisplayName":"${firstName} ${lastName}","UserEmail":"${email}"`
        + this.userVars(t, first || this.rnd() < 0.05);
    }
    const ip = `${11 + this.int(200)}.${this.int(256)}.${this.int(256)}.${1 + this.int(254)}`;
    this.user = { indvId, userId, json, sessionsLeft: 1 + this.int(3), agent, app, ip, latLong: this.pick(Q_LOC), created: `,"UserCreated":"${created}"` };
  }

  /** user_* custom vars: two always, every type for `all` users (the bundle's first user and some others). */
  private userVars(t: number, all: boolean): string {
    let s = `,"user_plan_str":"${this.pick(PLANS)}","user_seats_int":${1 + this.int(50)}`;
    if (all) {
      s += `,"user_lifetime_value_real":${(this.int(1_000_000) / 100).toFixed(2)}`
        + `,"user_signup_date":"${new Date(t - this.int(900) * DAY_MS).toISOString()}","user_beta_bool":${this.rnd() < 0.5}`
        + `,"user_roles_strs":["${this.pick(ROLES)}","${this.pick(ROLES)}"],"user_team_ids_ints":[${this.int(1000)},${this.int(1000)}]`
        + `,"user_scores_reals":[${(this.rnd() * 10).toFixed(3)},${(this.rnd() * 10).toFixed(3)}]`
        + `,"user_logins_dates":["${new Date(t - this.int(30) * DAY_MS).toISOString()}"],"user_flags_bools":[true,false]`;
    }
    return s;
  }

  private newPage(t: number, firstOfBundle: boolean): PageState {
    const user = this.user!;
    const events = 4 + this.int(36);
    const duration = Math.max(500, Math.floor(events * this.avgGapMs * (0.8 + this.rnd() * 0.8)) % 3_600_000);
    const active = Math.floor(duration * (0.3 + this.rnd() * 0.6));
    const id = firstOfBundle ? this.id(0) : this.id(0.01);
    // Zero counts are left out, as FullStory leaves out empty values.
    const infos = this.int(3);
    const warnings = this.int(2);
    const errors = this.rnd() < 0.1 ? 1 : 0;
    const counts = `,"PageDuration":${duration},"PageActiveDuration":${active}`
      + (infos > 0 ? `,"PageNumInfos":${infos}` : '') + (warnings > 0 ? `,"PageNumWarnings":${warnings}` : '')
      + (errors > 0 ? `,"PageNumErrors":${errors}` : '');
    const summary = `,"PageClusterId":${1 + this.int(400)},"SessionStart":"${new Date(this.sessionStartMs).toISOString()}"`
      + `,"PageStart":"${new Date(t).toISOString()}"`
      + `,"PageNumEvents":${events},"PageNumDerivedEvents":${this.int(events)},"PageMaxScrollDepthPercent":${this.int(101)}`;
    let json: string;
    let extra: string;
    const app = user.app;
    if (app !== undefined) {
      json = `,"PageIp":"${user.ip}","PageDevice":"Mobile","PageOperatingSystem":"${app.os}","PageLatLong":${user.latLong}` + counts
        + `,"AppName":"${app.name}","AppViewName":"${this.pick(APP_VIEWS)}"`;
      extra = `,"PagePlatform":"${app.os}","PageScreenWidth":${app.screen[0]},"PageScreenHeight":${app.screen[1]}`
        + `,"AppPackageName":"${app.pkg}","AppDeviceModel":"${app.model}","AppDeviceVendor":"${app.vendor}"`
        + `,"AppVersion":"${app.version}","AppOsVersion":"${app.osVersion}"`;
    } else {
      const [path, name] = this.pick(PAGES);
      const url = ORIGIN + path;
      const referrer = this.lastUrl !== '' ? this.lastUrl : this.rnd() < 0.3 ? this.pick(REFERRERS) : '';
      this.lastUrl = url;
      const a = user.agent;
      json = `,"PageUrl":${q(url)}` + (referrer === '' ? '' : `,"PageRefererUrl":${q(referrer)}`)
        + `,"PageIp":"${user.ip}","PageAgent":"${a.agent}","PageBrowser":"${a.browser}"`
        + `,"PageDevice":"${a.device}","PageOperatingSystem":"${a.os}","PageLatLong":${user.latLong}` + counts;
      extra = `,"PageName":"${name}","PageBrowserVersion":"${a.browserVersion}","PagePlatform":"${a.platform}"`
        + `,"PageScreenWidth":${a.screen[0]},"PageScreenHeight":${a.screen[1]}`
        + `,"PageViewportWidth":${a.viewport[0]},"PageViewportHeight":${a.viewport[1]}`;
    }
    json += this.pageVars(t, firstOfBundle || this.rnd() < 0.05);
    return { id, startMs: t, json, fullJson: json + summary + extra + user.created, eventsLeft: events, number: events };
  }

  /** page_* custom vars: one always, every type for `all` pages (the bundle's first page and some others). */
  private pageVars(t: number, all: boolean): string {
    let s = `,"page_section_str":"${this.pick(SECTIONS)}"`;
    if (all) {
      s += `,"page_index_int":${this.int(20)},"page_load_score_real":${(this.rnd() * 100).toFixed(2)},"page_published_date":"${new Date(t - this.int(200) * DAY_MS).toISOString()}"`
        + `,"page_ab_test_bool":${this.rnd() < 0.5},"page_tags_strs":["fresh","seasonal"],"page_slots_ints":[1,2,3]`
        + `,"page_weights_reals":[0.25,0.75],"page_updates_dates":["${new Date(t - DAY_MS).toISOString()}"],"page_toggles_bools":[false,true]`;
    }
    return s;
  }

  /**
   * The event-type specific fields, starting with the quoted EventType value.
   * `k` counts down the page's remaining events: the first is `navigate`, the second `load`.
   */
  private eventBody(page: PageState, user: UserState, k: number): string {
    if (k === page.number) return '"navigate"';
    if (k === page.number - 1) {
      const dom = 200 + this.int(1500);
      return `"load","LoadDomContentTime":${dom},"LoadFirstPaintTime":${Math.floor(dom * 0.6)},"LoadEventTime":${dom + this.int(900)}`
        + `,"LoadLargestPaintTime":${dom + this.int(1200)},"EventFirstInputDelay":${this.int(300)}`
        + `,"EventCumulativeLayoutShift":${(this.rnd() * 0.3).toFixed(4)}`;
    }
    const r = this.rnd();
    if (r < 0.42) {
      const ti = this.int(TARGETS.length);
      let s = `"click","EventTargetText":${Q_TARGET_TEXT[ti]},"EventTargetSelectorTok":${Q_TARGET_SEL[ti]}`;
      const m = this.rnd();
      if (m < 0.04) s += `,"EventModFrustrated":${2 + this.int(6)}`;
      else if (m < 0.08) s += ',"EventModDead":1';
      else if (m < 0.09) s += ',"EventModSuspicious":1';
      return s;
    }
    if (r < 0.57) {
      const ti = this.int(TARGETS.length);
      return `"change","EventTargetText":${Q_TARGET_TEXT[ti]},"EventTargetSelectorTok":${Q_TARGET_SEL[ti]},"EventSubType":"input"`;
    }
    if (r < 0.72) return `"seen","EventTargetSelectorTok":${Q_TARGET_SEL[this.int(TARGETS.length)]}`;
    if (r < 0.88) return `"custom","EventCustomName":${this.pick(Q_CUSTOM)}` + this.eventVars();
    if (r < 0.93) {
      const kind = this.pick(ERROR_KINDS);
      const src = user.app !== undefined
        ? `,"EventMobileSourceFile":"${user.app.os === 'iOS' ? 'CartViewController.swift' : 'CartActivity.kt'}"`
        : `,"EventWebSourceFileUrl":"${this.pick(SOURCE_FILES)}"`;
      return `"custom_error","EventVarErrorKind":"${kind}","EventModError":1` + src;
    }
    if (r < 0.97) {
      const status = this.rnd() < 0.9 ? 200 : 500;
      return `"navigate","EventSubType":"request","ReqUrl":"${ORIGIN}/api/cart/items?id=${this.pick(PRODUCTS)}","ReqMethod":"${this.rnd() < 0.5 ? 'GET' : 'POST'}","ReqStatus":${status}`;
    }
    return `"uservar","EventVarFields":"plan_str,seats_int"`;
  }

  /** evt_* custom vars; the first custom event of a bundle (and a tenth of the rest) carry every type. */
  private eventVars(): string {
    const all = this.customMade === 0 || this.rnd() < 0.1;
    this.customMade++;
    const price = (this.int(2000) / 100 + 0.25).toFixed(2);
    let s = `,"evt_product_id_str":"${this.pick(PRODUCTS)}","evt_unit_str":"${this.pick(UNITS)}","evt_quantity_int":${1 + this.int(9)}`
      + `,"evt_price_raw_real":${price}`;
    if (all) {
      s += `,"evt_order.total_real":${(Number(price) * 3).toFixed(2)},"evt_gift_bool":${this.rnd() < 0.2}`
        + `,"evt_ordered_at_date":"2024-01-01T12:00:00.000Z","evt_skus_strs":["${this.pick(PRODUCTS)}","${this.pick(PRODUCTS)}"]`
        + `,"evt_quantities_ints":[1,${1 + this.int(5)}],"evt_prices_reals":[${price},1.5],"evt_ship_dates_dates":["2024-01-03T00:00:00.000Z"]`
        + `,"evt_options_bools":[true,${this.rnd() < 0.5}]`;
    }
    return s;
  }
}

/**
 * Yields the exact JSON text of each event of a generated bundle, in bundle order. The served body
 * is `[` + these texts joined by `,` (no whitespace) + `]`, gzipped by default.
 *
 * @param seed the sandbox seed (`--seed`)
 * @param bundleId the bundle's Id
 * @param count number of events (the bundle's `events` in `/__sandbox/bundles`)
 * @param options the bundle's window; pass the bundle's `start`/`stop` to reproduce a served bundle
 */
export function* generateEventJson(seed: number, bundleId: number | bigint, count: number, options: GenerateOptions = {}): Generator<string> {
  const gen = new EventGenerator(seed, bundleId, count, options);
  for (let text = gen.next(); text !== undefined; text = gen.next()) yield text;
}

/** Alias of {@link generateEventJson} under the name used in the internal contract. */
export const generateBundleEvents = generateEventJson;
