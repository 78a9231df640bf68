/**
 * The CLI frame a tap or target is built on: the shared flags (commander), the
 * `--about` document, and {@link runMain}, the top-level runner that turns any failure into one
 * redacted line on stderr and the documented exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, ExitCode, SingerError } from './errors.js';
import { createLogger, resolveLogLevel, type ConsoleLogger, type LogLevel } from './logger.js';
import type { JsonSchema } from './messages.js';
import { Redactor } from './redact.js';
import { isStdoutClosed, StdoutClosedError, StopRequested } from './stop.js';

/**
 * Thrown to stop the program early with an exit code and no error output (after `--help` or
 * `--version` printed what was asked). {@link runMain} exits with `exitCode` silently.
 */
export class ExitRequest extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'ExitRequest';
    this.exitCode = exitCode;
  }
}

/** What {@link runMain} passes to the program. */
export interface MainContext {
  /** Pass it to `ProgressReporter` too, so progress and log lines share the terminal. */
  logger: ConsoleLogger;
  redactor: Redactor;
}

/** Options of {@link runMain}. */
export interface RunMainOptions {
  /** Program name: the prefix of log lines and of the error line (`tap-example: error: ...`). */
  name: string;
  /** Initial log level; default from `LOG_LEVEL`, else info. The program may change `logger.level`. */
  logLevel?: LogLevel;
  /** Where logs and the error line go. Default `process.stderr`. */
  out?: NodeJS.WritableStream;
  /** Whether `out` is a terminal (live status line, no time prefix). Default: `out.isTTY`. */
  isTTY?: boolean;
  /** Milliseconds clock for the time prefix of log lines. Default `Date.now`. */
  clock?: () => number;
  /** Called once with the exit code. Default: flush stdout, then `process.exit(code)`. */
  exit?: (code: number) => void | Promise<void>;
  /** Environment for `LOG_LEVEL`. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** A redactor to share (a new one by default). */
  redactor?: Redactor;
}

/**
 * Runs a CLI program and exits. The program returns its exit code (or nothing for 0). Its logger
 * names the program on every line and, when stderr is not a terminal, the time (see logger.ts).
 * - stdout closed by its reader (EPIPE, {@link StdoutClosedError}): one line, exit 141.
 * - {@link StopRequested} (a graceful stop after SIGINT/SIGTERM): one line `<name>: <message>`,
 *   exit 130 or 143.
 * - {@link SingerError}: one line `<name>: error: <message>` on stderr, exit with its `exitCode`.
 * - {@link ExitRequest}: exit with its code, no output.
 * - anything else (a bug): `<name>: error: internal error: <message> (rerun with --log-level debug
 *   for details)`, exit 1; the stack is printed only at debug level.
 * Every line passes through the redactor, so a registered secret never reaches stderr.
 */
