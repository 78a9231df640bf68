/**
 * fullstory-sandbox: a local emulator of FullStory's Data Export v1, Segment Export and Server API v2, with
 * scripted faults, for tests, benchmarks and dry runs. See README.md.
 */
export { startSandbox } from './server.js';
export { generateEventJson, generateBundleEvents } from './generator.js';
export { parseJsonLossless } from './json.js';
export { mulberry32 } from './prng.js';
export type { BundleMeta, FaultRule, Sandbox, SandboxOptions } from './types.js';
