/**
 * The README's "Anything else" troubleshooting commands, run as written by bash (the one liberty:
 * a free port instead of 8910), in a folder whose node_modules/.bin holds the CLIs, as after the
 * README's install: the sandbox starts, the tap finds its bundles and emits every event, fast (no
 * pace wait of 30 s per bundle). The sandbox is then stopped the way the issue found it leaking:
 * `kill %1` on the backgrounded npx; it must go with it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cleanEnv, freePort, makeTempDir, removeDir, repoRoot } from './helpers.js';

/** The first ```sh block after `marker` in the README. */
async function shBlockAfter(marker: string): Promise<string> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README has no ${marker}`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) throw new Error(`README has no sh block after ${marker}`);
  return block[1]!;
}

/** Whether something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

describe("the README's troubleshooting sandbox commands", () => {
  let work: string | undefined;

  beforeAll(async () => {
    work = await makeTempDir('fullstory-readme-');
    await mkdir(join(work, 'node_modules', '.bin'), { recursive: true });
    for (const bin of ['tap-fullstory', 'target-fullstory', 'fullstory-sandbox']) {
      await symlink(join(repoRoot, 'packages', bin, 'bin', `${bin}.js`), join(work, 'node_modules', '.bin', bin));
    }
  });

  afterAll(async () => {
    await removeDir(work);
  });

  it('run as written: the tap finds the sandbox bundles at once; kill %1 then frees the port', async () => {
    const port = await freePort();
    const block = (await shBlockAfter('**Anything else.**')).replaceAll('8910', String(port));
    // Wait for the sandbox before the tap (a person types the next line after the first printed),
    // then stop it as a person would.
    const script = block.replace(/&\n/, `&\nuntil grep -q listening sandbox.out 2>/dev/null; do sleep 0.1; done\n`).replace(
      /^npx fullstory-sandbox (.*)&$/m,
      'npx fullstory-sandbox $1> sandbox.out &',
    );
    const started = Date.now();
    const child = spawn('bash', ['-euo', 'pipefail', '-c', `${script}\nkill %1\nwait || true\n`], {
      cwd: work!,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.resume();
    const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timer);
    expect({ code, stderr: code === 0 ? '' : stderr.slice(-1500) }).toEqual({ code: 0, stderr: '' });
    const records = (await readFile(join(work!, 'sandbox.singer'), 'utf8')).split('\n').filter((l) => l.includes('"type":"RECORD"'));
    expect(records).toHaveLength(3000);
    // Three bundles at FullStory's pace of 2 a minute would take a minute; this takes seconds.
    expect(Date.now() - started).toBeLessThan(30_000);
    // The backgrounded sandbox went with its npx (it checks every 500 ms that its parent is there).
    const deadline = Date.now() + 10_000;
    while ((await listening(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await listening(port)).toBe(false);
  }, 90_000);
});
