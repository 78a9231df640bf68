#!/usr/bin/env node
// Sets the one version every package of this repo carries:
//
//   node scripts/set-version.js 0.2.0
//
// The root package.json's `version` is the version line. This writes it into every workspace's
// package.json, into the exact pins between them (`"@fullstory-singer/singer-core": "0.2.0"`; they
// are packed and installed together, so they always match), and into package-lock.json, so `npm ci`
// stays consistent. Tagging and publishing are left to you (`git tag v0.2.0`; the packages are
// installed from tarballs, see scripts/pack-clis.js). With no argument it only checks that every
// file agrees, and exits 1 naming the ones that do not. test/e2e/versioning.test.ts runs it.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

const read = (path) => JSON.parse(readFileSync(join(root, path), 'utf8'));
const write = (path, value) => writeFileSync(join(root, path), `${JSON.stringify(value, null, 2)}\n`);

const rootManifest = read('package.json');
const workspaces = rootManifest.workspaces;
const manifests = new Map(workspaces.map((dir) => [dir, read(join(dir, 'package.json'))]));
const ours = new Set([...manifests.values()].map((m) => m.name));

const wanted = process.argv[2];
if (wanted !== undefined && !SEMVER.test(wanted)) {
  process.stderr.write(`set-version: error: "${wanted}" is not a version such as 1.2.3\n`);
  process.exit(2);
}
const version = wanted ?? rootManifest.version;

/** Every place a version of ours is written: [file, description, current value, setter]. */
function places() {
  const found = [['package.json', 'version', rootManifest.version, (v) => (rootManifest.version = v)]];
  for (const [dir, manifest] of manifests) {
    const file = join(dir, 'package.json');
    found.push([file, 'version', manifest.version, (v) => (manifest.version = v)]);
    for (const field of ['dependencies', 'devDependencies']) {
      for (const name of Object.keys(manifest[field] ?? {})) {
        if (ours.has(name)) found.push([file, `${field}.${name}`, manifest[field][name], (v) => (manifest[field][name] = v)]);
      }
    }
  }
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (path === '' || manifests.has(path)) {
      if (path !== '' || entry.version !== undefined) found.push(['package-lock.json', `packages["${path}"].version`, entry.version, (v) => (entry.version = v)]);
      for (const field of ['dependencies', 'devDependencies']) {
        for (const name of Object.keys(entry[field] ?? {})) {
          if (ours.has(name)) found.push(['package-lock.json', `packages["${path}"].${field}.${name}`, entry[field][name], (v) => (entry[field][name] = v)]);
        }
      }
    }
  }
  if (lock.version !== undefined) found.push(['package-lock.json', 'version', lock.version, (v) => (lock.version = v)]);
  return found;
}

const lock = read('package-lock.json');
const all = places();
if (wanted === undefined) {
  const wrong = all.filter(([, , value]) => value !== version);
  for (const [file, what, value] of wrong) process.stderr.write(`set-version: ${file}: ${what} is ${value}, not ${version}\n`);
  process.exit(wrong.length === 0 ? 0 : 1);
}
for (const [, , , set] of all) set(version);
write('package.json', rootManifest);
for (const [dir, manifest] of manifests) write(join(dir, 'package.json'), manifest);
write('package-lock.json', lock);
process.stdout.write(`set ${version} in ${new Set(all.map(([file]) => file)).size} files (${all.length} places)\n`);
