#!/usr/bin/env node
// tap-fullstory: see README.md. All logic lives in cli.ts; this wires it to the process.
import { installStopSignals, runMain } from '@fullstory-singer/singer-core';
import { tapMain } from './cli.js';

// The first SIGINT/SIGTERM stops the sync after the current record (its last STATE is printed,
// exit 130/143); a second one exits at once.
const stop = installStopSignals();

void runMain(
  (ctx) =>
    tapMain(ctx, {
      argv: process.argv.slice(2),
      env: process.env,
      stdout: process.stdout,
      signal: stop.signal,
    }),
  { name: 'tap-fullstory' },
);
