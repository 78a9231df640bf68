import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { camelCaseKeys, ConfigError, loadConfig, Redactor, type JsonSchema } from '@fullstory-singer/singer-core';
import { removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';

// A settings schema shaped like the tap's (schemas/config/tap-fullstory.json), kept here so these
// tests do not depend on another package's file.
const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['api_key', 'start_date'],
  properties: {
    api_key: { type: 'string', minLength: 1 },
    start_date: { type: 'string', format: 'date-time' },
    region: { type: 'string', enum: ['na1', 'eu1'] },
    base_url: { type: 'string', format: 'uri' },
    max_retries: { type: 'integer', minimum: 0, default: 8 },
    downloads_per_minute: { type: 'number', exclusiveMinimum: 0 },
    fail_on_rejected: { type: 'boolean' },
    extra_headers: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

const SECRET = 'na1.SuperSecretKey-1234567890';
let dir: string;

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as ConfigError).message).not.toContain(SECRET);
    expect((err as ConfigError).message).not.toContain('\n');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await removeTempDir(dir);
});

describe('loadConfig', () => {
  it('loads a file, applies schema defaults and keeps snake_case keys', async () => {
    const path = await file('ok.json', { api_key: SECRET, start_date: '2026-01-01T00:00:00Z' });
    const config = await loadConfig({ files: [path], env: {}, envPrefix: 'TAP_FULLSTORY', schema });
    expect(config).toEqual({ api_key: SECRET, start_date: '2026-01-01T00:00:00Z', max_retries: 8 });
  });

  it('lets a later file override an earlier one, and the environment override both', async () => {
    const first = await file('first.json', { api_key: SECRET, start_date: '2026-01-01T00:00:00Z', region: 'na1', max_retries: 1 });
    const second = await file('second.json', { region: 'eu1', max_retries: 2 });
    const fromFiles = await loadConfig({ files: [first, second], env: {}, envPrefix: 'TAP_FULLSTORY', schema });
    expect(fromFiles).toMatchObject({ region: 'eu1', max_retries: 2, start_date: '2026-01-01T00:00:00Z' });
    const withEnv = await loadConfig({
      files: [first, second],
      env: { TAP_FULLSTORY_MAX_RETRIES: '5', TAP_FULLSTORY_START_DATE: '2026-02-01T00:00:00Z', TAP_FULLSTORY_REGION: '' },
      envPrefix: 'TAP_FULLSTORY',
      schema,
    });
    // An empty variable counts as unset: region stays as the files say.
    expect(withEnv).toMatchObject({ region: 'eu1', max_retries: 5, start_date: '2026-02-01T00:00:00Z' });
  });

  it('takes every setting from the environment alone, coerced by the schema type', async () => {
    const config = await loadConfig({
      files: [],
      env: {
        TARGET_FULLSTORY_API_KEY: SECRET,
        TARGET_FULLSTORY_START_DATE: '2026-01-01T00:00:00Z',
        TARGET_FULLSTORY_MAX_RETRIES: '3',
        TARGET_FULLSTORY_DOWNLOADS_PER_MINUTE: '0.5',
        TARGET_FULLSTORY_FAIL_ON_REJECTED: 'TRUE',
        TARGET_FULLSTORY_EXTRA_HEADERS: '{"X-Test":"1"}',
        TARGET_FULLSTORY_UNRELATED: 'ignored',
      },
      envPrefix: 'TARGET_FULLSTORY',
      schema,
    });
    expect(config).toEqual({
      api_key: SECRET,
      start_date: '2026-01-01T00:00:00Z',
      max_retries: 3,
      downloads_per_minute: 0.5,
      fail_on_rejected: true,
      extra_headers: { 'X-Test': '1' },
    });
  });

  it('fails on a typo\'d key, naming the file, the key and the likely intent', async () => {
    const path = await file('typo.json', { api_key: SECRET, start_date: '2026-01-01T00:00:00Z', max_retires: 3 });
    const err = await configError(loadConfig({ files: [path], env: {}, envPrefix: 'TAP_FULLSTORY', schema }));
    expect(err.message).toBe(`config file ${path}: unknown key "max_retires" (did you mean "max_retries"?)`);
  });

  it('names the environment variable whose value has the wrong type', async () => {
    const path = await file('base.json', { api_key: SECRET, start_date: '2026-01-01T00:00:00Z' });
    const err = await configError(
      loadConfig({ files: [path], env: { TAP_FULLSTORY_MAX_RETRIES: 'many' }, envPrefix: 'TAP_FULLSTORY', schema }),
    );
    expect(err.message).toBe('environment variable TAP_FULLSTORY_MAX_RETRIES: "max_retries" must be an integer');
  });

  it('names a missing required key and where it can be set', async () => {
    const path = await file('nokey.json', { start_date: '2026-01-01T00:00:00Z' });
    const err = await configError(loadConfig({ files: [path], env: {}, envPrefix: 'TAP_FULLSTORY', schema }));
    expect(err.message).toBe('missing required setting "api_key" (set it in a --config file or TAP_FULLSTORY_API_KEY)');
  });

  it('explains formats, enums and bounds without echoing the value', async () => {
    const path = await file('bad.json', { api_key: SECRET, start_date: SECRET, region: 'mars', max_retries: -1 });
    const err = await configError(loadConfig({ files: [path], env: {}, envPrefix: 'TAP_FULLSTORY', schema }));
    expect(err.message).toContain(`config file ${path}: "start_date" must be an RFC 3339 date-time`);
    expect(err.message).toContain('"region" must be one of "na1", "eu1"');
    expect(err.message).toContain('"max_retries" must be >= 0');
  });

  it('names an unreadable file, a file that is not JSON (without quoting it) and one that is not an object', async () => {
    const missing = join(dir, 'nope.json');
    expect((await configError(loadConfig({ files: [missing], env: {}, envPrefix: 'TAP_FULLSTORY', schema }))).message).toBe(
      `config file ${missing}: file not found`,
    );
    const broken = await file('broken.json', `{"api_key": "${SECRET}",`);
    const err = await configError(loadConfig({ files: [broken], env: {}, envPrefix: 'TAP_FULLSTORY', schema }));
    expect(err.message).toMatch(new RegExp(`^config file ${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON`));
    const list = await file('list.json', '[1,2]');
    expect((await configError(loadConfig({ files: [list], env: {}, envPrefix: 'TAP_FULLSTORY', schema }))).message).toBe(
      `config file ${list}: expected a JSON object of settings`,
    );
  });

  it('rejects an object setting from the environment that is not JSON', async () => {
    const err = await configError(
      loadConfig({
        files: [],
        env: { TAP_FULLSTORY_API_KEY: SECRET, TAP_FULLSTORY_START_DATE: '2026-01-01T00:00:00Z', TAP_FULLSTORY_EXTRA_HEADERS: 'a=b' },
        envPrefix: 'TAP_FULLSTORY',
        schema,
      }),
    );
    expect(err.message).toBe('environment variable TAP_FULLSTORY_EXTRA_HEADERS: "extra_headers" must be JSON (object)');
  });

  it('registers secret values with the redactor, even when validation then fails', async () => {
    const redactor = new Redactor();
    await configError(
      loadConfig({
        files: [],
        env: { TAP_FULLSTORY_API_KEY: SECRET, TAP_FULLSTORY_START_DATE: 'soon' },
        envPrefix: 'TAP_FULLSTORY',
        schema,
        secretKeys: ['api_key'],
        redactor,
      }),
    );
    expect(redactor.redact(`key=${SECRET}`)).toBe('key=[REDACTED]');
  });
});

