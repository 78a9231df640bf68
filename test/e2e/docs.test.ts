/**
 * Docs that point somewhere: every relative link in the repository's markdown resolves to a file in
 * the repository (and a `#section` to a heading of it), and no file of the repository (docs, code
 * comments, schemas, tests, scripts) cites a file users do not have: the project's working notes
 * (`shared/...`, `spec/*.md`, `quality.md`, `tap.md`, `fullstory-api.md`, `/work/...` and the like).
 * They cite FullStory's, Singer's or Meltano's public pages, or a file in the repository.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ExitCode } from '@fullstory-singer/singer-core';
import { repoRoot } from './helpers.js';

const files = spawnSync('git', ['ls-files'], { cwd: repoRoot, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

function anchors(path: string): Set<string> {
  const headings = readFileSync(path, 'utf8').split('\n').filter((line) => /^#{1,6} /.test(line));
  return new Set(headings.map((line) => slug(line.replace(/^#+ /, ''))));
}

// Every text file of the repository but the lock file and the fixtures' data (their notes, `*.md` and
// NOTICE files, are checked).
const TEXT = /\.(md|ts|js|mjs|cjs|json|ya?ml|sh|py)$/;
const checked = (f: string): boolean =>
  f !== 'package-lock.json' && (f.startsWith('fixtures/') ? /(\.md|\/NOTICE)$/.test(f) : TEXT.test(f));
const NOTES =
  /\bshared\/|\bspec\/\w+\.md|\b(fullstory-api|quality|architecture|sandbox|tap|target|singer|contract)\.md\b|\/work\/|design card|project brief/;

describe('docs', () => {
  it('every relative markdown link resolves inside the repository', () => {
    const broken: string[] = [];
    for (const file of files.filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(repoRoot, file), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!;
        if (/^(https?:|mailto:)/.test(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path === '' ? join(repoRoot, file) : resolve(dirname(join(repoRoot, file)), path);
        if (!existsSync(resolved) || !relative(repoRoot, resolved).split('/').every((part) => part !== '..')) {
          broken.push(`${file}: ${target}`);
        } else if (anchor !== undefined && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) {
          broken.push(`${file}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('no file of the repository cites a file a user does not have', () => {
    const self = relative(repoRoot, new URL(import.meta.url).pathname);
    const scanned = files.filter((f) => checked(f) && f !== self);
    // The filter must not quietly empty itself: the code, the tests and the docs are all scanned.
    for (const f of ['README.md', 'packages/tap-fullstory/src/discovery.ts', 'test/reliability/helpers.ts', 'bench/report.js', 'test/setup/no-console.js', 'examples/meltano.yml', 'fixtures/singer/conformance/NOTICE']) {
      expect(scanned).toContain(f);
    }
    const citing = scanned
      .flatMap((f) =>
        readFileSync(join(repoRoot, f), 'utf8')
          .split('\n')
          .map((line, i) => ({ where: `${f}:${i + 1}`, line }))
          .filter(({ line }) => NOTES.test(line))
          .map(({ where, line }) => `${where}: ${line.trim().slice(0, 120)}`),
      );
    expect(citing).toEqual([]);
  });

  // The tables say what the code does: exactly the exit codes there are (the tap never rejects records, so no 6).
  it.each([
    ['README.md', '## Exit codes (both CLIs)', Object.values(ExitCode)],
    ['packages/tap-fullstory/README.md', '## Failures and exit codes', Object.values(ExitCode).filter((c) => c !== ExitCode.REJECTED)],
    ['packages/target-fullstory/README.md', '## Failures and exit codes', Object.values(ExitCode)],
  ])('%s lists every exit code in "%s"', (file, heading, codes) => {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    const start = text.indexOf(`\n${heading}\n`);
    expect(start).toBeGreaterThan(-1);
    const section = text.slice(start + 1).split(/\n## /)[0]!;
    const listed = [...section.matchAll(/^\| (\d+(?:, \d+)*) \|/gm)].flatMap((m) => m[1]!.split(', ').map(Number));
    expect(listed.sort((a, b) => a - b)).toEqual([...codes].sort((a, b) => a - b));
  });
});
