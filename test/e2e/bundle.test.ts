/**
 * The bundled CLIs (`packages/<cli>/dist/<cli>.js`, made by scripts/bundle-clis.js in `npm run
 * build`): each is one self-contained file that the bin runs, and each names the licence of every
 * npm package copied into it. Needs the build (`npm test` builds first).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeDir, repoRoot, run } from './helpers.js';

const CLIS = ['tap-fullstory', 'target-fullstory'] as const;
const bundleOf = (cli: string): string => join(repoRoot, 'packages', cli, 'dist', `${cli}.js`);

interface AboutDocument {
  name: string;
  settings: { properties: Record<string, unknown> };
}

describe('the bundled CLIs', () => {
  let alone = '';

  beforeAll(async () => {
    alone = await makeTempDir('fullstory-bundle-');
  });

  afterAll(async () => {
    await removeDir(alone);
  });

  it.each(CLIS)('%s: the bin runs the bundle', async (cli) => {
    const viaBin = await run(process.execPath, [join(repoRoot, 'packages', cli, 'bin', `${cli}.js`), '--about'], { cwd: repoRoot, timeoutMs: 30_000 });
    const viaBundle = await run(process.execPath, [bundleOf(cli), '--about'], { cwd: repoRoot, timeoutMs: 30_000 });
    expect({ code: viaBin.code, stderr: viaBin.stderr }).toEqual({ code: 0, stderr: '' });
    expect(viaBin.stdout).toBe(viaBundle.stdout);
    const stub = await readFile(join(repoRoot, 'packages', cli, 'bin', `${cli}.js`), 'utf8');
    expect(stub).toContain(`new URL('../dist/${cli}.js', import.meta.url)`);
  });

  it.each(CLIS)('%s: runs alone, with no node_modules and no schemas folder beside it (the schemas are inlined)', async (cli) => {
    const copy = join(alone, `${cli}.js`);
    await copyFile(bundleOf(cli), copy);
    const about = await run(process.execPath, [copy, '--about'], { cwd: alone, timeoutMs: 30_000 });
    expect({ code: about.code, stderr: about.stderr }).toEqual({ code: 0, stderr: '' });
    const document = JSON.parse(about.stdout) as AboutDocument;
    expect(document.name).toBe(cli);
    expect(Object.keys(document.settings.properties)).toContain('api_key');
  });

  it('the tap alone prints its catalog, whose schemas come from the inlined files', async () => {
    const copy = join(alone, 'tap-fullstory.js');
    await copyFile(bundleOf('tap-fullstory'), copy);
    const discovered = await run(process.execPath, [copy, '--discover'], { cwd: alone, timeoutMs: 30_000 });
    expect(discovered.code).toBe(0);
    const catalog = JSON.parse(discovered.stdout) as { streams: Array<{ stream: string; schema: { properties: Record<string, unknown> } }> };
    const events = catalog.streams.find((s) => s.stream === 'events');
    const fromFile = JSON.parse(await readFile(join(repoRoot, 'schemas', 'streams', 'events.json'), 'utf8')) as { properties: Record<string, unknown> };
    for (const field of Object.keys(fromFile.properties)) expect(events?.schema.properties).toHaveProperty(field);
  });

  it.each(CLIS)('%s: every npm package in the bundle has its licence in dist/<cli>.licenses.txt', async (cli) => {
    const bundle = await readFile(bundleOf(cli), 'utf8');
    const notices = await readFile(join(repoRoot, 'packages', cli, 'dist', `${cli}.licenses.txt`), 'utf8');
    // esbuild heads each bundled module with a comment naming its path.
    const bundled = new Set([...bundle.matchAll(/^\/\/ node_modules\/((?:@[^/\s]+\/)?[^/\s]+)\//gm)].map((m) => m[1]!));
    expect(bundled.size).toBeGreaterThan(5);
    expect(bundled).toContain('got');
    for (const pkg of bundled) {
      const version = (JSON.parse(await readFile(join(repoRoot, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
      expect({ pkg, listed: notices.includes(`## ${pkg} ${version} `) }).toEqual({ pkg, listed: true });
    }
    expect(notices).not.toContain('(no licence file in the package');
  });
});
