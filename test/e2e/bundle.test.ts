/**
 * The bundled CLIs (made by scripts/bundle-clis.js in `npm run build`): each CLI is one
 * self-contained file, `packages/<cli>/dist/<cli>.bundle.cjs`, which its loader `dist/<cli>.js`
 * runs with the V8 code cache made for it (`<cli>.bundle.cjs.cache`); the bin runs the loader, and
 * a licence file names every npm package copied into the bundle. Needs the build (`npm test`
 * builds first).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WRAPPER_HEAD, WRAPPER_TAIL } from '../../scripts/lib/cjs-wrapper.js';
import { makeTempDir, removeDir, repoRoot, run } from './helpers.js';

const CLIS = ['tap-fullstory', 'target-fullstory'] as const;
const distOf = (cli: string): string => join(repoRoot, 'packages', cli, 'dist');
const loaderOf = (cli: string): string => join(distOf(cli), `${cli}.js`);
const bundleOf = (cli: string): string => join(distOf(cli), `${cli}.bundle.cjs`);

/** Copies a CLI's loader, bundle and (unless `cache` is false) code cache into `dir`; returns the loader's copy. */
async function copyCli(cli: string, dir: string, cache = true): Promise<string> {
  await mkdir(dir, { recursive: true });
  const files = [`${cli}.js`, `${cli}.bundle.cjs`, ...(cache ? [`${cli}.bundle.cjs.cache`] : [])];
  for (const file of files) await copyFile(join(distOf(cli), file), join(dir, file));
  return join(dir, `${cli}.js`);
}

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
    const viaBundle = await run(process.execPath, [loaderOf(cli), '--about'], { cwd: repoRoot, timeoutMs: 30_000 });
    expect({ code: viaBin.code, stderr: viaBin.stderr }).toEqual({ code: 0, stderr: '' });
    expect(viaBin.stdout).toBe(viaBundle.stdout);
    const stub = await readFile(join(repoRoot, 'packages', cli, 'bin', `${cli}.js`), 'utf8');
    expect(stub).toContain(`new URL('../dist/${cli}.js', import.meta.url)`);
  });

  it.each(CLIS)('%s: runs alone, with no node_modules and no schemas folder beside it (the schemas are inlined)', async (cli) => {
    const copy = await copyCli(cli, alone);
    const about = await run(process.execPath, [copy, '--about'], { cwd: alone, timeoutMs: 30_000 });
    expect({ code: about.code, stderr: about.stderr }).toEqual({ code: 0, stderr: '' });
    const document = JSON.parse(about.stdout) as AboutDocument;
    expect(document.name).toBe(cli);
    expect(Object.keys(document.settings.properties)).toContain('api_key');
  });

  it('the tap alone prints its catalog, whose schemas come from the inlined files', async () => {
    const copy = await copyCli('tap-fullstory', alone);
    const discovered = await run(process.execPath, [copy, '--discover'], { cwd: alone, timeoutMs: 30_000 });
    expect(discovered.code).toBe(0);
    const catalog = JSON.parse(discovered.stdout) as { streams: Array<{ stream: string; schema: { properties: Record<string, unknown> } }> };
    const events = catalog.streams.find((s) => s.stream === 'events');
    const fromFile = JSON.parse(await readFile(join(repoRoot, 'schemas', 'streams', 'events.json'), 'utf8')) as { properties: Record<string, unknown> };
    for (const field of Object.keys(fromFile.properties)) expect(events?.schema.properties).toHaveProperty(field);
  });

  it.each(CLIS)('%s: the code cache made at build time fits this Node (V8 takes it)', async (cli) => {
    // Asked in a fresh process, as the loader runs: V8 refuses a cache when its flags differ from
    // the ones it was made with, and this jest worker's may have been changed by other tests.
    const check = [
      "import { readFileSync } from 'node:fs';",
      "import { Script } from 'node:vm';",
      `import { wrapBundle } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'scripts', 'lib', 'cjs-wrapper.js')).href)};`,
      `const filename = ${JSON.stringify(bundleOf(cli))};`,
      "const script = new Script(wrapBundle(readFileSync(filename, 'utf8')), { filename, cachedData: readFileSync(`${filename}.cache`) });",
      "process.stdout.write(script.cachedDataRejected ? 'rejected' : 'taken');",
    ].join('\n');
    const result = await run(process.execPath, ['--input-type=module', '-e', check], { cwd: repoRoot, timeoutMs: 30_000 });
    expect({ code: result.code, stderr: result.stderr, stdout: result.stdout }).toEqual({ code: 0, stderr: '', stdout: 'taken' });
    // The loader wraps the bundle the same way, or V8 would refuse the cache there.
    const loader = await readFile(loaderOf(cli), 'utf8');
    expect([loader.includes(JSON.stringify(WRAPPER_HEAD)), loader.includes(JSON.stringify(WRAPPER_TAIL))]).toEqual([true, true]);
  });

  it.each(CLIS)('%s: runs the same without its code cache, or with a damaged one (another Node, a broken copy)', async (cli) => {
    // Copies outside the package, all three (no package.json beside them: the version reads 0.0.0).
    const withCache = await copyCli(cli, join(alone, `${cli}-cache`));
    const expected = await run(process.execPath, [withCache, '--about'], { cwd: alone, timeoutMs: 30_000 });
    expect(expected.code).toBe(0);
    const none = await copyCli(cli, join(alone, `${cli}-no-cache`), false);
    const damagedDir = join(alone, `${cli}-damaged-cache`);
    const damaged = await copyCli(cli, damagedDir);
    const cache = await readFile(join(damagedDir, `${cli}.bundle.cjs.cache`));
    await writeFile(join(damagedDir, `${cli}.bundle.cjs.cache`), Buffer.concat([Buffer.from('not a code cache'), cache.subarray(16, cache.length >> 1)]));
    for (const loader of [none, damaged]) {
      const result = await run(process.execPath, [loader, '--about'], { cwd: alone, timeoutMs: 30_000 });
      expect({ code: result.code, stderr: result.stderr, stdout: result.stdout }).toEqual({ code: 0, stderr: '', stdout: expected.stdout });
    }
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