export async function runMain(main: (ctx: MainContext) => Promise<number | void>, options: RunMainOptions): Promise<void> {
  const out = options.out ?? process.stderr;
  const redactor = options.redactor ?? new Redactor();
  let level: LogLevel = 'info';
  let early: unknown;
  try {
    level = options.logLevel ?? resolveLogLevel(undefined, options.env ?? process.env);
  } catch (err) {
    early = err;
  }
  const logger = createLogger({
    level,
    out,
    redactor,
    program: options.name,
    timestamps: true,
    ...(options.isTTY !== undefined ? { isTTY: options.isTTY } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  let code: number;
  try {
    if (early !== undefined) throw early;
    const result = await main({ logger, redactor });
    code = typeof result === 'number' ? result : ExitCode.OK;
  } catch (err) {
    // The error line must not be drawn over, nor the shell prompt come after a live line.
    logger.clearStatus();
    code = reportError(err, options.name, logger);
  }
  logger.clearStatus();
  await (options.exit ?? exitProcess)(code);
}

/** Prints the one error line for `err` through `logger` (redacted) and returns the exit code. */
function reportError(err: unknown, name: string, logger: ConsoleLogger): number {
  if (err instanceof ExitRequest) return err.exitCode;
  const debug = logger.enabled('debug');
  const line = (text: string): void => logger.line(text);
  if (isStdoutClosed(err)) {
    // The process reading our stdout went away (`| head`, a target that died): not a bug of ours.
    line(`${name}: ${new StdoutClosedError().message}`);
    return ExitCode.STDOUT_CLOSED;
  }
  if (err instanceof StopRequested) {
    line(`${name}: ${oneLine(err.message)}`);
    return err.exitCode;
  }
  if (err instanceof SingerError) {
    line(`${name}: error: ${oneLine(err.message)}`);
    if (debug) {
      line(String(err.stack ?? ''));
      const cause = (err as { cause?: unknown }).cause;
      if (cause !== undefined) line(`caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
    }
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  line(`${name}: error: internal error: ${oneLine(message)}${debug ? '' : ' (rerun with --log-level debug for details)'}`);
  if (debug && err instanceof Error && err.stack) line(err.stack);
  return ExitCode.INTERNAL;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

async function exitProcess(code: number): Promise<void> {
  process.exitCode = code;
  // Let buffered stdout reach the reader before exiting (an empty write calls back once flushed);
  // a stdout that failed (EPIPE) would never call back.
  if (!process.stdout.destroyed && process.stdout.writable && !process.stdout.errored) {
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  }
  process.exit(code);
}

/** Options common to both CLIs, as parsed by {@link createCommand}'s command. */
export interface CommonOptions {
  config: string[];
  logLevel?: string;
  about?: boolean;
  format: 'json' | 'markdown';
}

/** Options of {@link createCommand}. */
interface CommandInfo {
  name: string;
  description: string;
  version: string;
  /** Where `--help` and `--version` print. Default `process.stdout`. */
  out?: NodeJS.WritableStream;
}

/**
 * A commander command with the shared flags: `-c, --config <file>` (repeatable, in order),
 * `--log-level <level>`, `--about`, `--format json|markdown` (default json), `--version`, `--help`.
 * Parse errors become {@link ConfigError} (exit 2; commander's own error output is silenced so the
 * runner prints one line); `--help`/`--version` become {@link ExitRequest}(0). Add CLI-specific
 * options to the returned command, then call {@link parseArgs}.
 */
export function createCommand(info: CommandInfo): Command {
  const out = info.out ?? process.stdout;
  const command = new Command(info.name)
    .description(info.description)
    .option('-c, --config <file>', 'config JSON file; repeatable, later files override earlier keys', collect, [] as string[])
    .option('--log-level <level>', 'debug, info, warn, error or silent (default: LOG_LEVEL, else info)')
    .option('--about', 'print the plugin description and settings, then exit')
    .addOption(new Option('--format <format>', 'format of --about').choices(['json', 'markdown']).default('json'))
    .version(info.version, '--version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help')
    .configureOutput({
      writeOut: (text) => {
        out.write(text);
      },
      writeErr: () => {},
      outputError: () => {},
    })
    .exitOverride((err: CommanderError) => {
      if (err.exitCode === 0) throw new ExitRequest(0);
      throw new ConfigError(err.message.replace(/^error:\s*/, ''), { cause: err });
    });
  return command;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Parses user arguments (default `process.argv.slice(2)`) with a command from
 * {@link createCommand} and returns its options.
 * @throws ConfigError for a usage error; ExitRequest(0) after `--help`/`--version`.
 */
export function parseArgs<T extends CommonOptions = CommonOptions>(command: Command, argv: string[] = process.argv.slice(2)): T {
  command.parse(argv, { from: 'user' });
  return command.opts<T>();
}

/** What `--about` describes. */
interface AboutInfo {
  name: string;
  description: string;
  version: string;
  /** e.g. `catalog`, `discover`, `state`, `about`. */
  capabilities: string[];
  /** The config JSON Schema. */
  settingsSchema: JsonSchema;
  /** When given, the markdown table names each setting's environment variable. */
  envPrefix?: string;
}

/**
 * The `--about` document. `json`: `name`, `description`, `version`, `capabilities`, `settings`
 * (the schema), as the Meltano SDK prints it. `markdown`: the same with a settings table.
 */
export function aboutDocument(info: AboutInfo, format: 'json' | 'markdown'): string {
  if (format === 'json') {
    const { name, description, version, capabilities, settingsSchema } = info;
    return JSON.stringify({ name, description, version, capabilities, settings: settingsSchema }, null, 2);
  }
  const props = (info.settingsSchema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set(Array.isArray(info.settingsSchema.required) ? (info.settingsSchema.required as string[]) : []);
  const lines = [
    `# \`${info.name}\``,
    '',
    info.description,
    '',
    `Version: ${info.version}`,
    '',
    '## Capabilities',
    '',
    ...info.capabilities.map((c) => `* \`${c}\``),
    '',
    '## Settings',
    '',
    info.envPrefix
      ? '| Setting | Type | Required | Default | Environment variable | Description |'
      : '| Setting | Type | Required | Default | Description |',
    info.envPrefix ? '|---|---|---|---|---|---|' : '|---|---|---|---|---|',
  ];
  for (const [key, prop] of Object.entries(props)) {
    const type = Array.isArray(prop.type) ? prop.type.join(' \\| ') : String(prop.type ?? '');
    const cells = [
      `\`${key}\``,
      type + (typeof prop.format === 'string' ? ` (${prop.format})` : ''),
      required.has(key) ? 'yes' : 'no',
      prop.default === undefined ? '' : `\`${JSON.stringify(prop.default)}\``,
      ...(info.envPrefix ? [`\`${info.envPrefix}_${key.toUpperCase()}\``] : []),
      String(prop.description ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' '),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
