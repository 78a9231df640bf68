/**
 * One version line (README, "Versions"): the root package.json's `version` is the version of every
 * package, and `node scripts/set-version.js X.Y.Z` moves all of them, their pins on one another and
 * package-lock.json together, in a way npm itself agrees with. Run on a copy of the manifests, so the
 * checkout is never changed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeDir, repoRoot, run } from './helpers.js';

const WORKSPACES = (JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;

describe('one version line', () => {
  let copy: string | undefined;
  const setVersion = (args: string[]) => run(process.execPath, [join(copy!, 'scripts', 'set-version.js'), ...args], { cwd: copy!, timeoutMs: 30_000 });

  beforeAll(async () => {
    copy = await makeTempDir('fullstory-version-');
    await mkdir(join(copy, 'scripts'));
    await copyFile(join(repoRoot, 'scripts', 'set-version.js'), join(copy, 'scripts', 'set-version.js'));
    for (const file of ['package.json', 'package-lock.json']) await copyFile(join(repoRoot, file), join(copy, file));
    for (const dir of WORKSPACES) {
      await mkdir(join(copy, dir), { recursive: true });
      await copyFile(join(repoRoot, dir, 'package.json'), join(copy, dir, 'package.json'));
    }
  });

  afterAll(async () => {
    await removeDir(copy);
  });

  it('holds in the checkout: every package and pin carries the root version', async () => {
    const check = await run(process.execPath, [join(repoRoot, 'scripts', 'set-version.js')], { cwd: repoRoot, timeoutMs: 30_000 });
    expect({ code: check.code, stderr: check.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('set-version moves every package, pin and the lock file; npm finds the lock consistent', async () => {
    const set = await setVersion(['1.2.3']);
    expect(set.code).toBe(0);
    for (const dir of ['.', ...WORKSPACES]) {
      const manifest = JSON.parse(await readFile(join(copy!, dir, 'package.json'), 'utf8')) as {
        version: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      expect({ dir, version: manifest.version }).toEqual({ dir, version: '1.2.3' });
      const pins = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies }).filter(
        ([name]) => name.startsWith('@fullstory-singer/') || name === 'fullstory-sandbox',
      );
      for (const [name, spec] of pins) expect({ dir, name, spec }).toEqual({ dir, name, spec: '1.2.3' });
    }
    expect((await setVersion([])).code).toBe(0);
    // npm rebuilds the lock from the manifests and finds nothing to change.
    const lock = await readFile(join(copy!, 'package-lock.json'), 'utf8');
    const npm = await run('npm', ['install', '--package-lock-only', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: copy!,
      timeoutMs: 60_000,
    });
    expect(npm.code).toBe(0);
    expect(await readFile(join(copy!, 'package-lock.json'), 'utf8')).toBe(lock);
  });

  it('the check names a file that drifted, and a bad version is refused', async () => {
    const path = join(copy!, 'packages', 'tap-fullstory', 'package.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as { version: string };
    await writeFile(path, JSON.stringify({ ...manifest, version: '9.9.9' }));
    const check = await setVersion([]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('packages/tap-fullstory/package.json: version is 9.9.9, not 1.2.3');
    expect(await setVersion(['next'])).toMatchObject({ code: 2, stderr: 'set-version: error: "next" is not a version such as 1.2.3\n' });
  });
});
