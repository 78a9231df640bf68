#!/usr/bin/env node
// Packs the CLIs and the workspace packages they depend on into .tgz files, so they can be installed
// where there is no checkout of this repo (a server, a Meltano project, a container):
//
//   npm run build && node scripts/pack-clis.js /path/to/project/vendor
//   cd /path/to/project && npm install ./vendor/*.tgz     # or anywhere: npm install -g ./vendor/*.tgz
//
// Pack into a folder that stays with the project (not /tmp): `npm install` records each tarball in
// the project's package.json as `file:vendor/<name>.tgz`, and a later `npm ci` there needs the files.
// The internal packages (@fullstory-singer/*) are not published to a registry, so they are packed
// too and installed in the same `npm install` command, which then needs no registry for them.
// Prints one tarball path per line on stdout. test/e2e/packaging.test.ts runs this script.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Workspaces in dependency order: what the three CLIs need at run time, and the CLIs. */
const PACKED_WORKSPACES = [
  'schemas',
  'packages/singer-core',
  'packages/fullstory-client',
  'packages/fullstory-sandbox',
  'packages/tap-fullstory',
  'packages/target-fullstory',
];

const destination = resolve(process.argv[2] ?? join(root, '.tmp', 'pack'));
mkdirSync(destination, { recursive: true });

for (const workspace of PACKED_WORKSPACES) {
  if (workspace.startsWith('packages/') && !existsSync(join(root, workspace, 'dist', 'src'))) {
    process.stderr.write(`${workspace} is not built: run \`npm run build\` first\n`);
    process.exit(2);
  }
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const args = ['pack', '--json', '--pack-destination', destination, ...PACKED_WORKSPACES.map((w) => `--workspace=${w}`)];
const report = JSON.parse(execFileSync(npm, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
for (const entry of report) {
  process.stdout.write(`${join(destination, entry.filename)}\n`);
}
