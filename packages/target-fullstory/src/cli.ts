/**
 * The command line (target.md, "Command line"):
 *   <singer messages> | target-fullstory --config CONFIG [--dry-run]
 *   target-fullstory --about [--format json|markdown]
 *   target-fullstory --version | --help
 * Config comes from `--config` files (repeatable) and `TARGET_FULLSTORY_*` variables; the API key is
 * registered with the redactor before anything can print it.
 */

import {
  ExitCode,
  MessageWriter,
  ProgressReporter,
  aboutDocument,
  createCommand,
  noteTerminalInput,
  parseArgs,
  resolveLogLevel,
  type CommonOptions,
  type MainContext,
} from '@fullstory-singer/singer-core';
import { ServerApiClient, resolveHosts } from '@fullstory-singer/fullstory-client';
import { ENV_PREFIX, loadSettings, settingsSchema, type TargetSettings } from './config.js';
import { runTarget } from './target.js';
import { packageVersion } from './version.js';

/** Program name, the prefix of error lines. */
export const NAME = 'target-fullstory';
const DESCRIPTION = 'Singer target for FullStory: loads users, events and audiences through the Server API v2 batch imports.';

/** The process streams and environment the CLI uses (injected by tests). */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  /** Where progress goes (logs go through the runner's logger). */
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
}

interface TargetOptions extends CommonOptions {
  dryRun?: boolean;
}

/**
 * Run the CLI with `argv` (user arguments only). Returns the exit code; failures are thrown as
 * SingerErrors for `runMain` to report.
 */
export async function main(argv: string[], io: CliIo, ctx: MainContext): Promise<number> {
  const version = packageVersion();
  const command = createCommand({ name: NAME, description: DESCRIPTION, version, out: io.stdout }).option(
    '--dry-run',
    'map, validate and batch, but send nothing (and emit no state)',
  );
  const opts = parseArgs<TargetOptions>(command, argv);
  ctx.logger.level = resolveLogLevel(opts.logLevel, io.env);
  if (opts.about) {
    const doc = aboutDocument(
      { name: NAME, description: DESCRIPTION, version, capabilities: ['about', 'validate-records'], settingsSchema: settingsSchema(), envPrefix: ENV_PREFIX },
      opts.format,
    );
    const out = new MessageWriter(io.stdout);
    await out.writeLine(doc.replace(/\n$/, ''));
    await out.end();
    return ExitCode.OK;
  }
  const settings = await loadSettings({
    files: opts.config,
    env: io.env,
    redactor: ctx.redactor,
    logger: ctx.logger,
    overrides: opts.dryRun ? { dry_run: true } : {},
  });
  const output = new MessageWriter(io.stdout);
  noteTerminalInput(io.stdin, ctx.logger);
  try {
    await runTarget({
      settings,
      input: io.stdin,
      output,
      logger: ctx.logger,
      progress: new ProgressReporter({ logger: ctx.logger }),
      ...(settings.dryRun ? {} : { api: createApi(settings, version, ctx) }),
    });
  } finally {
    // States already written must reach the reader whatever happens next.
    await output.end().catch(() => {});
  }
  return ExitCode.OK;
}

function createApi(settings: TargetSettings, version: string, ctx: MainContext): ServerApiClient {
  const apiKey = settings.apiKey!;
  const baseUrl = resolveHosts({
    purpose: 'api',
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
  });
  return new ServerApiClient({
    apiKey,
    baseUrl,
    userAgent: settings.userAgent ?? `${NAME}/${version}`,
    timeoutMs: settings.requestTimeoutSeconds * 1000,
    maxRetries: settings.maxRetries,
    logger: ctx.logger,
  });
}
