import { ConfigError } from '@fullstory-singer/singer-core';

/** A FullStory data centre. The key prefix (`na1.` / `eu1.`) names it for keys made since August 2022. */
export type Region = 'na1' | 'eu1';

/** Which API a host serves: the legacy Data Export v1 or the Server API v2. */
export type HostPurpose = 'export' | 'api';

/** Options of {@link resolveHosts}. */
export interface ResolveHostsOptions {
  /** The API key; only its prefix (`na1.` / `eu1.`) is read, to pick the region. */
  apiKey?: string;
  /** An explicit region; wins over the key prefix. */
  region?: Region;
  /** The `base_url` setting: replaces the per-region host entirely (proxies, the sandbox). */
  baseUrl?: string;
  /** Which API the host is for. */
  purpose: HostPurpose;
}

// `na1.` keys → api.fullstory.com, `eu1.` keys → api.eu1.fullstory.com, as Segment's FullStory destination
// (github.com/segmentio/action-destinations, destinations/fullstory/data-regions.ts) and FullStory's own CLI do.
// The legacy export host is export.fullstory.com; an EU export host is UNVERIFIED (no source uses one), so
// export.eu1.fullstory.com below is our guess by analogy, documented as such in the README.
const HOSTS: Record<HostPurpose, Record<Region, string>> = {
  export: { na1: 'https://export.fullstory.com', eu1: 'https://export.eu1.fullstory.com' },
  api: { na1: 'https://api.fullstory.com', eu1: 'https://api.eu1.fullstory.com' },
};

/**
 * The region a key belongs to, from its prefix (`na1.…` or `eu1.…`), or `undefined` for keys
 * without a known prefix (keys made before August 2022 have none).
 */
export function regionFromKey(apiKey: string | undefined): Region | undefined {
  // Same shape CLI-TS reads: leading lower-case alphanumerics, then a dot.
  const prefix = /^([\da-z]+)\./.exec(apiKey ?? '')?.[1];
  return prefix === 'na1' || prefix === 'eu1' ? prefix : undefined;
}

/**
 * True when `hostname` (as `URL.hostname` spells it) is this machine: `localhost`, any 127.0.0.0/8
 * address, or `[::1]`. Only these may be reached over plain `http://`.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]') return true;
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets !== null && octets[1] === '127' && octets.slice(1).every((o) => Number(o) <= 255);
}

/**
 * The base URL (no trailing slash) for FullStory calls.
 *
 * `baseUrl` wins when given; otherwise the host of `purpose` in the region: explicit `region`, else
 * the key prefix, else `na1`.
 *
 * @throws ConfigError naming `base_url` when `baseUrl` is not an absolute http(s) URL, or when it is
 *   `http://` to a host that is not loopback (the key would cross a network in clear text).
 */
export function resolveHosts(options: ResolveHostsOptions): string {
  if (options.baseUrl !== undefined) return checkBaseUrl(options.baseUrl);
  const region = options.region ?? regionFromKey(options.apiKey) ?? 'na1';
  return HOSTS[options.purpose][region];
}

function checkBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`base_url: expected an absolute http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`base_url: expected an http(s) URL, got protocol ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    // Credentials in the URL would end up in logs and error messages; the key goes in its own setting.
    throw new ConfigError('base_url: must not contain a user name or password');
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigError(
      `base_url: http:// is only allowed for loopback hosts (localhost, 127.0.0.0/8, [::1]); ` +
        `use https:// for ${url.hostname} so the API key is never sent in clear text`,
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ConfigError('base_url: must not contain a query string or fragment');
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
