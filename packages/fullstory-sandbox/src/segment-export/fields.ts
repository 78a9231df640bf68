/**
 * The column names a Segment Export knows, per export type, and the `fields` rule of
 * `POST /segments/v1/exports`: empty or absent means every documented field plus every custom
 * variable; `user_*`, `evt_*` (and `page_*`, which hauser sends) select every custom variable of a
 * kind ("not a general glob pattern, just a special value"); a custom variable may also be named
 * exactly (`evt_price_real`); a name given twice is an error
 * (https://developer.fullstory.com/server/v1/segments/create-segment-export).
 *
 * The lists are the sandbox's own, from FullStory's export field docs and FullStory's clients
 * (hauser `warehouse/schema.go`, the activation SDK's `IndividualFields`), not from the tap's
 * schema, so a tap that asks for a field Segment Export does not have (the legacy `PageAgent`) is
 * caught here. The legacy bundles' `PageAgent` and `EventTargetSelectorTok` are not Segment Export
 * columns: hauser keeps them only as old warehouse columns, beside `PageUserAgent` and `EventTargetSelector`.
 */
import { HttpError } from '../http.js';

/** `TYPE_EVENT` columns: hauser's `BaseExportFields` and `MobileFields`. */
const EVENT_FIELDS: readonly string[] = [
  'IndvId', 'UserId', 'SessionId', 'PageId', 'UserCreated', 'UserAppKey', 'UserDisplayName', 'UserEmail',
  'EventStart', 'EventType', 'EventSubType', 'EventCustomName', 'EventTargetText', 'EventTargetSelector',
  'EventPageOffset', 'EventSessionOffset', 'EventModFrustrated', 'EventModDead', 'EventModError', 'EventModSuspicious',
  'EventVarErrorKind', 'EventVarFields', 'EventWebSourceFileUrl', 'EventFirstInputDelay', 'EventCumulativeLayoutShift',
  'SessionStart', 'PageName', 'PageStart', 'PageDuration', 'PageActiveDuration', 'PageUrl', 'PageRefererUrl', 'PageIp',
  'PageLatLong', 'PageUserAgent', 'PageBrowser', 'PageBrowserVersion', 'PageDevice', 'PagePlatform', 'PageOperatingSystem',
  'PageScreenWidth', 'PageScreenHeight', 'PageViewportWidth', 'PageViewportHeight', 'PageNumEvents', 'PageNumDerivedEvents',
  'PageNumInfos', 'PageNumWarnings', 'PageNumErrors', 'PageClusterId', 'PageMaxScrollDepthPercent',
  'LoadDomContentTime', 'LoadEventTime', 'LoadFirstPaintTime', 'LoadLargestPaintTime', 'ReqUrl', 'ReqMethod', 'ReqStatus',
  'AppName', 'AppPackageName', 'AppDeviceModel', 'AppDeviceVendor', 'AppVersion', 'AppOsVersion', 'AppViewName', 'EventMobileSourceFile',
];

/** `TYPE_INDIVIDUAL` columns (the activation SDK's `IndividualFields`; user variables come as `user_*` keys). */
const INDIVIDUAL_FIELDS: readonly string[] = [
  'IndvId', 'Created', 'Uid', 'DisplayName', 'Email', 'NumSessions', 'NumPages', 'NumEvents', 'TotalSec', 'ActiveSec',
  'AvgSessionSec', 'AvgSessionActiveSec', 'MaxSessionSec', 'LastSessionNumPages', 'LastSessionNumEvents', 'LastSessionSec',
  'LastSessionActiveSec', 'LastSessionStart', 'LastPage', 'LastIp', 'LastLatLong', 'LastEventStart', 'LastBrowser',
  'LastDevice', 'LastPlatform', 'LastOperatingSystem',
];

export type ExportType = 'TYPE_EVENT' | 'TYPE_INDIVIDUAL';

/** Custom-variable kinds each export type carries, by key prefix. */
const KINDS: Record<ExportType, readonly string[]> = {
  TYPE_EVENT: ['user_', 'evt_', 'page_'],
  TYPE_INDIVIDUAL: ['user_'],
};

/** A v1-style custom variable name: `<kind>_<name>_<type suffix>`. */
const CUSTOM_VAR = /^(user|evt|page)_.+_(str|int|real|date|bool)s?$/;

/** Which keys of a row an export keeps: `undefined` keeps all. */
export interface Projection {
  /** Documented fields and exact custom-variable names, in request order. */
  names: readonly string[];
  /** Custom-variable prefixes selected by a wildcard (`user_`, ...). */
  prefixes: readonly string[];
  /** Membership test for a row key. */
  keeps(key: string): boolean;
}

/**
 * Checks a request's `fields` against the type's columns.
 * @returns the projection, or undefined for "everything" (absent or empty)
 * @throws HttpError 400 for a duplicate, a name that is not a column of the type, or a wildcard the type does not have
 */
export function projectionFor(type: ExportType, fields: readonly string[] | undefined): Projection | undefined {
  if (fields === undefined || fields.length === 0) return undefined;
  const known = new Set(type === 'TYPE_EVENT' ? EVENT_FIELDS : INDIVIDUAL_FIELDS);
  const kinds = KINDS[type];
  const seen = new Set<string>();
  const names: string[] = [];
  const prefixes: string[] = [];
  for (const name of fields) {
    if (seen.has(name)) throw new HttpError(400, 'invalid_argument', `fields: "${name}" is given more than once`);
    seen.add(name);
    const wildcard = /^(user|evt|page)_\*$/.exec(name);
    if (wildcard) {
      const prefix = `${wildcard[1]}_`;
      if (!kinds.includes(prefix)) throw new HttpError(400, 'invalid_argument', `fields: ${name} does not apply to ${type}`);
      prefixes.push(prefix);
    } else if (known.has(name) || (CUSTOM_VAR.test(name) && kinds.some((k) => name.startsWith(k)))) {
      names.push(name);
    } else {
      throw new HttpError(400, 'invalid_argument', `fields: unknown field "${name}" for ${type}`);
    }
  }
  const exact = new Set(names);
  return { names, prefixes, keeps: (key) => exact.has(key) || prefixes.some((p) => key.startsWith(p)) };
}

/** CSV columns: the named fields in request order, else every documented column of the type. */
export function csvColumns(type: ExportType, projection: Projection | undefined): readonly string[] {
  if (projection !== undefined) return projection.names;
  return type === 'TYPE_EVENT' ? EVENT_FIELDS : INDIVIDUAL_FIELDS;
}
