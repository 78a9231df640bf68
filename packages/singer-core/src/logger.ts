/**
 * The stderr logger: `LEVEL message key=value ...` lines in singer-python's `%(levelname)s
 * %(message)s` format, `METRIC: {...}` lines Singer tooling parses, and the live status line a
 * terminal shows. Every line passes through the redactor.
 *
 * One object owns the stream, so it alone decides what the terminal looks like:
 * - On a terminal, a live status line (progress) sits below the log lines: it is cleared before any
 *   other line is written and drawn again after it, so no line is ever glued to it. METRIC lines are
 *   logged at debug level there (a person reads this screen; `--log-level debug` shows them).
 * - Elsewhere (a pipe, a cron log, a runner), there is no live line; each line starts with the time
 *   and, when given, the program: `2026-12-01T09:00:00.000Z tap-example INFO message`, so the lines
 *   of a tap and a target sharing one log file can be told apart. METRIC lines stay at info level and
 *   keep `INFO METRIC: {...}` intact after that prefix, which is what runners search for (the Meltano
 *   SDK prefixes its own METRIC lines with a time and a logger name in the same way).
 */
import { ConfigError } from './errors.js';
import { stringifyJson } from './json.js';
import type { Redactor } from './redact.js';

/** Log levels, lowest first. `silent` prints nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Levels a user may name (`--log-level`, `LOG_LEVEL`). */
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
// Python's level names, so existing Singer log tooling reads our lines.
const LABEL: Record<Exclude<LogLevel, 'silent'>, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' };

const CLEAR_LINE = '\r\u001b[K';

/** Structured logger writing to stderr (or an injected stream). */
export interface Logger {
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
  /**
   * Writes `METRIC: {"type":...,"metric":...,"value":...,"tags":{...}}`: at info level
   * (`INFO METRIC: ...`, what runners parse), or at debug level on a terminal.
   */
  metric(type: 'counter' | 'timer', metric: string, value: number, tags?: Record<string, unknown>): void;
  /**
   * True when a line at `level` would be written (skip costly formatting otherwise). Optional so
   * that hand-written test loggers need not implement it; {@link createLogger}'s always has it.
   */
  enabled?(level: Exclude<LogLevel, 'silent'>): boolean;
  /**
   * Shows `text` as the live status line, replacing the previous one; on a terminal only (see
   * {@link ConsoleLogger.tty}). Optional for hand-written test loggers.
   */
  status?(text: string): void;
  /** Removes the live status line, if one is shown. */
  clearStatus?(): void;
  /** Current level; may be changed after creation (e.g. once `--log-level` is parsed). */
  level: LogLevel;
}

/** The logger {@link createLogger} makes: every optional member is there. */
export interface ConsoleLogger extends Logger {
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
  status(text: string): void;
  clearStatus(): void;
  /** Whether the output is a terminal (live status line, no time prefix). */
  readonly tty: boolean;
  /**
   * Writes `text` exactly, as a line of its own, with no time, program or level (the CLI frame's
   * `<program>: error: ...` line keeps the one form scripts match), below the status line if shown.
   */
  line(text: string): void;
}

/** Options of {@link createLogger}. */
interface LoggerOptions {
  /** Default `info`. */
  level?: LogLevel;
  /** Default `process.stderr`. */
  out?: NodeJS.WritableStream;
  redactor?: Redactor;
  /** Whether `out` is a terminal. Default: `out.isTTY`. */
  isTTY?: boolean;
  /** Program name written after the time, before the level (`tap-example INFO ...`). Default: none. */
  program?: string;
  /**
   * Start each line with its time (RFC 3339, UTC, milliseconds) when the output is not a terminal.
   * Default false, so a bare logger writes singer-python's exact format; the CLI frame turns it on.
   */
  timestamps?: boolean;
  /** Milliseconds clock for the time prefix. Default `Date.now`. */
  clock?: () => number;
}

