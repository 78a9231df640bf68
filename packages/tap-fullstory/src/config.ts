/**
 * The tap's settings (README "Config"): loaded from `--config` files and `TAP_FULLSTORY_*`
 * environment variables by singer-core, validated against `schemas/config/tap-fullstory.json`
 * (unknown keys are errors), then camelCased once, here.
 */
import { loadSchema } from '@fullstory-singer/schemas';
import { ConfigError, loadConfig } from '@fullstory-singer/singer-core';
import type { JsonSchema, Logger, Redactor } from '@fullstory-singer/singer-core';
import { checkApiKey } from '@fullstory-singer/fullstory-client';
import type { Source } from './streams/types.js';
import { unixFromIso } from './time.js';

let cachedSchema: JsonSchema | undefined;

/**
 * The settings JSON Schema (also the `settings` of `--about`), read from its file once per process.
 */
export function configSchema(): JsonSchema {
  const schema = cachedSchema ?? loadSchema<JsonSchema>('config/tap-fullstory.json');
  cachedSchema = schema;
  return schema;
}

/**
 * The settings only one source reads. Runners may pass every declared setting, so one given for
 * the other source is ignored with a warning rather than refused.
 */
const SOURCE_SETTINGS: Record<Source, readonly string[]> = {
  data_export: ['downloads_per_minute'],
  segment_export: ['segment_id', 'export_window_seconds', 'export_delay_seconds', 'export_poll_interval_seconds', 'export_timeout_seconds'],
};

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

let syncSchema: JsonSchema | undefined;
let discoverySchema: JsonSchema | undefined;

/**
 * The schema a sync's config is validated with: the settings schema without the `default`s of the
 * source-specific settings, so that the loaded config holds only those actually given.
 */
function loadingSchema(): JsonSchema {
  if (syncSchema) return syncSchema;
  const schema = configSchema();
  const properties = { ...(schema['properties'] as Record<string, Record<string, unknown>>) };
  for (const key of [...SOURCE_SETTINGS.data_export, ...SOURCE_SETTINGS.segment_export]) {
    const { default: _default, ...rest } = properties[key]!;
    properties[key] = rest;
  }
  syncSchema = { ...schema, properties };
  return syncSchema;
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
  const raw = await load<RawConfig>(loadingSchema(), files, env, redactor, logger);
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
  const { required: _required, $id: _id, ...rest } = loadingSchema();
  discoverySchema ??= rest;
  const raw = await load<Partial<RawConfig>>(discoverySchema, files, env, redactor, logger);
  return raw.source ?? 'data_export';
}

async function load<T extends Partial<RawConfig>>(
  schema: JsonSchema,
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
    secretKeys: ['api_key'],
    ...(redactor ? { redactor } : {}),
    ...(logger ? { logger } : {}),
  });
  if (raw.api_key !== undefined) checkApiKey(raw.api_key);
  return raw;
}
