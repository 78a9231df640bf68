#!/usr/bin/env node
// tap-fullstory: see README.md and spec/tap.md. All logic lives in cli.ts; this wires it to the process.
import { runMain } from '@fullstory-singer/singer-core';
import { tapMain } from './cli.js';

await runMain(
  (ctx) =>
    tapMain(ctx, {
      argv: process.argv.slice(2),
      env: process.env,
      stdout: process.stdout,
      stderr: process.stderr,
    }),
  { name: 'tap-fullstory' },
);