describe('camelCaseKeys', () => {
  it('accepts the same schema with an $id loaded twice, and a changed schema under that $id', async () => {
    const path = await file('ids.json', { api_key: SECRET, start_date: '2026-01-01T00:00:00Z' });
    const withId = (): JsonSchema => ({ ...structuredClone(schema), $id: 'urn:test:settings' });
    for (let i = 0; i < 2; i++) {
      // A fresh but equal object each time, as when a CLI reads its schema file twice.
      await expect(loadConfig({ files: [path], env: {}, envPrefix: 'TAP_FULLSTORY', schema: withId() })).resolves.toMatchObject({ max_retries: 8 });
    }
    const changed = withId();
    (changed.properties as Record<string, Record<string, unknown>>).max_retries.default = 3;
    await expect(loadConfig({ files: [path], env: {}, envPrefix: 'TAP_FULLSTORY', schema: changed })).resolves.toMatchObject({ max_retries: 3 });
  });

  it('turns snake_case keys into camelCase, shallowly', () => {
    const out = camelCaseKeys({ api_key: 'k', state_every_records: 5, nested_obj: { inner_key: 1 } });
    expect(out).toEqual({ apiKey: 'k', stateEveryRecords: 5, nestedObj: { inner_key: 1 } });
    const typed: number = out.stateEveryRecords;
    expect(typed).toBe(5);
  });
});
