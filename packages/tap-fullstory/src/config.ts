/**
 * The tap's settings (README "Config"): loaded from `--config` files and `TAP_FULLSTORY_*`
 * environment variables by singer-core, validated against `schemas/config/tap-fullstory.json`
 * (unknown keys are errors), then camelCased once, here.
 */
import { ConfigError, loadConfig } from '@fullstory-singer/singer-core';
import type { ConfigValidator, JsonSchema, Logger, Redactor } from '@fullstory-singer/singer-core';
import { checkApiKey } from '@fullstory-singer/fullstory-client';
import { configSchema, discoverySchema, SOURCE_SETTINGS, syncSchema } from './config-schemas.js';
import { validateDiscoveryConfig, validateSyncConfig } from './generated/config-validators.js';
import type { Source } from './streams/types.js';
import { unixFromIso } from './time.js';

/** Segment Export settings, defaults applied. */
interface SegmentExportSettings {
  segmentId: string;
  windowSeconds: number;
  delaySeconds: number;
  pollIntervalSeconds: number;
  timeoutSeconds: number;
}

/** Validated settings, defaults applied. */
export interface TapConfig {
  apiKey: string;
  startDate: string;
  endDate?: string;
  source: Source;
  region?: 'na1' | 'eu1';
  baseUrl?: string;
  userAgent?: string;
  requestTimeoutSeconds: number;
  maxRetries: number;
  downloadsPerMinute: number;
  stateEveryRecords: number;
  segmentExport: SegmentExportSettings;
  /** Settings given that only the other source reads (ignored; the caller warns once). */
  ignoredSettings: string[];
}

interface RawConfig {
  api_key: string;
  start_date: string;
  end_date?: string;
  source?: Source;
  region?: 'na1' | 'eu1';
  base_url?: string;
  user_agent?: string;
  request_timeout_seconds?: number;
  max_retries?: number;
  downloads_per_minute?: number;
  state_every_records?: number;
  segment_id?: string;
  export_window_seconds?: number;
  export_delay_seconds?: number;
  export_poll_interval_seconds?: number;
  export_timeout_seconds?: number;
}

let schemas: { sync: JsonSchema; discovery: JsonSchema } | undefined;

/** The schemas a config is validated with, derived once per process. */
function loadingSchemas(): { sync: JsonSchema; discovery: JsonSchema } {
  return (schemas ??= { sync: syncSchema(), discovery: discoverySchema() });
}

/** A setting's `default` in the settings schema (the one place defaults are written). */
function defaultOf<T>(key: keyof RawConfig): T {
  return (configSchema()['properties'] as Record<string, { default?: unknown }>)[key]!.default as T;
}

/**
 * Loads the config; registers the API key with `redactor` so it never reaches any output.
 * @throws ConfigError (exit 2) naming the file or variable and the key
 */
export async function loadTapConfig(
  files: string[],
  env: Record<string, string | undefined>,
  redactor?: Redactor,
  logger?: Logger,
): Promise<TapConfig> {
  const raw = await load<RawConfig>(loadingSchemas().sync, validateSyncConfig, files, env, redactor, logger);
  const source = raw.source ?? 'data_export';
  const other: Source = source === 'data_export' ? 'segment_export' : 'data_export';
  const config: TapConfig = {
    apiKey: raw.api_key,
    startDate: raw.start_date,
    source,
    requestTimeoutSeconds: raw.request_timeout_seconds ?? 300,
    maxRetries: raw.max_retries ?? 8,
    downloadsPerMinute: raw.downloads_per_minute ?? defaultOf('downloads_per_minute'),
    stateEveryRecords: raw.state_every_records ?? 10000,
    segmentExport: {
      segmentId: raw.segment_id ?? defaultOf('segment_id'),
      windowSeconds: raw.export_window_seconds ?? defaultOf('export_window_seconds'),
      delaySeconds: raw.export_delay_seconds ?? defaultOf('export_delay_seconds'),
      pollIntervalSeconds: raw.export_poll_interval_seconds ?? defaultOf('export_poll_interval_seconds'),
      timeoutSeconds: raw.export_timeout_seconds ?? defaultOf('export_timeout_seconds'),
    },
    ignoredSettings: SOURCE_SETTINGS[other].filter((key) => raw[key as keyof RawConfig] !== undefined),
  };
  if (raw.end_date !== undefined) config.endDate = raw.end_date;
  if (raw.region !== undefined) config.region = raw.region;
  if (raw.base_url !== undefined) config.baseUrl = raw.base_url;
  if (raw.user_agent !== undefined) config.userAgent = raw.user_agent;
  if (config.endDate !== undefined && unixFromIso(config.endDate)! <= unixFromIso(config.startDate)!) {
    throw new ConfigError(`config: end_date (${config.endDate}) must be after start_date (${config.startDate})`);
  }
  return config;
}

/**
 * Validates the config for `--discover`, which needs no setting: every key is checked as for a
 * sync (types, unknown keys, an `api_key` HTTP could not carry), but none is required.
 * @returns the source the catalog is for (its streams differ)
 * @throws ConfigError (exit 2) as {@link loadTapConfig}
 */
export async function checkDiscoveryConfig(
  files: string[],
  env: Record<string, string | undefined>,
  redactor?: Redactor,
  logger?: Logger,
): Promise<Source> {
  const raw = await load<Partial<RawConfig>>(loadingSchemas().discovery, validateDiscoveryConfig, files, env, redactor, logger);
  return raw.source ?? 'data_export';
}

async function load<T extends Partial<RawConfig>>(
  schema: JsonSchema,
  validate: ConfigValidator,
  files: string[],
  env: Record<string, string | undefined>,
  redactor: Redactor | undefined,
  logger: Logger | undefined,
): Promise<T> {
  const raw = await loadConfig<T>({
    files,
    env,
    envPrefix: 'TAP_FULLSTORY',
    schema,
    validate,
    secretKeys: ['api_key'],
    ...(redactor ? { redactor } : {}),
    ...(logger ? { logger } : {}),
  });
  if (raw.api_key !== undefined) checkApiKey(raw.api_key);
  return raw;
}
