// Where the benchmarks find the built bins and keep their scratch files.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const benchDir = join(root, 'bench');
/** Scratch space (gitignored): generated inputs, downloaded bundles, logs, --quick results. */
export const tmpDir = join(benchDir, 'tmp');
export const resultsDir = join(benchDir, 'results');

export const bins = {
  sandbox: join(root, 'packages', 'fullstory-sandbox', 'dist', 'src', 'bin.js'),
  tap: join(root, 'packages', 'tap-fullstory', 'dist', 'tap-fullstory.js'),
  target: join(root, 'packages', 'target-fullstory', 'dist', 'target-fullstory.js'),
};
