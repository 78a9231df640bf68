import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { camelCaseKeys, ConfigError, loadConfig, missingSettingError, Redactor, type JsonSchema } from '@fullstory-singer/singer-core';
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
    const config = await loadConfig({ files: [path], env: {}, envPrefix: 'TAP_X', schema });
    expect(config).toEqual({ api_key: SECRET, start_date: '2026-01-01T00:00:00Z', max_retries: 8 });
  });

  it('lets a later file override an earlier one, and the environment override both', async () => {
    const first = await file('first.json', { api_key: SECRET, start_date: '2026-01-01T00:00:00Z', region: 'na1', max_retries: 1 });
    const second = await file('second.json', { region: 'eu1', max_retries: 2 });
    const fromFiles = await loadConfig({ files: [first, second], env: {}, envPrefix: 'TAP_X', schema });
    expect(fromFiles).toMatchObject({ region: 'eu1', max_retries: 2, start_date: '2026-01-01T00:00:00Z' });
    const withEnv = await loadConfig({
      files: [first, second],
      env: { TAP_X_MAX_RETRIES: '5', TAP_X_START_DATE: '2026-02-01T00:00:00Z', TAP_X_REGION: '' },
      envPrefix: 'TAP_X',
      schema,
    });
    // An empty variable counts as unset: region stays as the files say.
    expect(withEnv).toMatchObject({ region: 'eu1', max_retries: 5, start_date: '2026-02-01T00:00:00Z' });
  });

  it('takes every setting from the environment alone, coerced by the schema type', async () => {
    const config = await loadConfig({
      files: [],
      env: {
        TARGET_X_API_KEY: SECRET,
        TARGET_X_START_DATE: '2026-01-01T00:00:00Z',
        TARGET_X_MAX_RETRIES: '3',
        TARGET_X_DOWNLOADS_PER_MINUTE: '0.5',
        TARGET_X_FAIL_ON_REJECTED: 'TRUE',
        TARGET_X_EXTRA_HEADERS: '{"X-Test":"1"}',
        TARGET_X_UNRELATED: 'ignored',
      },
      envPrefix: 'TARGET_X',
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
    const err = await configError(loadConfig({ files: [path], env: {}, envPrefix: 'TAP_X', schema }));
    expect(err.message).toBe(`config file ${path}: unknown key "max_retires" (did you mean "max_retries"?)`);
  });

  it('names the environment variable whose value has the wrong type', async () => {
    const path = await file('base.json', { api_key: SECRET, start_date: '2026-01-01T00:00:00Z' });
    const err = await configError(
      loadConfig({ files: [path], env: { TAP_X_MAX_RETRIES: 'many' }, envPrefix: 'TAP_X', schema }),
    );
    expect(err.message).toBe('environment variable TAP_X_MAX_RETRIES: "max_retries" must be an integer');
  });

  it('names a missing required key and where it can be set', async () => {
    const path = await file('nokey.json', { start_date: '2026-01-01T00:00:00Z' });
    const err = await configError(loadConfig({ files: [path], env: {}, envPrefix: 'TAP_X', schema }));
    expect(err.message).toBe('missing required setting "api_key" (set it in a --config file or TAP_X_API_KEY)');
  });

  it('explains formats, enums and bounds without echoing the value', async () => {
    const path = await file('bad.json', { api_key: SECRET, start_date: SECRET, region: 'mars', max_retries: -1 });
    const err = await configError(loadConfig({ files: [path], env: {}, envPrefix: 'TAP_X', schema }));
    expect(err.message).toContain(`config file ${path}: "start_date" must be an RFC 3339 date-time`);
    expect(err.message).toContain('"region" must be one of "na1", "eu1"');
    expect(err.message).toContain('"max_retries" must be >= 0');
  });

  it('names an unreadable file, a file that is not JSON (without quoting it) and one that is not an object', async () => {
    const missing = join(dir, 'nope.json');
    expect((await configError(loadConfig({ files: [missing], env: {}, envPrefix: 'TAP_X', schema }))).message).toBe(
      `config file ${missing}: file not found`,
    );
    const broken = await file('broken.json', `{"api_key": "${SECRET}",`);
    const err = await configError(loadConfig({ files: [broken], env: {}, envPrefix: 'TAP_X', schema }));
    expect(err.message).toMatch(new RegExp(`^config file ${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1:\\d+: not valid JSON`));
    const list = await file('list.json', '[1,2]');
    expect((await configError(loadConfig({ files: [list], env: {}, envPrefix: 'TAP_X', schema }))).message).toBe(
      `config file ${list}: expected a JSON object of settings`,
    );
  });

  it('rejects an object setting from the environment that is not JSON', async () => {
    const err = await configError(
      loadConfig({
        files: [],
        env: { TAP_X_API_KEY: SECRET, TAP_X_START_DATE: '2026-01-01T00:00:00Z', TAP_X_EXTRA_HEADERS: 'a=b' },
        envPrefix: 'TAP_X',
        schema,
      }),
    );
    expect(err.message).toBe('environment variable TAP_X_EXTRA_HEADERS: "extra_headers" must be JSON (object)');
  });

  it('registers secret values with the redactor, even when validation then fails', async () => {
    const redactor = new Redactor();
    await configError(
      loadConfig({
        files: [],
        env: { TAP_X_API_KEY: SECRET, TAP_X_START_DATE: 'soon' },
        envPrefix: 'TAP_X',
        schema,
        secretKeys: ['api_key'],
        redactor,
      }),
    );
    expect(redactor.redact(`key=${SECRET}`)).toBe('key=[REDACTED]');
  });
});

