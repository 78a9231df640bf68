import { ConfigError } from '@fullstory-singer/singer-core';

/** A FullStory data centre, as the `region` setting names it. */
type Region = 'na1' | 'eu1';

/** Which API a host serves: the legacy Data Export v1 (`export`), or the API host of the Server API v2 and Segment Export (`api`). */
type HostPurpose = 'export' | 'api';

/** Options of {@link resolveHosts}. */
interface ResolveHostsOptions {
  /** The `region` setting, when the user set one. */
  region?: Region;
  /** The `base_url` setting: replaces the host entirely (proxies, the sandbox). */
  baseUrl?: string;
  /** Which API the host is for. */
  purpose: HostPurpose;
}

// FullStory's docs: "All API requests use the api.fullstory.com domain. They are automatically
// routed to the correct data center based on what is configured for your FullStory account"
// (https://developer.fullstory.com/server/getting-started/, "Data Residency"), whatever the key's
// prefix. The legacy export is documented at export.fullstory.com only
// (https://help.fullstory.com/hc/en-us/articles/360020624194). api.eu1.fullstory.com is what some
// integrations use for EU accounts; it is sent to only when `region: eu1` is set explicitly.
const EXPORT_HOST = 'https://export.fullstory.com';
const API_HOSTS: Record<Region, string> = { na1: 'https://api.fullstory.com', eu1: 'https://api.eu1.fullstory.com' };

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
 * The base URL (no trailing slash) for FullStory calls, the one rule both CLIs use.
 *
 * `baseUrl` wins when given. Otherwise: for `export`, `https://export.fullstory.com` for every key
 * and region; for `api`, `https://api.fullstory.com`, or `https://api.eu1.fullstory.com` when
 * `region` is `eu1`. The key's prefix (`na1.`, `eu1.`) is not read: FullStory routes each request
 * to the account's data center itself.
 *
 * @throws ConfigError naming `base_url` when `baseUrl` is not an absolute http(s) URL, or when it is
 *   `http://` to a host that is not loopback (the key would cross a network in clear text).
 */
export function resolveHosts(options: ResolveHostsOptions): string {
  if (options.baseUrl !== undefined) return checkBaseUrl(options.baseUrl);
  if (options.purpose === 'export') return EXPORT_HOST;
  return API_HOSTS[options.region ?? 'na1'];
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
