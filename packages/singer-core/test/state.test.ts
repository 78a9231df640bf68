import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, getBookmark, InputError, readStateFile, setBookmark } from '@fullstory-singer/singer-core';
import { removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await removeTempDir(dir);
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('readStateFile', () => {
  it('reads a state object, keeping big integers exact', async () => {
    const path = await file('state.json', '{"bookmarks":{"events":{"last_bundle_id":9007199254740993,"last_bundle_stop":"2026-11-20T00:00:00Z"}}}');
    const state = await readStateFile(path);
    expect(getBookmark(state, 'events')).toEqual({ last_bundle_id: 9007199254740993n, last_bundle_stop: '2026-11-20T00:00:00Z' });
  });

  it('gives an InputError (exit 3) naming the file when it is not JSON', async () => {
    const path = await file('bad.json', '{"bookmarks": {');
    const err = await readStateFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(3);
    expect((err as InputError).message).toMatch(/^state file .*bad\.json:\d+:\d+: not valid JSON/);
    expect((err as InputError).source).toBe(path);
  });

  it('hints at `tail -1` when the file holds several lines of target output', async () => {
    const path = await file('lines.json', '{"a":1}\n{"a":2}\n');
    await expect(readStateFile(path)).rejects.toThrow(/keep only the last one/);
  });

  it('gives an InputError when the JSON is not an object', async () => {
    const path = await file('array.json', '[]');
    await expect(readStateFile(path)).rejects.toThrow(`state file ${path}: expected a JSON object, got an array`);
  });

  it('gives a ConfigError (exit 2) naming a missing file', async () => {
    const path = join(dir, 'missing.json');
    const err = await readStateFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(`state file ${path}: file not found`);
  });

  it('reads an empty file as an empty state', async () => {
    expect(await readStateFile(await file('empty.json', '  \n'))).toEqual({});
  });
});

describe('bookmarks', () => {
  it('gets nothing from a state without bookmarks or with a non-object bookmark', () => {
    expect(getBookmark({}, 'events')).toBeUndefined();
    expect(getBookmark({ bookmarks: { events: '2026-01-01' } }, 'events')).toBeUndefined();
    expect(getBookmark({ bookmarks: [] }, 'events')).toBeUndefined();
  });

  it('sets a bookmark in a new object, leaving the input and other streams untouched', () => {
    const before = { currently_syncing: null, bookmarks: { users: { offset: 1 } } };
    const after = setBookmark(before, 'events', { last_bundle_id: 5 });
    expect(after).toEqual({ currently_syncing: null, bookmarks: { users: { offset: 1 }, events: { last_bundle_id: 5 } } });
    expect(before).toEqual({ currently_syncing: null, bookmarks: { users: { offset: 1 } } });
    expect(getBookmark(after, 'events')).toEqual({ last_bundle_id: 5 });
  });
});
