/**
 * The target's settings validator is compiled at build time (scripts/generate-config-validators.js;
 * the tap's test checks that every generated module is up to date): it must judge every config as
 * ajv compiling the schema at run time would: the same defaults filled, the same error lines.
 */
import { expect, it } from '@jest/globals';
import { configOutcome } from '@fullstory-singer/singer-core/testing';
import { settingsSchema } from '../src/config.js';
import { validateTargetConfig } from '../src/generated/config-validators.js';

const CONFIGS: Record<string, unknown>[] = [
  {},
  { api_key: 'k', data_type: 'events', streams: { users: { data_type: 'users', mapping: { uid: 'id', email: { value: 'a@b.c' } } } } },
  { streams: { users: { maping: {}, audience_mode: 'replace', mapping: { uid: '', display_name: { value: 1, extra: 2 } } } } },
  { batch_size: 50001, max_jobs_in_flight: 0, wait_for_jobs: 'yes', base_url: 'ftp//x', dry_run_path: '', data_type: 'sessions' },
  { streams: [] },
];

it('judges each config as ajv compiling the schema at run time', async () => {
  for (const settings of CONFIGS) {
    expect(await configOutcome(settingsSchema(), validateTargetConfig, settings)).toEqual(await configOutcome(settingsSchema(), undefined, settings));
  }
});
