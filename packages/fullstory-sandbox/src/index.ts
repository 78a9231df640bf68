/**
 * fullstory-sandbox: a local emulator of FullStory's Data Export v1, Segment Export and Server API v2, with
 * scripted faults, for tests, benchmarks and dry runs. See README.md.
 */
export { startSandbox } from './server.js';
export { generateEventJson, generateBundleEvents, EventGenerator, DEFAULT_WINDOW_START, type GenerateOptions } from './generator.js';
export { BundleStream } from './bundle-stream.js';
export { parseJsonLossless, stringifyJson } from './json.js';
export { mulberry32, type Random } from './prng.js';
export type {
  BundleMeta, DownloadEncoding, FaultAction, FaultRule, JobSummary, PublishSpec, RequestLogEntry, Sandbox, SandboxEvent, SandboxOptions,
  SandboxStats, SandboxUser,
} from './types.js';
export type { SegmentExportOptions, SegmentExportSummary } from './segment-export/types.js';
