/**
 * The target's settings: loaded (files, then `TARGET_FULLSTORY_*` environment) and validated by
 * singer-core's `loadConfig` against `schemas/config/target-fullstory.json`, then turned into one typed,
 * camelCase object here — the only place snake_case config keys are read. Every default lives in that
 * JSON Schema (ajv fills them while validating); none is repeated here. Stream names (the keys of
 * `streams`) are data and keep their spelling.
 */

import { loadConfig, missingSettingError, type JsonSchema, type Logger, type Redactor } from '@fullstory-singer/singer-core';
import { loadSchema } from '@fullstory-singer/schemas';
import { validateTargetConfig } from './generated/config-validators.js';
import { checkApiKey } from '@fullstory-singer/fullstory-client';
import type { DataType, MappingField, SourceConfig } from './mapping/mapper.js';

/** Per-stream settings (`streams.<name>`). */
export interface StreamSettings {
  dataType?: DataType;
  mapping?: Partial<Record<MappingField, SourceConfig>>;
  properties?: { include?: string[]; exclude?: string[] };
  audienceName?: string;
  audienceProperty?: string;
  /** Set for every `streams` entry (the schema's default); absent for a stream without an entry. */
  audienceMode?: 'add' | 'upsert';
}

/** Every setting of the target, defaults applied. */
export interface TargetSettings {
  apiKey?: string;
  region?: 'na1' | 'eu1';
  baseUrl?: string;
  userAgent?: string;
  requestTimeoutSeconds: number;
  maxRetries: number;
  dataType?: DataType;
  streams: Record<string, StreamSettings>;
  batchSize: number;
  maxBatchAgeSeconds: number;
  maxJobsInFlight: number;
  waitForJobs: boolean;
  jobPollIntervalSeconds: number;
  jobTimeoutSeconds: number;
  stopTimeoutSeconds: number;
  deadLetterPath: string;
  failOnRejected: boolean;
  validateRecords: boolean;
  declarePropertyTypes: boolean;
  dryRun: boolean;
  dryRunPath?: string;
}

/** Prefix of the environment variables that set config keys. */
export const ENV_PREFIX = 'TARGET_FULLSTORY';

let schemaCache: JsonSchema | undefined;

/** The config JSON Schema (also printed by `--about`). Loaded once, so its compiled validator is reused. */
export function settingsSchema(): JsonSchema {
  return (schemaCache ??= loadSchema('config/target-fullstory.json') as JsonSchema);
}

/**
 * Load and validate the config. `overrides` (`dry_run` from `--dry-run`) win over files and env.
 * @throws ConfigError (exit 2) naming the file or variable and key; also when `api_key` is missing
 *   outside a dry run.
 */
export async function loadSettings(options: {
  files: string[];
  env: Record<string, string | undefined>;
  redactor?: Redactor;
  overrides?: { dry_run?: boolean };
  logger?: Logger;
}): Promise<TargetSettings> {
  const raw = await loadConfig<Record<string, unknown>>({
    files: options.files,
    env: options.env,
    envPrefix: ENV_PREFIX,
    schema: settingsSchema(),
    validate: validateTargetConfig,
    secretKeys: ['api_key'],
    ...(options.redactor ? { redactor: options.redactor } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const settings = fromValidated({ ...raw, ...options.overrides });
  if (!settings.dryRun && !settings.apiKey) {
    throw missingSettingError('api_key', ENV_PREFIX, 'not needed with --dry-run');
  }
  if (settings.apiKey !== undefined) checkApiKey(settings.apiKey);
  return settings;
}

/** Typed settings from a config the schema validated (and filled with its defaults). */
function fromValidated(c: Record<string, unknown>): TargetSettings {
  const streams: Record<string, StreamSettings> = {};
  for (const [name, value] of Object.entries(c['streams'] as Record<string, Record<string, unknown>>)) {
    const s: StreamSettings = {};
    if (value['data_type'] !== undefined) s.dataType = value['data_type'] as DataType;
    if (value['mapping'] !== undefined) s.mapping = value['mapping'] as StreamSettings['mapping'];
    if (value['properties'] !== undefined) s.properties = value['properties'] as StreamSettings['properties'];
    if (value['audience_name'] !== undefined) s.audienceName = value['audience_name'] as string;
    if (value['audience_property'] !== undefined) s.audienceProperty = value['audience_property'] as string;
    if (value['audience_mode'] !== undefined) s.audienceMode = value['audience_mode'] as 'add' | 'upsert';
    streams[name] = s;
  }
  const out: TargetSettings = {
    requestTimeoutSeconds: c['request_timeout_seconds'] as number,
    maxRetries: c['max_retries'] as number,
    streams,
    batchSize: c['batch_size'] as number,
    maxBatchAgeSeconds: c['max_batch_age_seconds'] as number,
    maxJobsInFlight: c['max_jobs_in_flight'] as number,
    waitForJobs: c['wait_for_jobs'] as boolean,
    jobPollIntervalSeconds: c['job_poll_interval_seconds'] as number,
    jobTimeoutSeconds: c['job_timeout_seconds'] as number,
    stopTimeoutSeconds: c['stop_timeout_seconds'] as number,
    deadLetterPath: c['dead_letter_path'] as string,
    failOnRejected: c['fail_on_rejected'] as boolean,
    validateRecords: c['validate_records'] as boolean,
    declarePropertyTypes: c['declare_property_types'] as boolean,
    dryRun: c['dry_run'] as boolean,
  };
  if (c['api_key'] !== undefined) out.apiKey = c['api_key'] as string;
  if (c['region'] !== undefined) out.region = c['region'] as 'na1' | 'eu1';
  if (c['base_url'] !== undefined) out.baseUrl = c['base_url'] as string;
  if (c['user_agent'] !== undefined) out.userAgent = c['user_agent'] as string;
  if (c['data_type'] !== undefined) out.dataType = c['data_type'] as DataType;
  if (c['dry_run_path'] !== undefined) out.dryRunPath = c['dry_run_path'] as string;
  return out;
}
