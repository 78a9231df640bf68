import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConfigError,
  getMetadata,
  isStreamSelected,
  readCatalogFile,
  selectedFields,
  selectedStreams,
  standardMetadata,
  type CatalogEntry,
} from '@fullstory-singer/singer-core';
import { removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';

const schema = {
  type: 'object',
  properties: { _sdc_bundle_id: { type: 'integer' }, EventStart: { type: 'string' }, EventType: { type: 'string' }, PageUrl: { type: 'string' } },
};

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await removeTempDir(dir);
});

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('standardMetadata', () => {
  it('writes singer-python standard metadata: stream available, keys and replication keys automatic', () => {
    const md = standardMetadata({
      schema,
      keyProperties: ['_sdc_bundle_id'],
      replicationMethod: 'INCREMENTAL',
      validReplicationKeys: ['EventStart'],
    });
    expect(md).toEqual([
      {
        breadcrumb: [],
        metadata: {
          inclusion: 'available',
          'table-key-properties': ['_sdc_bundle_id'],
          'forced-replication-method': 'INCREMENTAL',
          'valid-replication-keys': ['EventStart'],
        },
      },
      { breadcrumb: ['properties', '_sdc_bundle_id'], metadata: { inclusion: 'automatic' } },
      { breadcrumb: ['properties', 'EventStart'], metadata: { inclusion: 'automatic' } },
      { breadcrumb: ['properties', 'EventType'], metadata: { inclusion: 'available' } },
      { breadcrumb: ['properties', 'PageUrl'], metadata: { inclusion: 'available' } },
    ]);
  });

  it('marks automaticFields automatic and selects nothing by default', () => {
    const entry: CatalogEntry = {
      tap_stream_id: 'events',
      stream: 'events',
      schema,
      metadata: standardMetadata({ schema, keyProperties: [], automaticFields: ['PageUrl'] }),
    };
    expect(getMetadata(entry, ['properties', 'PageUrl'])).toEqual({ inclusion: 'automatic' });
    expect(isStreamSelected(entry)).toBe(false);
    expect([...selectedFields(entry)]).toEqual(['PageUrl']);
  });
});

describe('selection', () => {
  const entry = (metadata: CatalogEntry['metadata'], extra: Partial<CatalogEntry> = {}): CatalogEntry => ({
    tap_stream_id: 'events',
    stream: 'events',
    schema,
    metadata,
    ...extra,
  });

  it('selects a stream by metadata (boolean or "true") or by legacy schema.selected', () => {
    expect(isStreamSelected(entry([{ breadcrumb: [], metadata: { selected: true } }]))).toBe(true);
    expect(isStreamSelected(entry([{ breadcrumb: [], metadata: { selected: 'true' } }]))).toBe(true);
    expect(isStreamSelected(entry([{ breadcrumb: [], metadata: { selected: false } }]))).toBe(false);
    expect(isStreamSelected(entry(undefined, { schema: { ...schema, selected: true } }))).toBe(true);
    expect(isStreamSelected(entry([]))).toBe(false);
  });

  it('emits automatic fields always, unsupported never, then selected, then selected-by-default', () => {
    const fields = selectedFields(
      entry([
        { breadcrumb: [], metadata: { selected: true } },
        { breadcrumb: ['properties', '_sdc_bundle_id'], metadata: { inclusion: 'automatic', selected: false } },
        { breadcrumb: ['properties', 'EventStart'], metadata: { inclusion: 'unsupported', selected: true } },
        { breadcrumb: ['properties', 'EventType'], metadata: { inclusion: 'available', selected: 'true' } },
        { breadcrumb: ['properties', 'PageUrl'], metadata: { inclusion: 'available', 'selected-by-default': true } },
        { breadcrumb: ['properties', 'NotInSchema'], metadata: { inclusion: 'available', selected: true } },
      ]),
    );
    expect([...fields].sort()).toEqual(['EventType', 'NotInSchema', 'PageUrl', '_sdc_bundle_id']);
  });

  it('lets an explicit deselection beat selected-by-default', () => {
    const fields = selectedFields(
      entry([{ breadcrumb: ['properties', 'PageUrl'], metadata: { inclusion: 'available', 'selected-by-default': true, selected: false } }]),
    );
    expect(fields.has('PageUrl')).toBe(false);
  });

  it('falls back to legacy inclusion/selected keys inside the field schema', () => {
    const legacy = entry(undefined, {
      schema: {
        type: 'object',
        selected: true,
        properties: { id: { type: 'integer', inclusion: 'automatic' }, a: { type: 'string', selected: true }, b: { type: 'string' } },
      },
    });
    expect([...selectedFields(legacy)].sort()).toEqual(['a', 'id']);
  });

  it('lists the selected streams of a catalog in order', () => {
    const a = entry([{ breadcrumb: [], metadata: { selected: true } }], { tap_stream_id: 'a', stream: 'a' });
    const b = entry([], { tap_stream_id: 'b', stream: 'b' });
    const c = entry([{ breadcrumb: [], metadata: { selected: 'true' } }], { tap_stream_id: 'c', stream: 'c' });
    expect(selectedStreams({ streams: [a, b, c] }).map((s) => s.tap_stream_id)).toEqual(['a', 'c']);
  });
});

describe('readCatalogFile', () => {
  it('reads a --catalog file', async () => {
    const catalog = {
      streams: [{ tap_stream_id: 'events', stream: 'events', schema, key_properties: ['_sdc_bundle_id'], metadata: standardMetadata({ schema, keyProperties: [] }) }],
    };
    expect(await readCatalogFile(await file('catalog.json', catalog))).toEqual(catalog);
  });

  it('reads a legacy --properties file, filling tap_stream_id from stream', async () => {
    const read = await readCatalogFile(await file('properties.json', { streams: [{ stream: 'events', schema: { ...schema, selected: true } }] }));
    expect(read.streams[0]!.tap_stream_id).toBe('events');
    expect(isStreamSelected(read.streams[0]!)).toBe(true);
  });

  it.each([
    ['not JSON', '{"streams": [', /^catalog file .*:1:14: not valid JSON \(/],
    ['no streams', '{}', /: "streams" must be an array$/],
    ['no schema', '{"streams":[{"stream":"events"}]}', /: streams\[0\] \("events"\) has no "schema" object$/],
    ['bad metadata', '{"streams":[{"stream":"events","schema":{},"metadata":[{"breadcrumb":"x"}]}]}', /metadata\[0\] must have a "breadcrumb" array/],
  ])('gives a ConfigError naming the file when %s', async (_name, text, pattern) => {
    const path = await file('bad-catalog.json', text);
    const err = await readCatalogFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message.startsWith(`catalog file ${path}`)).toBe(true);
    expect((err as ConfigError).message).toMatch(pattern);
  });

  it('names a missing file', async () => {
    const path = join(dir, 'absent.json');
    await expect(readCatalogFile(path)).rejects.toThrow(`catalog file ${path}: file not found`);
  });
});
