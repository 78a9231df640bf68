// Loads the JSON Schemas that live beside this file. Plain JavaScript on purpose: the schemas
// package has no build step, so src, dist and tests of every package resolve it the same way.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

/** Parsed JSON of a schema file, e.g. loadSchema('streams/events.json'). */
export function loadSchema(relativePath) {
  return JSON.parse(readFileSync(join(here, relativePath), 'utf8'));
}
