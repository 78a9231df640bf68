#!/usr/bin/env node
// The `tap-fullstory` command. npm links a package's bins when it installs it, which in a checkout is
// before `npm run build` has made dist/: so the bin is this committed file, and it runs the build
// (dist/tap-fullstory.js, the CLI bundled into one file by scripts/bundle-clis.js).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/tap-fullstory.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('tap-fullstory: error: not built yet: run `npm run build` in the repository first\n');
  process.exit(2);
}
await import(entry.href);
