#!/usr/bin/env node
// Bundles each Singer CLI into one JavaScript file, `packages/<cli>/dist/<cli>.js`, from its
// compiled `dist/src/bin.js` (run by `npm run build`, after tsc). The bins run the bundle.
//
// Why: Node loads an ES module graph file by file (resolve, read, compile, link). The tap's graph
// is about 240 modules (got alone brings some 80), and loading them took most of `--about`'s 0.37 s
// (0.45 s of CPU). The same code as one file: `--about` in 0.25 s (0.24 s of CPU), and a sync of
// the 200,000-event reference bundle in 1.46 s instead of 1.58 s (medians of paired runs).
// esbuild (https://esbuild.github.io/) is a build-time dependency only; nothing is minified or
// renamed, so stack traces still name our functions.
//
// Two things a bundle changes, handled here:
// - `@fullstory-singer/schemas` reads its JSON files from beside its own module, which a bundle
//   no longer is: the bundle gets a version of that module with the files' text inlined.
// - Code from npm packages is copied into the bundle, so their licence notices go beside it, in
//   `dist/<cli>.licenses.txt` (each bundled package: name, version, licence and its LICENSE file).
//
// `--clean` removes the bundles instead.
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLIS = ['tap-fullstory', 'target-fullstory'];

/** Where a CLI's bundle and its licence notices go. */
function bundlePaths(cli) {
  const dist = join(root, 'packages', cli, 'dist');
  return { bundle: join(dist, `${cli}.js`), licenses: join(dist, `${cli}.licenses.txt`) };
}

const schemasDir = join(root, 'schemas');

/** Every JSON file of the schemas package but its package.json, by the path `loadSchema` is given. */
function schemaFiles() {
  const files = {};
  const names = readdirSync(schemasDir, { recursive: true }).map((name) => name.split(sep).join('/'));
  for (const name of names.filter((n) => n.endsWith('.json') && n !== 'package.json' && !n.startsWith('node_modules/')).sort()) {
    files[name] = readFileSync(join(schemasDir, name), 'utf8');
  }
  return files;
}

/** Replaces the schemas package's loader with one that holds the files' text (see the header). */
const inlineSchemas = {
  name: 'inline-schemas',
  setup(bundler) {
    bundler.onLoad({ filter: /[\\/]schemas[\\/]index\.js$/ }, (args) => {
      if (dirname(args.path) !== schemasDir) return undefined;
      const contents = [
        '// The schemas package\'s loader, with its JSON files inlined by scripts/bundle-clis.js.',
        `const FILES = ${JSON.stringify(schemaFiles(), null, 1)};`,
        '/** Parsed JSON of a schema file, e.g. loadSchema(\'streams/events.json\'): a fresh object each call. */',
        'export function loadSchema(relativePath) {',
        '  const text = FILES[relativePath];',
        "  if (text === undefined) throw new Error(`no schema file ${relativePath} in @fullstory-singer/schemas`);",
        '  return JSON.parse(text);',
        '}',
      ].join('\n');
      return { contents, loader: 'js' };
    });
  },
};

/** The npm packages a bundle holds (from esbuild's metafile), each with its licence notice. */
function licenseNotices(cli, metafile) {
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const parts = input.split('/');
    const at = parts.lastIndexOf('node_modules');
    if (at < 0) continue;
    const nameParts = parts[at + 1].startsWith('@') ? parts.slice(at + 1, at + 3) : parts.slice(at + 1, at + 2);
    const dir = join(root, ...parts.slice(0, at + 1), ...nameParts);
    packages.set(dir, nameParts.join('/'));
  }
  const sections = [...packages].sort((a, b) => a[1].localeCompare(b[1])).map(([dir, name]) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const licenseFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = licenseFile ? readFileSync(join(dir, licenseFile), 'utf8').trim() : `(no licence file in the package; package.json says: ${pkg.license ?? 'nothing'})`;
    return `## ${name} ${pkg.version} (${pkg.license ?? 'see below'})\n\n${text}\n`;
  });
  return [
    `Third-party code bundled into ${cli}.js (by scripts/bundle-clis.js), with each package's licence.`,
    '',
    ...sections,
  ].join('\n');
}

async function bundle(cli) {
  const { bundle: outfile, licenses } = bundlePaths(cli);
  const entry = join(root, 'packages', cli, 'dist', 'src', 'bin.js');
  if (!existsSync(entry)) throw new Error(`${relative(root, entry)} is missing: run tsc -b first`);
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // CommonJS packages in the bundle (commander) call require() for Node's own modules.
    banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module';\nconst require = __bundleCreateRequire(import.meta.url);" },
    plugins: [inlineSchemas],
    metafile: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  writeFileSync(licenses, licenseNotices(cli, result.metafile));
  const bytes = result.metafile.outputs[relative(root, outfile).split(sep).join('/')]?.bytes;
  process.stdout.write(`bundled ${relative(root, outfile)}${bytes ? ` (${Math.round(bytes / 1024)} KiB)` : ''}\n`);
}

for (const cli of CLIS) {
  if (process.argv.includes('--clean')) {
    for (const path of Object.values(bundlePaths(cli))) rmSync(path, { force: true });
  } else {
    await bundle(cli);
  }
}
