/**
 * The command line:
 *   <singer messages> | target-fullstory --config CONFIG [--dry-run]
 *   target-fullstory --about [--format json|markdown]
 *   target-fullstory --version | --help
 * Config comes from `--config` files (repeatable) and `TARGET_FULLSTORY_*` variables, validated (and
 * defaulted) by the JSON Schema; the API key is registered with the redactor before anything can print
 * it. The first SIGINT or SIGTERM stops the run gracefully; a second one exits at once.
 */

import {
  ExitCode,
  MessageWriter,
  ProgressReporter,
  aboutDocument,
  createCommand,
  installStopSignals,
  noteTerminalInput,
  parseArgs,
  resolveLogLevel,
  type CommonOptions,
  type MainContext,
} from '@fullstory-singer/singer-core';
import { ENV_PREFIX, loadSettings, settingsSchema } from './config.js';
import { run } from './run.js';
import { connectFullStory } from './sinks/fullstory.js';
import { packageVersion } from './version.js';

/** Program name, the prefix of error lines. */
export const NAME = 'target-fullstory';
const DESCRIPTION = 'Singer target for FullStory: loads users, events and audiences through the Server API v2 batch imports.';

/** The process streams and environment the CLI uses. */
interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
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
    ...(opts.dryRun ? { overrides: { dry_run: true } } : {}),
  });
  const stop = installStopSignals({
    onFirst: (reason) =>
      ctx.logger.warn(`${reason.signal}: stopping: no more input is read, running jobs may finish (stop_timeout_seconds), then the last safe state is printed; a second signal exits at once`),
    onSecond: (signal) => ctx.logger.warn(`${signal} again: exiting at once`),
  });
  const output = new MessageWriter(io.stdout);
  noteTerminalInput(io.stdin, ctx.logger);
  try {
    await run({
      settings,
      input: io.stdin,
      output,
      logger: ctx.logger,
      redactor: ctx.redactor,
      stop: stop.signal,
      progress: new ProgressReporter({ logger: ctx.logger }),
      connect: (hooks) => connectFullStory(settings, { userAgent: `${NAME}/${version}`, logger: ctx.logger, onThrottle: hooks.onThrottle }),
    });
  } catch (err) {
    // States already written must reach the reader whatever happens next; the run's error is the one to report.
    await output.end().catch(() => {});
    throw err;
  }
  // A state the reader never got is a failure too (stdout closed: exit 141).
  await output.end();
  return ExitCode.OK;
}
