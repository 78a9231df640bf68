import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, Redactor } from '@fullstory-singer/singer-core';
import { removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';
import { loadSettings } from '../src/config.js';
import { routeStream } from '../src/streams.js';

describe('loadSettings', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  async function file(name: string, content: unknown): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, JSON.stringify(content));
    return path;
  }

  it('applies the documented defaults, all from the JSON Schema', async () => {
    const s = await loadSettings({ files: [await file('a.json', { api_key: 'k-123456' })], env: {} });
    expect(s).toEqual({
      apiKey: 'k-123456',
      requestTimeoutSeconds: 300,
      maxRetries: 8,
      streams: {},
      batchSize: 500,
      maxBatchAgeSeconds: 30,
      maxJobsInFlight: 10,
      waitForJobs: true,
      jobPollIntervalSeconds: 2,
      jobTimeoutSeconds: 3600,
      stopTimeoutSeconds: 60,
      deadLetterPath: 'target-fullstory.rejected.ndjson',
      failOnRejected: false,
      validateRecords: true,
      declarePropertyTypes: true,
      dryRun: false,
    });
  });

  it('later files override earlier ones, the environment overrides files, flags override both', async () => {
    const a = await file('a.json', { api_key: 'file-key-1', batch_size: 10, streams: { 'My Stream': { data_type: 'events', mapping: { event_name: { value: 'X' } } } } });
    const b = await file('b.json', { batch_size: 20 });
    const redactor = new Redactor();
    const s = await loadSettings({
      files: [a, b],
      env: { TARGET_FULLSTORY_API_KEY: 'env-key-2', TARGET_FULLSTORY_WAIT_FOR_JOBS: 'false', TARGET_FULLSTORY_MAX_JOBS_IN_FLIGHT: '3' },
      redactor,
      overrides: { dry_run: true },
    });
    expect(s).toMatchObject({ apiKey: 'env-key-2', batchSize: 20, waitForJobs: false, maxJobsInFlight: 3, dryRun: true });
    // Stream names are data: kept as spelt, with snake_case settings turned into camelCase.
    expect(s.streams).toEqual({ 'My Stream': { dataType: 'events', mapping: { event_name: { value: 'X' } }, audienceMode: 'add' } });
    // The key is registered as a secret.
    expect(redactor.redact('key env-key-2 here')).not.toContain('env-key-2');
  });

  it('requires api_key unless dry run, and refuses bad values naming the key', async () => {
    await expect(loadSettings({ files: [], env: {} })).rejects.toThrow(/^missing required setting "api_key"/);
    await expect(loadSettings({ files: [], env: {}, overrides: { dry_run: true } })).resolves.toMatchObject({ dryRun: true });
    const bad = await file('bad.json', { api_key: 'k-123456', batch_size: 50001 });
    await expect(loadSettings({ files: [bad], env: {} })).rejects.toBeInstanceOf(ConfigError);
    await expect(loadSettings({ files: [bad], env: {} })).rejects.toThrow(/batch_size/);
    const mode = await file('mode.json', { api_key: 'k-123456', streams: { s: { audience_mode: 'mirror' } } });
    await expect(loadSettings({ files: [mode], env: {} })).rejects.toThrow(/audience_mode/);
  });
});

describe('routeStream', () => {
  const base = { streams: {}, audienceMode: 'add' } as never;
  it('uses the stream entry, then the top-level data_type', () => {
    const settings = { ...(base as object), dataType: 'users', streams: { e: { dataType: 'events', audienceMode: 'add' } } } as never;
    expect(routeStream(settings, 'e')).toMatchObject({ dataType: 'events', kind: 'events' });
    expect(routeStream(settings, 'other')).toMatchObject({ dataType: 'users', kind: 'users' });
  });

  it('derives the audience property from the audience name', () => {
    const settings = { streams: { a: { dataType: 'audience', audienceName: 'High Value Customers', audienceMode: 'upsert' } } } as never;
    expect(routeStream(settings, 'a')).toMatchObject({
      kind: 'users',
      audience: { name: 'High Value Customers', property: 'high_value_customers', mode: 'upsert' },
    });
  });

  it('names the stream when it has no data type', () => {
    expect(() => routeStream({ streams: {} } as never, 'orders')).toThrow(/stream "orders": no data type/);
  });
});

describe('defaults live in the JSON Schema only', () => {
  it('every setting with a default in the code path has one in the schema', async () => {
    const { settingsSchema } = await import('../src/config.js');
    const props = settingsSchema()['properties'] as Record<string, { default?: unknown }>;
    for (const key of ['request_timeout_seconds', 'max_retries', 'streams', 'batch_size', 'max_batch_age_seconds', 'max_jobs_in_flight', 'wait_for_jobs',
      'job_poll_interval_seconds', 'job_timeout_seconds', 'stop_timeout_seconds', 'dead_letter_path', 'fail_on_rejected', 'validate_records',
      'declare_property_types', 'dry_run']) {
      expect([key, props[key]?.default]).not.toEqual([key, undefined]);
    }
  });
});
