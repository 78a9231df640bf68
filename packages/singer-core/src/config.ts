/**
 * Config loading for both CLIs: one or more `--config` files, then `<PREFIX>_<SETTING>`
 * environment variables, validated against the plugin's settings JSON Schema by ajv (a
 * validator compiled at build time, or ajv itself, loaded only then).
 *
 * Every failure is one ConfigError line that names where the value came from (file or variable),
 * the key and what was expected — never the value itself, which may be a secret.
 */
import type { ErrorObject } from 'ajv';
import { ConfigError } from './errors.js';
import { readTextFile } from './files.js';
import { locateJsonError, parseJson } from './json.js';
import type { Logger } from './logger.js';
import type { JsonSchema } from './messages.js';
import type { Redactor } from './redact.js';

/**
 * A validator compiled ahead of time from the settings schema (ajv's standalone code, see
 * scripts/generate-config-validators.js): it fills `default`s and reports every error, with its
 * parent schema, as ajv compiled with `allErrors`, `useDefaults` and `verbose` would.
 */
export interface ConfigValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** Options of {@link loadConfig}. */
interface LoadConfigOptions {
  /** `--config` files, in command-line order: later files override earlier keys. */
  files: string[];
  /** Usually `process.env`; `<envPrefix>_<KEY>` overrides the files. Empty values count as unset. */
  env: Record<string, string | undefined>;
  /** The program's variable prefix, e.g. `TAP_EXAMPLE` for `TAP_EXAMPLE_API_KEY`. */
  envPrefix: string;
  /** The settings JSON Schema (top-level `properties`; `additionalProperties: false` makes typos errors). */
  schema: JsonSchema;
  /**
   * `schema` compiled ahead of time, so a run loads neither ajv nor its compiler (0.1–0.2 s of
   * start-up). Without it, ajv is loaded and compiles `schema` here.
   */
  validate?: ConfigValidator;
  /** Keys whose values are registered with `redactor` (e.g. `api_key`). */
  secretKeys?: string[];
  redactor?: Redactor;
  /** Where a warning goes: a `<envPrefix>_*` variable that sets nothing. Default: nowhere. */
  logger?: Pick<Logger, 'warn'>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The environment variable that sets `key`: `TAP_EXAMPLE` + `api_key` → `TAP_EXAMPLE_API_KEY`. */
function envVarName(prefix: string, key: string): string {
  return `${prefix}_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Loads, merges and validates a plugin config.
 *
 * Later files override earlier ones key by key; `<PREFIX>_<KEY>` environment variables override
 * files. Environment strings are coerced by the schema's `type`: numbers, integers, booleans
 * (`true`/`false`), objects and arrays (as JSON). Schema `default`s are applied. A `<PREFIX>_*`
 * variable that matches no setting is not an error (a shell may export stale ones) but a warning on
 * `logger`, with the setting it probably meant; names with a double underscore after the prefix
 * (`<PREFIX>__SELECT`, `<PREFIX>__SANDBOX_BASE_URL`) are Meltano's extras and inherited plugin
 * names, and are left alone.
 *
 * @returns the config with snake_case keys, as in the files (see {@link camelCaseKeys}).
 * @throws ConfigError (exit 2): an unreadable file, a file that is not a JSON object, an env value
 *   that cannot be coerced, an unknown key, a missing required key, a value of the wrong type or
 *   format — one line naming the file or variable, the key and what was expected.
 */
export async function loadConfig<T = Record<string, unknown>>(options: LoadConfigOptions): Promise<T> {
  const { files, env, envPrefix, schema, secretKeys = [], redactor } = options;
  const merged: Record<string, unknown> = {};
  // Where each key's winning value came from, to name it in errors.
  const origins = new Map<string, string>();

  for (const file of files) {
    const read = await readTextFile(file);
    if ('reason' in read) throw new ConfigError(`config file ${file}: ${read.reason}`);
    let doc: unknown;
    try {
      doc = parseJson(read.text);
    } catch (err) {
      const { location, reason } = locateJsonError(err, read.text);
      throw new ConfigError(`config file ${file}${location ? `:${location}` : ''}: not valid JSON (${reason})`);
    }
    if (!isObject(doc)) throw new ConfigError(`config file ${file}: expected a JSON object of settings`);
    for (const [key, value] of Object.entries(doc)) {
      merged[key] = value;
      origins.set(key, `config file ${file}`);
    }
  }

  const properties = isObject(schema.properties) ? schema.properties : {};
  for (const [key, propSchema] of Object.entries(properties)) {
    const name = envVarName(envPrefix, key);
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    merged[key] = coerceEnvValue(raw, isObject(propSchema) ? propSchema : {}, name, key);
    origins.set(key, `environment variable ${name}`);
  }
  if (options.logger) warnUnknownVariables(env, envPrefix, Object.keys(properties), options.logger);

  // Register secrets before validating, so even an unexpected message could not carry them.
  for (const key of secretKeys) {
    const value = merged[key];
    if (typeof value === 'string') redactor?.register(value);
  }

  const validate = options.validate ?? (await import('./config-ajv.js')).validatorFor(schema);
  if (!validate(merged)) {
    const lines = describeErrors(validate.errors ?? [], origins, envPrefix, Object.keys(properties));
    throw new ConfigError(lines.join('; '));
  }
  return merged as T;
}

function warnUnknownVariables(
  env: Record<string, string | undefined>,
  envPrefix: string,
  keys: string[],
  logger: Pick<Logger, 'warn'>,
): void {
  const known = new Set(keys.map((key) => envVarName(envPrefix, key)));
  const start = `${envPrefix}_`;
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(start) || name.startsWith(`${start}_`) || known.has(name) || !env[name]) continue;
    // Compare what follows the prefix, so the prefix's length does not make any name look close.
    const guess = closest(name.slice(start.length).toLowerCase(), keys);
    const hint = guess ? ` (did you mean ${envVarName(envPrefix, guess)}?)` : '';
    logger.warn(`environment variable ${name} is not a setting; ignored${hint}`);
  }
}

/**
 * The one wording of a missing setting, for both CLIs: the schema's `required` and a check the
 * schema cannot express (`note` says when the setting is not needed).
 */
export function missingSettingError(key: string, envPrefix: string, note?: string): ConfigError {
  return new ConfigError(
    `missing required setting "${key}" (set it in a --config file or ${envVarName(envPrefix, key)}${note ? `; ${note}` : ''})`,
  );
}

function schemaTypes(propSchema: Record<string, unknown>): string[] {
  const t = propSchema.type;
  if (typeof t === 'string') return [t];
  if (Array.isArray(t)) return t.filter((x): x is string => typeof x === 'string');
  return [];
}

function coerceEnvValue(raw: string, propSchema: Record<string, unknown>, name: string, key: string): unknown {
  const types = schemaTypes(propSchema);
  const trimmed = raw.trim();
  if ((types.includes('integer') || types.includes('number')) && /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) {
    return Number(trimmed);
  }
  if (types.includes('boolean') && /^(true|false)$/i.test(trimmed)) return trimmed.toLowerCase() === 'true';
  if (types.includes('null') && trimmed === 'null') return null;
  if ((types.includes('object') || types.includes('array')) && !types.includes('string')) {
    try {
      return parseJson(trimmed);
    } catch {
      throw new ConfigError(`environment variable ${name}: "${key}" must be JSON (${types.join(' or ')})`);
    }
  }
  // Anything else stays text: a string setting is used as is, and for other types validation
  // reports "must be <type>" naming the variable.
  return raw;
}

const FORMAT_HINTS: Record<string, string> = {
  'date-time': 'an RFC 3339 date-time such as 2026-01-01T00:00:00Z',
  date: 'a date such as 2026-01-01',
  uri: 'an absolute URI such as https://example.com',
  email: 'an email address',
};

function describeErrors(errors: ErrorObject[], origins: Map<string, string>, envPrefix: string, known: string[]): string[] {
  const out: string[] = [];
  for (const err of errors) {
    const line = describeError(err, origins, envPrefix, known);
    if (!out.includes(line)) out.push(line);
  }
  return out.slice(0, 5);
}

function describeError(err: ErrorObject, origins: Map<string, string>, envPrefix: string, known: string[]): string {
  const path = err.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const topKey = path[0];
  const origin = topKey !== undefined ? origins.get(topKey) : undefined;
  const at = (key: string, text: string): string => `${origin ?? 'config'}: "${key}" ${text}`;
  const dotted = path.join('.');
  switch (err.keyword) {
    case 'additionalProperties': {
      const extra = String((err.params as { additionalProperty: string }).additionalProperty);
      const keyPath = [...path, extra].join('.');
      const where = origins.get(path.length === 0 ? extra : path[0]!) ?? 'config';
      // The keys allowed where the typo is: the top-level settings, or a nested object's properties
      // (`streams.users.maping` → `mapping`).
      const parent = isObject(err.parentSchema) ? err.parentSchema : {};
      const candidates = path.length === 0 ? known : isObject(parent.properties) ? Object.keys(parent.properties) : [];
      const guess = closest(extra, candidates);
      return `${where}: unknown key "${keyPath}"${guess ? ` (did you mean "${[...path, guess].join('.')}"?)` : ''}`;
    }
    case 'required': {
      const missingKey = String((err.params as { missingProperty: string }).missingProperty);
      if (path.length === 0) return missingSettingError(missingKey, envPrefix).message;
      return at(dotted, `needs "${missingKey}"`);
    }
    case 'type': {
      const expected = String((err.params as { type: string }).type).split(',').join(' or ');
      return at(dotted, `must be ${article(expected)}`);
    }
    case 'format': {
      const format = String((err.params as { format: string }).format);
      return at(dotted, `must be ${FORMAT_HINTS[format] ?? `in format "${format}"`}`);
    }
    case 'enum': {
      const allowed = (err.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
      return at(dotted, `must be one of ${allowed}`);
    }
    default:
      return at(dotted || '(root)', err.message ?? `fails "${err.keyword}"`);
  }
}

function article(typeText: string): string {
  return /^(integer|object|array)/.test(typeText) ? `an ${typeText}` : `a ${typeText}`;
}

/** The known key closest to a typo (edit distance ≤ 2, or ≤ a third of its length), if any. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

type CamelCase<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

/** The object type {@link camelCaseKeys} returns. */
type CamelCaseKeys<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

/** Shallow copy with snake_case keys turned into camelCase (`api_key` → `apiKey`). */
export function camelCaseKeys<T extends Record<string, unknown>>(obj: T): CamelCaseKeys<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    out[key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())] = value;
  }
  return out as CamelCaseKeys<T>;
}