describe('loadConfig messages a newcomer can act on', () => {
  it('points at a JSON syntax error as file:line:column', async () => {
    const text = '{\n  "api_key": "x",\n  "start_date": "2026-01-01T00:00:00Z"\n  "base_url": 1\n}\n';
    const path = await file('lines.json', text);
    const err = await configError(loadConfig({ files: [path], env: {}, envPrefix: 'TAP_X', schema }));
    // Line 4, column 3: the `"` of "base_url", where a comma was expected.
    expect(err.message).toBe(`config file ${path}:4:3: not valid JSON (expected ',' or '}' after property value)`);
    const cut = await file('cut.json', '{\n  "api_key": "x",\n');
    expect((await configError(loadConfig({ files: [cut], env: {}, envPrefix: 'TAP_X', schema }))).message).toMatch(
      new RegExp(`^config file ${cut.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:1: not valid JSON \\(`),
    );
  });

  it('warns about a prefixed variable that sets nothing, with the setting it probably meant', async () => {
    const warnings: string[] = [];
    const config = await loadConfig({
      files: [],
      env: {
        TAP_X_API_KEY: SECRET,
        TAP_X_START_DATE: '2026-01-01T00:00:00Z',
        TAP_X_STAT_DATE: '2026-02-01T00:00:00Z',
        TAP_X_FOO: '1',
        TAP_X_EMPTY: '',
        TAP_X__SELECT: '["events.*"]',
        TAP_X__SANDBOX_BASE_URL: 'http://127.0.0.1:1',
        TAP_XY_REGION: 'eu1',
      },
      envPrefix: 'TAP_X',
      schema,
      logger: { warn: (msg) => void warnings.push(msg) },
    });
    expect(config).toMatchObject({ start_date: '2026-01-01T00:00:00Z' });
    expect(warnings).toEqual([
      'environment variable TAP_X_FOO is not a setting; ignored',
      'environment variable TAP_X_STAT_DATE is not a setting; ignored (did you mean TAP_X_START_DATE?)',
    ]);
    expect(warnings.join('\n')).not.toContain(SECRET);
  });

  it('suggests the key a nested typo meant', async () => {
    const nested: JsonSchema = {
      type: 'object',
      additionalProperties: false,
      properties: {
        streams: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: { mapping: { type: 'object' }, data_type: { type: 'string' } },
          },
        },
      },
    };
    const path = await file('nested.json', { streams: { users: { maping: { uid: 'id' } } } });
    const err = await configError(loadConfig({ files: [path], env: {}, envPrefix: 'TARGET_X', schema: nested }));
    expect(err.message).toBe(`config file ${path}: unknown key "streams.users.maping" (did you mean "streams.users.mapping"?)`);
  });

  it('words a missing setting the same way, whether the schema or the program requires it', async () => {
    const fromSchema = await configError(loadConfig({ files: [], env: { TAP_X_START_DATE: '2026-01-01T00:00:00Z' }, envPrefix: 'TAP_X', schema }));
    expect(fromSchema.message).toBe(missingSettingError('api_key', 'TAP_X').message);
    expect(missingSettingError('api_key', 'TARGET_X', 'not needed with --dry-run').message).toBe(
      'missing required setting "api_key" (set it in a --config file or TARGET_X_API_KEY; not needed with --dry-run)',
    );
  });
});

describe('camelCaseKeys', () => {
  it('accepts the same schema with an $id loaded twice, and a changed schema under that $id', async () => {
    const path = await file('ids.json', { api_key: SECRET, start_date: '2026-01-01T00:00:00Z' });
    const withId = (): JsonSchema => ({ ...structuredClone(schema), $id: 'urn:test:settings' });
    for (let i = 0; i < 2; i++) {
      // A fresh but equal object each time, as when a CLI reads its schema file twice.
      await expect(loadConfig({ files: [path], env: {}, envPrefix: 'TAP_X', schema: withId() })).resolves.toMatchObject({ max_retries: 8 });
    }
    const changed = withId();
    (changed.properties as Record<string, Record<string, unknown>>).max_retries.default = 3;
    await expect(loadConfig({ files: [path], env: {}, envPrefix: 'TAP_X', schema: changed })).resolves.toMatchObject({ max_retries: 3 });
  });

  it('turns snake_case keys into camelCase, shallowly', () => {
    const out = camelCaseKeys({ api_key: 'k', state_every_records: 5, nested_obj: { inner_key: 1 } });
    expect(out).toEqual({ apiKey: 'k', stateEveryRecords: 5, nestedObj: { inner_key: 1 } });
    const typed: number = out.stateEveryRecords;
    expect(typed).toBe(5);
  });
});
