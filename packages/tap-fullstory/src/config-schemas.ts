/**
 * The tap's settings schemas: the file `schemas/config/tap-fullstory.json` (printed by `--about`)
 * and the two the config is validated with. The build compiles those two ahead of time
 * (scripts/generate-config-validators.js reads them from here), so this module must stay free of
 * anything but the schema file.
 */
import { loadSchema } from '@fullstory-singer/schemas';
import type { JsonSchema } from '@fullstory-singer/singer-core';
import type { Source } from './streams/types.js';

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
export const SOURCE_SETTINGS: Record<Source, readonly string[]> = {
  data_export: ['downloads_per_minute'],
  segment_export: ['segment_id', 'export_window_seconds', 'export_delay_seconds', 'export_poll_interval_seconds', 'export_timeout_seconds'],
};

/**
 * The schema a sync's config is validated with: the settings schema without the `default`s of the
 * source-specific settings, so that the loaded config holds only those actually given.
 */
export function syncSchema(): JsonSchema {
  const schema = configSchema();
  const properties = { ...(schema['properties'] as Record<string, Record<string, unknown>>) };
  for (const key of [...SOURCE_SETTINGS.data_export, ...SOURCE_SETTINGS.segment_export]) {
    const { default: _default, ...rest } = properties[key]!;
    properties[key] = rest;
  }
  return { ...schema, properties };
}

/** The schema `--discover` validates with: as for a sync, but no setting is required. */
export function discoverySchema(): JsonSchema {
  const { required: _required, $id: _id, ...rest } = syncSchema();
  return rest;
}
