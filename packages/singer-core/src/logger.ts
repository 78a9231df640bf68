/**
 * The stderr logger: `LEVEL message key=value ...` lines in singer-python's `%(levelname)s
 * %(message)s` format, and `INFO METRIC: {...}` lines Singer tooling parses (SYNC_MODE.md
 * "Metric Messages"). Every line passes through the redactor.
 */
import { ConfigError } from './errors.js';
import { stringifyJson } from './json.js';
import type { Redactor } from './redact.js';

/** Log levels, lowest first. `silent` prints nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Levels a user may name (`--log-level`, `LOG_LEVEL`). */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
// Python's level names, so existing Singer log tooling reads our lines.
const LABEL: Record<Exclude<LogLevel, 'silent'>, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' };

/** Structured logger writing to stderr (or an injected stream). */
export interface Logger {
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
  /** Writes `INFO METRIC: {"type":...,"metric":...,"value":...,"tags":{...}}` (at info level). */
  metric(type: 'counter' | 'timer', metric: string, value: number, tags?: Record<string, unknown>): void;
  /**
   * True when a line at `level` would be written (skip costly formatting otherwise). Optional so
   * that hand-written test loggers need not implement it; {@link createLogger}'s always has it.
   */
  enabled?(level: Exclude<LogLevel, 'silent'>): boolean;
  /** Current level; may be changed after creation (e.g. once `--log-level` is parsed). */
  level: LogLevel;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Default `info`. */
  level?: LogLevel;
  /** Default `process.stderr`. */
  out?: NodeJS.WritableStream;
  redactor?: Redactor;
}

/** Creates a {@link Logger}. */
export function createLogger(options: LoggerOptions = {}): Logger & { enabled(level: Exclude<LogLevel, 'silent'>): boolean } {
  const out = options.out ?? process.stderr;
  const redactor = options.redactor;
  const emit = (line: string): void => {
    out.write(`${redactor ? redactor.redact(line) : line}\n`);
  };
  const logger: Logger & { enabled(level: Exclude<LogLevel, 'silent'>): boolean } = {
    level: options.level ?? 'info',
    enabled(level) {
      return RANK[level] >= RANK[logger.level];
    },
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    metric(type, metric, value, tags) {
      if (!logger.enabled('info')) return;
      emit(`INFO METRIC: ${stringifyJson({ type, metric, value, tags: tags ?? {} })}`);
    },
  };
  function log(level: Exclude<LogLevel, 'silent'>, msg: string, fields?: object): void {
    if (!logger.enabled(level)) return;
    emit(`${LABEL[level]} ${msg}${formatFields(fields)}`);
  }
  return logger;
}

/** ` key=value key2="with space"` for a fields object (undefined values are left out). */
export function formatFields(fields?: object): string {
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
