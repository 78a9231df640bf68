/**
 * The tap's settings validators are compiled at build time (scripts/generate-config-validators.js):
 * the committed module must be up to date, and judge every config as ajv compiling the schema at
 * run time would: the same defaults filled, the same error lines.
 */
import { describe, expect, it } from '@jest/globals';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configOutcome, runBin } from '@fullstory-singer/singer-core/testing';
import { discoverySchema, syncSchema } from '../src/config-schemas.js';
import { validateDiscoveryConfig, validateSyncConfig } from '../src/generated/config-validators.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const CONFIGS: Record<string, unknown>[] = [
  { api_key: 'k', start_date: '2026-01-01T00:00:00Z' },
  { api_key: 'k', start_date: '2026-01-01T00:00:00Z', source: 'segment_export', region: 'eu1', base_url: 'http://127.0.0.1:1', export_window_seconds: 900 },
  {},
  { api_key: '', start_date: 'yesterday', end_date: '2026-13-01T00:00:00Z', base_url: 'not a uri', strat_date: 'x' },
  { api_key: 7, start_date: '2026-01-01T00:00:00Z', source: 'bundles', request_timeout_seconds: 0, max_retries: 1.5, export_window_seconds: 60 },
];

describe('config validators compiled at build time', () => {
  it('are up to date with the schemas of both CLIs', async () => {
    const result = await runBin(join(repoRoot, 'scripts', 'generate-config-validators.js'), ['--check']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it.each([
    ['sync', validateSyncConfig, syncSchema()],
    ['discovery', validateDiscoveryConfig, discoverySchema()],
  ] as const)('%s: judges each config as ajv compiling the schema at run time', async (_name, validate, schema) => {
    for (const settings of CONFIGS) {
      expect(await configOutcome(schema, validate, settings)).toEqual(await configOutcome(schema, undefined, settings));
    }
  });
});
