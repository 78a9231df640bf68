/**
 * Sandbox set-up shared by the reliability scenarios: a sandbox that accepts only the secret key,
 * config files for the bins (without the key: it goes by environment variable), and readers of what
 * landed.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from 'fullstory-sandbox';
import { SECRET, SEED } from './helpers.js';

/** Starts a sandbox on 127.0.0.1, port 0, accepting only {@link SECRET}, seeded by the suite seed. */
export function startSecretSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ host: '127.0.0.1', port: 0, apiKeys: [SECRET], seed: SEED, downloadsPerMinute: 0, ...options });
}

/** Environment for the tap: the key and the sandbox URL (env beats files, as a runner would do it). */
export function tapEnv(sandbox: Sandbox | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TAP_FULLSTORY_API_KEY: SECRET,
    ...(sandbox ? { TAP_FULLSTORY_BASE_URL: sandbox.url } : {}),
    ...extra,
  };
}

/** Environment for the target: the key and the sandbox URL. */
export function targetEnv(sandbox: Sandbox | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TARGET_FULLSTORY_API_KEY: SECRET,
    ...(sandbox ? { TARGET_FULLSTORY_BASE_URL: sandbox.url } : {}),
    ...extra,
  };
}

/**
 * The target's `streams` setting for the tap's `events` stream: FullStory events by IndvId, with the
 * tap's key fields kept as properties, so each stored event names the export event it came from.
 */
export const EXPORTED_EVENTS_STREAMS = {
  events: {
    data_type: 'events',
    mapping: { uid: 'IndvId', event_name: 'EventType', timestamp: 'EventStart' },
    properties: { include: ['_sdc_bundle_id', '_sdc_bundle_index'] },
  },
};

/** Writes `config` as JSON to `<dir>/<name>` and returns the path. */
export async function writeConfig(dir: string, name: string, config: Record<string, unknown>): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

/**
 * Tap settings for fast tests: many small checkpoints, no download pacing to speak of, short
 * timeouts so a stalled response costs about a second.
 */
export function fastTapConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    start_date: '2023-12-31T00:00:00Z',
    downloads_per_minute: 100000,
    state_every_records: 50,
    max_retries: 6,
    request_timeout_seconds: 2,
    ...overrides,
  };
}

/** Target settings for fast tests: small batches, quick polls, short timeouts. */
export function fastTargetConfig(deadLetterPath: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    data_type: 'users',
    batch_size: 10,
    max_batch_age_seconds: 1,
    max_jobs_in_flight: 4,
    job_poll_interval_seconds: 0.05,
    job_timeout_seconds: 60,
    max_retries: 6,
    request_timeout_seconds: 2,
    dead_letter_path: deadLetterPath,
    ...overrides,
  };
}

/** Users in the sandbox by uid. */
export function usersByUid(sandbox: Sandbox): Map<string, ReturnType<Sandbox['users']>[number]> {
  const map = new Map<string, ReturnType<Sandbox['users']>[number]>();
  for (const u of sandbox.users()) if (u.uid !== undefined) map.set(u.uid, u);
  return map;
}
