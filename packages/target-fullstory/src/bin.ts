#!/usr/bin/env node
/** target-fullstory: Singer messages on stdin → FullStory; safe states on stdout. See README.md. */
import { runMain } from '@fullstory-singer/singer-core';
import { NAME, main } from './cli.js';

void runMain((ctx) => main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, env: process.env }, ctx), {
  name: NAME,
});
