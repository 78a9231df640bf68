/**
 * Packaging: the CLIs work when installed from packed tarballs in an empty folder, the way a user
 * installs them on a server or in a Meltano project (no checkout, no workspace links), following the
 * README's recipe: pack into the project's own `vendor/` folder, then `npm install ./vendor/*.tgz`,
 * so the project's package.json records paths inside the project (`file:vendor/...`), not under /tmp.
 *
 * `scripts/pack-clis.js` packs every workspace the CLIs need (schemas, singer-core, fullstory-client)
 * and the three CLIs; `npm install` of those tarballs must then give working `npx` commands, and each
 * package must carry the LICENSE. Needs the build (`npm test` builds first).
 *
 * `npx <bin> <flags>` passes the flags to the bin, as the README shows. `npx --no -- <bin> <flags>`:
 * `--no` forbids a registry download (the bin must come from the tarballs), and once npx has an
 * option of its own, `--` is needed, or npm reads the bin's flags as its own (`--version` prints npm's).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { cleanEnv, makeTempDir, removeDir, repoRoot, run, tail } from './helpers.js';

const MINUTE = 60_000;

interface AboutDocument {
  name: string;
  version: string;
  capabilities: string[];
  settings: { properties: Record<string, unknown> };
}

/** The one version every package carries (see scripts/set-version.js). */
function rootVersion(): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

