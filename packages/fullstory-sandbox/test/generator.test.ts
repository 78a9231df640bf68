import { describe, expect, it } from '@jest/globals';
import { generateEventJson, generateBundleEvents, parseJsonLossless } from '../src/index.js';

const TYPES = ['str', 'int', 'real', 'date', 'bool', 'strs', 'ints', 'reals', 'dates', 'bools'];
const WINDOW = { start: 1704067200, stop: 1704067200 + 3600 };

describe('generateEventJson', () => {
  it('is deterministic for a seed and bundle id, and differs across them', () => {
    const a = [...generateEventJson(7, 1000000, 200, WINDOW)];
    const b = [...generateEventJson(7, 1000000, 200, WINDOW)];
    const c = [...generateEventJson(8, 1000000, 200, WINDOW)];
    const d = [...generateEventJson(7, 1000001n, 200, WINDOW)];
    expect(a).toHaveLength(200);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(d).not.toEqual(a);
    expect([...generateBundleEvents(7, 1000000, 200, WINDOW)]).toEqual(a);
  });

  it('yields an empty sequence for zero events', () => {
    expect([...generateEventJson(1, 1, 0)]).toEqual([]);
  });

  it('emits valid JSON objects whose EventStart grows inside the window', () => {
    let last = 0;
    for (const text of generateEventJson(3, 42, 2000, WINDOW)) {
      const event = parseJsonLossless(text) as Record<string, unknown>;
      const t = Date.parse(event.EventStart as string);
      expect(t).toBeGreaterThanOrEqual(Math.max(last, WINDOW.start * 1000));
      expect(t).toBeLessThan(WINDOW.stop * 1000);
      expect(event.EventStart).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      last = t;
    }
  });

  it('puts an id above 2^53, as an exact integer literal, in every bundle of 10 or more events', () => {
    for (let bundle = 0; bundle < 50; bundle++) {
      const texts = [...generateEventJson(bundle, 5000 + bundle, 10, WINDOW)];
      const big = texts.flatMap((t) => [...t.matchAll(/"(IndvId|UserId|SessionId|PageId)":(\d+)/g)])
        .map((m) => BigInt(m[2]!)).filter((v) => v > 2n ** 53n);
      expect(big.length).toBeGreaterThan(0);
      // The lossless parse keeps the exact value (JSON.parse would round it).
      const parsed = texts.map((t) => parseJsonLossless(t) as Record<string, unknown>);
      expect(parsed.some((e) => typeof e.IndvId === 'bigint' || typeof e.SessionId === 'bigint')).toBe(true);
    }
  });

  it('covers the documented fields, anonymous users and custom vars of every type suffix', () => {
    const events = [...generateEventJson(11, 77, 5000, { start: WINDOW.start, stop: WINDOW.start + 86400 })].map((t) => parseJsonLossless(t) as Record<string, unknown>);
    const keys = new Set(events.flatMap((e) => Object.keys(e)));
    const documented = [
      'IndvId', 'UserId', 'SessionId', 'PageId', 'EventStart', 'EventType', 'EventCustomName', 'EventTargetText', 'EventTargetSelectorTok',
      'EventModFrustrated', 'EventModDead', 'EventModError', 'EventModSuspicious', 'PageUrl', 'PageRefererUrl', 'PageIp', 'PageAgent',
      'PageBrowser', 'PageDevice', 'PageOperatingSystem', 'PageLatLong', 'PageDuration', 'PageActiveDuration', 'PageNumInfos',
      'PageNumWarnings', 'PageNumErrors', 'PageClusterId', 'LoadDomContentTime', 'LoadFirstPaintTime', 'LoadEventTime', 'UserAppKey',
      'UserDisplayName', 'UserEmail',
      // newer export fields
      'UserCreated', 'SessionStart', 'PageStart', 'EventSubType', 'EventVarErrorKind', 'EventVarFields', 'EventWebSourceFileUrl', 'PageName',
      'PageBrowserVersion', 'PagePlatform', 'ReqUrl', 'ReqMethod', 'ReqStatus', 'EventPageOffset', 'EventSessionOffset', 'EventFirstInputDelay',
      'PageScreenWidth', 'PageScreenHeight', 'PageViewportWidth', 'PageViewportHeight', 'PageNumEvents', 'PageNumDerivedEvents',
      'PageMaxScrollDepthPercent', 'LoadLargestPaintTime', 'EventCumulativeLayoutShift', 'AppName', 'AppPackageName', 'AppDeviceModel',
      'AppDeviceVendor', 'AppVersion', 'AppOsVersion', 'AppViewName', 'EventMobileSourceFile',
    ];
    expect(documented.filter((k) => !keys.has(k))).toEqual([]);
    for (const prefix of ['user', 'evt', 'page']) {
      for (const type of TYPES) {
        expect([...keys].some((k) => k.startsWith(`${prefix}_`) && k.endsWith(`_${type}`))).toBe(true);
      }
    }
    expect(keys.has('evt_order.total_real')).toBe(true);
    expect(new Set(events.map((e) => e.EventType))).toEqual(new Set(['navigate', 'load', 'click', 'change', 'seen', 'custom', 'custom_error', 'uservar']));
    const anonymous = events.filter((e) => e.UserAppKey === '');
    expect(anonymous.length).toBeGreaterThan(events.length * 0.1);
    expect(events.filter((e) => typeof e.UserAppKey === 'string' && e.UserAppKey !== '').length).toBeGreaterThan(events.length * 0.3);
    // Typed values agree with their suffix.
    for (const e of events) {
      for (const [k, v] of Object.entries(e)) {
        if (k.endsWith('_int')) expect(Number.isInteger(v)).toBe(true);
        if (k.endsWith('_bool')) expect(typeof v).toBe('boolean');
        if (k.endsWith('_date')) expect(Number.isNaN(Date.parse(v as string))).toBe(false);
        if (k.endsWith('_strs')) expect((v as unknown[]).every((s) => typeof s === 'string')).toBe(true);
      }
    }
  });

  it('averages about 900-1000 bytes and about 30 fields per event', () => {
    let bytes = 0;
    let fields = 0;
    const n = 20000;
    for (const t of generateEventJson(1, 1000000, n)) {
      bytes += t.length;
      fields += Object.keys(JSON.parse(t) as object).length;
    }
    expect(bytes / n).toBeGreaterThan(800);
    expect(bytes / n).toBeLessThan(1100);
    expect(fields / n).toBeGreaterThan(25);
    expect(fields / n).toBeLessThan(34);
  });
});
