/**
 * Lossless JSON. FullStory ids can exceed 2^53, which `JSON.parse` would silently round. These
 * helpers keep such integers exact as `bigint` and write them back as bare integer literals, so
 * `{"id":9007199254740993}` survives a read and a write byte for byte.
 */
import { parse as losslessParse, stringify as losslessStringify } from 'lossless-json';

/**
 * A run of 16 or more digits is the only way a JSON text can hold an integer beyond 2^53-1
 * (9007199254740991 has 16 digits). Without one, plain `JSON.parse` is exact and much faster.
 */
const DIGITS_16 = /\d{16}/;
const DIGIT_RUNS = /\d{16,}/g;
const MAX_SAFE_DIGITS = String(Number.MAX_SAFE_INTEGER);
const INTEGER_LITERAL = /^-?\d+$/;

/**
 * True when the text has a digit run that could be an unsafe integer: 17+ digits, or 16 digits
 * above 9007199254740991. FullStory's 16-digit ids below 2^53 (the common case) stay on the fast path.
 */
function mayHoldUnsafeInteger(text: string): boolean {
  if (!DIGITS_16.test(text)) return false;
  DIGIT_RUNS.lastIndex = 0;
  for (let m = DIGIT_RUNS.exec(text); m !== null; m = DIGIT_RUNS.exec(text)) {
    const run = m[0];
    if (run.length > 16 || run > MAX_SAFE_DIGITS) return true;
  }
  return false;
}

function parseNumber(literal: string): number | bigint {
  if (INTEGER_LITERAL.test(literal)) {
    const value = Number(literal);
    return Number.isSafeInteger(value) ? value : BigInt(literal);
  }
  // Non-integers keep JSON.parse semantics (a double); only integers are made lossless.
  return Number(literal);
}

/**
 * Parses JSON like `JSON.parse`, except that integers outside ±(2^53-1) become `bigint`.
 * Fast path: plain `JSON.parse` unless the text has a run of 16+ digits that may be such an integer.
 * On the lossless path an object repeating a key with a different value is rejected (rather than
 * silently keeping the last value, as `JSON.parse` does).
 * @throws SyntaxError when the text is not JSON (see {@link describeJsonError} for a printable reason).
 */
export function parseJson(text: string): unknown {
  if (!mayHoldUnsafeInteger(text)) return JSON.parse(text);
  try {
    return losslessParse(text, null, parseNumber);
  } catch (err) {
    // Prefer V8's message for invalid JSON, so both paths report errors alike.
    JSON.parse(text);
    throw new SyntaxError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Serialises like `JSON.stringify` (compact), writing `bigint` as a bare integer literal.
 */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    // JSON.stringify throws a TypeError on bigint; only then pay for the lossless writer.
    if (!(err instanceof TypeError) || !/BigInt/i.test(err.message)) throw err;
    return losslessStringify(value) as string;
  }
}

// V8's position suffix: ` in JSON at position 61`, and in newer versions ` (line 4 column 3)` after it.
const POSITION = / in JSON at position (\d+)(?: \(line \d+ column \d+\))?/;

/**
 * A short, safe reason for a JSON syntax error in one line of text: V8's message without the
 * snippet of input text it quotes (the input may hold a secret), e.g. `unexpected token '}' at column 12`.
 */
export function describeJsonError(err: unknown): string {
  return shortReason(messageOf(err).replace(POSITION, (_m, pos: string) => ` at column ${Number(pos) + 1}`));
}

/**
 * For a JSON document of several lines (a config, state or catalog file): where the syntax error
 * is, as `line:column` (1-based, the form editors and compilers print after a file name), and the
 * reason without a position. `location` is undefined when V8 gives no position to work from.
 */
export function locateJsonError(err: unknown, text: string): { location: string | undefined; reason: string } {
  const message = messageOf(err);
  const match = POSITION.exec(message);
  const position = match ? Number(match[1]) : /end of JSON input/i.test(message) ? text.length : undefined;
  const reason = shortReason(message.replace(POSITION, ''));
  if (position === undefined) return { location: undefined, reason };
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - (before.lastIndexOf('\n') + 1) + 1;
  return { location: `${line}:${column}`, reason };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function shortReason(message: string): string {
  let reason = message.replace(/, ".*" is not valid JSON$/s, '').replace(/^"[\s\S]*" is not valid JSON$/, 'invalid JSON');
  if (reason.length > 120) reason = `${reason.slice(0, 117)}...`;
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}