describe('CLIs installed from packed tarballs', () => {
  let work: string | undefined;
  let project = '';
  let tarballs: string[] = [];

  beforeAll(async () => {
    work = await makeTempDir('fullstory-packaging-');
    project = join(work, 'project');
    await mkdir(project);
    const packed = await run(process.execPath, [join(repoRoot, 'scripts', 'pack-clis.js'), join(project, 'vendor')], {
      cwd: repoRoot,
      timeoutMs: 3 * MINUTE,
    });
    if (packed.code !== 0) throw new Error(`pack-clis.js failed (${packed.code}):\n${tail(packed.stderr)}`);
    tarballs = packed.stdout.split('\n').filter((line) => line.endsWith('.tgz'));

    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'packaging-check', version: '0.0.0', private: true }));
    // What `npm install ./vendor/*.tgz` expands to in a shell.
    const relative = tarballs.map((path) => `./vendor/${basename(path)}`);
    const installed = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...relative], {
      cwd: project,
      timeoutMs: 5 * MINUTE,
    });
    if (installed.code !== 0) throw new Error(`npm install of the tarballs failed (${installed.code}):\n${tail(installed.stderr)}`);
  }, 9 * MINUTE);

  afterAll(async () => {
    await removeDir(work);
  });

  it('packs the three CLIs and the internal packages they need', () => {
    const names = tarballs.map((path) => path.split('/').pop());
    expect(names).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^fullstory-singer-schemas-\d/),
        expect.stringMatching(/^fullstory-singer-singer-core-\d/),
        expect.stringMatching(/^fullstory-singer-fullstory-client-\d/),
        expect.stringMatching(/^fullstory-sandbox-\d/),
        expect.stringMatching(/^tap-fullstory-\d/),
        expect.stringMatching(/^target-fullstory-\d/),
      ]),
    );
  });

  it("records the tarballs by paths inside the project, not under the packing folder's absolute path", () => {
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const specs = Object.values(manifest.dependencies);
    expect(specs).toHaveLength(tarballs.length);
    for (const spec of specs) expect(spec).toMatch(/^file:vendor\/[\w.-]+\.tgz$/);
  });

  it('ships the LICENSE in every package', () => {
    const license = readFileSync(join(repoRoot, 'LICENSE'), 'utf8');
    const installedDirs = ['tap-fullstory', 'target-fullstory', 'fullstory-sandbox', '@fullstory-singer/schemas', '@fullstory-singer/singer-core', '@fullstory-singer/fullstory-client'];
    for (const pkg of installedDirs) {
      const path = join(project, 'node_modules', pkg, 'LICENSE');
      expect({ pkg, license: existsSync(path) && readFileSync(path, 'utf8') === license }).toEqual({ pkg, license: true });
    }
  });

  it('npx tap-fullstory --about --format json describes the tap', async () => {
    const result = await run('npx', ['tap-fullstory', '--about', '--format', 'json'], { cwd: project, timeoutMs: MINUTE });
    expect({ code: result.code, stderr: tail(result.stderr, 10) }).toEqual({ code: 0, stderr: expect.any(String) });
    const about = JSON.parse(result.stdout) as AboutDocument;
    expect(about.name).toBe('tap-fullstory');
    expect(about.capabilities).toEqual(expect.arrayContaining(['catalog', 'discover', 'state', 'about', 'properties']));
    expect(Object.keys(about.settings.properties)).toEqual(expect.arrayContaining(['api_key', 'start_date']));
  });

  it('npx target-fullstory --about describes the target', async () => {
    const result = await run('npx', ['--no', '--', 'target-fullstory', '--about'], { cwd: project, timeoutMs: MINUTE });
    expect({ code: result.code, stderr: tail(result.stderr, 10) }).toEqual({ code: 0, stderr: expect.any(String) });
    const about = JSON.parse(result.stdout) as AboutDocument;
    expect(about.name).toBe('target-fullstory');
    expect(about.capabilities).toEqual(expect.arrayContaining(['about']));
    expect(Object.keys(about.settings.properties)).toEqual(expect.arrayContaining(['api_key', 'data_type', 'streams']));
  });

  it('npx fullstory-sandbox --version prints the version', async () => {
    const result = await run('npx', ['--no', '--', 'fullstory-sandbox', '--version'], { cwd: project, timeoutMs: MINUTE });
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 0, stdout: `${rootVersion()}\n` });
  });

  it('npx fullstory-sandbox starts and says where it listens', async () => {
    const child = spawn('npx', ['--no', '--', 'fullstory-sandbox', '--port', '0'], {
      cwd: project,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stderr.resume();
    try {
      const firstLine = await new Promise<string>((resolveLine, rejectLine) => {
        const timer = setTimeout(() => rejectLine(new Error('no listening line within 60 s')), MINUTE);
        createInterface({ input: child.stdout }).once('line', (line) => {
          clearTimeout(timer);
          resolveLine(line);
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          rejectLine(new Error(`fullstory-sandbox exited with ${code} before listening`));
        });
      });
      expect(firstLine).toMatch(/^fullstory-sandbox listening on http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      // npx runs the bin in a child of its own: end the whole group.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
  });

  it('ships built code, bins and READMEs, not sources or tests', () => {
    for (const pkg of ['tap-fullstory', 'target-fullstory', 'fullstory-sandbox']) {
      const dir = join(project, 'node_modules', pkg);
      expect({ pkg, stub: existsSync(join(dir, 'bin', `${pkg}.js`)) }).toEqual({ pkg, stub: true });
      expect({ pkg, readme: existsSync(join(dir, 'README.md')) }).toEqual({ pkg, readme: true });
      expect({ pkg, bin: existsSync(join(dir, 'dist', 'src', 'bin.js')) }).toEqual({ pkg, bin: true });
      if (pkg !== 'fullstory-sandbox') {
        const shipped = (name: string): boolean => existsSync(join(dir, 'dist', name));
        expect({ pkg, loader: shipped(`${pkg}.js`), bundle: shipped(`${pkg}.bundle.cjs`), cache: shipped(`${pkg}.bundle.cjs.cache`), notices: shipped(`${pkg}.licenses.txt`) }).toEqual({
          pkg,
          loader: true,
          bundle: true,
          cache: true,
          notices: true,
        });
      }
      expect({ pkg, tests: existsSync(join(dir, 'dist', 'test')) || existsSync(join(dir, 'test')) }).toEqual({ pkg, tests: false });
      const tsSources = existsSync(join(dir, 'src')) ? readdirSync(join(dir, 'src')).filter((f) => f.endsWith('.ts')) : [];
      expect({ pkg, tsSources }).toEqual({ pkg, tsSources: [] });
    }
  });
});
