/**
 * target-fullstory: a Singer target loading users, events and audiences into FullStory through the
 * Server API v2 batch imports. The CLI is `bin.ts`; this entry point is for embedding a run.
 */
export { run, type RunDeps } from './run.js';
export { loadSettings, type TargetSettings, type StreamSettings } from './config.js';
export { fullStoryApi, connectFullStory } from './sinks/fullstory.js';
export type { BatchApi } from './sinks/batch-api.js';
export type { RunSummary } from './summary.js';
