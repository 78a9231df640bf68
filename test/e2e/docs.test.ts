/**
 * Docs that point somewhere: every relative link in the repository's markdown resolves to a file in
 * the repository (and a `#section` to a heading of it), and the docs, examples, scripts and the
 * shared packages cite public pages, never files users do not have (the project's working notes:
 * `shared/...`, `fullstory-api.md`, `spec/*.md`, `/work/...`).
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

// Where the working notes' files must not be cited. The tap's and target's own packages are their
// owners' to sweep.
const SWEPT = /^(README\.md|docs\/|examples\/|scripts\/|schemas\/|packages\/(singer-core|fullstory-client)\/|packages\/fullstory-sandbox\/README\.md|test\/e2e\/)/;
const NOTES = /\bshared\/|fullstory-api\.md|\bspec\/\w+\.md|contract\.md|\/work\//;

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

  it('docs, examples, scripts and the shared packages cite no file a user does not have', () => {
    const self = relative(repoRoot, new URL(import.meta.url).pathname);
    const citing = files
      .filter((f) => SWEPT.test(f) && f !== self && /\.(md|ts|js|sh|yml|json)$/.test(f) && !f.endsWith('package-lock.json'))
      .flatMap((f) =>
        readFileSync(join(repoRoot, f), 'utf8')
          .split('\n')
          .map((line, i) => ({ where: `${f}:${i + 1}`, line }))
          .filter(({ line }) => NOTES.test(line))
          .map(({ where, line }) => `${where}: ${line.trim().slice(0, 120)}`),
      );
    expect(citing).toEqual([]);
  });
});