/** Creates a {@link ConsoleLogger}. */
export function createLogger(options: LoggerOptions = {}): ConsoleLogger {
  const out = options.out ?? process.stderr;
  const redactor = options.redactor;
  const tty = options.isTTY ?? (out as { isTTY?: boolean }).isTTY === true;
  const clock = options.clock ?? Date.now;
  const timed = options.timestamps === true && !tty;
  const program = options.program === undefined ? '' : `${options.program} `;
  // On a terminal nobody parses METRIC lines, and a few thousand of them would bury the screen.
  const metricLevel: Exclude<LogLevel, 'silent'> = tty ? 'debug' : 'info';
  // The status line as last drawn ('' when none): program, text, redacted, cut to the terminal's width.
  let shown = '';

  const clean = (text: string): string => (redactor ? redactor.redact(text) : text);
  const prefix = (): string => (timed ? `${new Date(clock()).toISOString()} ` : '');
  /**
   * One write per line, so the erase, the line and the redraw cannot be split by another write. On
   * a terminal every line starts by erasing its row, even with no status line of our own: in
   * `tap | target` both programs share the terminal, and the other one's live line may be there.
   */
  const write = (lineText: string): void => {
    if (!tty) out.write(lineText);
    else out.write(`${CLEAR_LINE}${lineText}${shown === '' ? '' : `${shown}\u001b[K`}`);
  };
  const emit = (text: string): void => write(`${prefix()}${clean(text)}\n`);

  const logger: ConsoleLogger = {
    level: options.level ?? 'info',
    tty,
    enabled(level) {
      return RANK[level] >= RANK[logger.level];
    },
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    metric(type, metric, value, tags) {
      if (!logger.enabled(metricLevel)) return;
      emit(`${program}${LABEL[metricLevel]} METRIC: ${stringifyJson({ type, metric, value, tags: tags ?? {} })}`);
    },
    status(text) {
      if (!tty || !logger.enabled('info')) return;
      shown = fitWidth(clean(`${program}${oneLine(text)}`), (out as { columns?: number }).columns);
      out.write(`\r${shown}\u001b[K`);
    },
    clearStatus() {
      if (shown === '') return;
      shown = '';
      out.write(CLEAR_LINE);
    },
    line(text) {
      write(`${clean(text)}\n`);
    },
  };
  function log(level: Exclude<LogLevel, 'silent'>, msg: string, fields?: object): void {
    if (!logger.enabled(level)) return;
    emit(`${program}${LABEL[level]} ${msg}${formatFields(fields)}`);
  }
  return logger;
}

function oneLine(text: string): string {
  // A newline inside would break the live line.
  return text.replace(/[\r\n]+/g, ' ');
}

/**
 * Cuts the status line to one screen row: a line that wraps can no longer be erased with `\r`, and
 * its first row would stay on screen above the next one.
 */
function fitWidth(text: string, columns: number | undefined): string {
  if (columns === undefined || columns < 2 || text.length < columns) return text;
  return `${text.slice(0, columns - 2)}…`;
}

/** ` key=value key2="with space"` for a fields object (undefined values are left out). */
function formatFields(fields?: object): string {
  if (!fields) return '';
  let text = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    text += ` ${key}=${formatValue(value)}`;
  }
  return text;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null) return String(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return stringifyJson(value) ?? String(value);
  } catch {
    return JSON.stringify(String(value));
  }
}

/**
 * The log level to use: the `--log-level` flag beats the `LOG_LEVEL` environment variable; the
 * default is `info`. Case-insensitive; `warning` and `critical` are accepted as aliases.
 * @throws ConfigError naming the flag or variable when the value is not a level.
 */
export function resolveLogLevel(flag?: string, env: Record<string, string | undefined> = process.env): LogLevel {
  if (flag !== undefined) return parseLevel(flag, '--log-level');
  const fromEnv = env.LOG_LEVEL;
  if (fromEnv !== undefined && fromEnv !== '') return parseLevel(fromEnv, 'LOG_LEVEL');
  return 'info';
}

function parseLevel(text: string, origin: string): LogLevel {
  const lower = text.trim().toLowerCase();
  const level = lower === 'warning' ? 'warn' : lower === 'critical' || lower === 'fatal' ? 'error' : lower;
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new ConfigError(`${origin}: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text.slice(0, 20))}`);
}
