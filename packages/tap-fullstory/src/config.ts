/**
 * The tap's settings (README "Config"): loaded from `--config` files and `TAP_FULLSTORY_*`
 * environment variables by singer-core, validated against `schemas/config/tap-fullstory.json`
 * (unknown keys are errors), then camelCased once, here.
 */
import { loadSchema } from '@fullstory-singer/schemas';
import { ConfigError, loadConfig } from '@fullstory-singer/singer-core';
import type { JsonSchema, Logger, Redactor } from '@fullstory-singer/singer-core';
import { checkApiKey } from '@fullstory-singer/fullstory-client';
import { unixFromIso } from './cursor.js';

let cachedSchema: JsonSchema | undefined;

/**
 * The settings JSON Schema (also the `settings` of `--about`), read from its file once per process.
 */
export function configSchema(): JsonSchema {
  const schema = cachedSchema ?? loadSchema<JsonSchema>('config/tap-fullstory.json');
  cachedSchema = schema;
  return schema;
}

/** Validated settings, defaults applied. */
export interface TapConfig {
  apiKey: string;
  startDate: string;
  endDate?: string;
  region?: 'na1' | 'eu1';
  baseUrl?: string;
  userAgent?: string;
  requestTimeoutSeconds: number;
  maxRetries: number;
  downloadsPerMinute: number;
  stateEveryRecords: number;
}

interface RawConfig {
  api_key: string;
  start_date: string;
  end_date?: string;
  region?: 'na1' | 'eu1';
  base_url?: string;
  user_agent?: string;
  request_timeout_seconds?: number;
  max_retries?: number;
  downloads_per_minute?: number;
  state_every_records?: number;
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
  const raw = await load<RawConfig>(configSchema(), files, env, redactor, logger);
  const config: TapConfig = {
    apiKey: raw.api_key,
    startDate: raw.start_date,
    requestTimeoutSeconds: raw.request_timeout_seconds ?? 300,
    maxRetries: raw.max_retries ?? 8,
    downloadsPerMinute: raw.downloads_per_minute ?? 2,
    stateEveryRecords: raw.state_every_records ?? 10000,
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

let discoverySchema: JsonSchema | undefined;

/**
 * Validates the config for `--discover`, which needs no setting: every key is checked as for a
 * sync (types, unknown keys, an `api_key` HTTP could not carry), but none is required.
 * @throws ConfigError (exit 2) as {@link loadTapConfig}
 */
export async function checkDiscoveryConfig(
  files: string[],
  env: Record<string, string | undefined>,
  redactor?: Redactor,
  logger?: Logger,
): Promise<void> {
  const { required: _required, $id: _id, ...rest } = configSchema();
  discoverySchema ??= rest;
  await load<Partial<RawConfig>>(discoverySchema, files, env, redactor, logger);
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
