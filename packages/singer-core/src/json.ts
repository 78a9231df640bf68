/**
 * Lossless JSON. FullStory ids can exceed 2^53, which `JSON.parse` would silently round. These
 * helpers keep such integers exact as `bigint` and write them back as bare integer literals, so
 * `{"id":9007199254740993}` survives a read and a write byte for byte.
 */
import { parse as losslessParse, stringify as losslessStringify } from 'lossless-json';

/**
 * A run of 16 or more digits is the only way a JSON text can hold an integer beyond 2^53
 * (9007199254740992 has 16 digits). Without one, plain `JSON.parse` is exact and much faster.
 */
const LONG_DIGIT_RUN = /\d{16}/;
const INTEGER_LITERAL = /^-?\d+$/;

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
 * Fast path: plain `JSON.parse` when the text has no run of 16+ digits.
 * @throws SyntaxError when the text is not JSON (see {@link describeJsonError} for a printable reason).
 */
export function parseJson(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  // Validate with the native parser first: it is fast and gives the familiar error messages; the
  // lossless parser then only runs on text known to be valid.
  JSON.parse(text);
  return losslessParse(text, null, parseNumber);
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

/**
 * A short, safe reason for a JSON syntax error: V8's message without the snippet of input text
 * it quotes (the input may hold a secret), e.g. `unexpected token '}' at column 12`.
 */
export function describeJsonError(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  let reason = raw
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/^"[\s\S]*" is not valid JSON$/, 'invalid JSON')
    .replace(/ in JSON at position (\d+)(?: \(line \d+ column \d+\))?/, (_m, pos: string) => ` at column ${Number(pos) + 1}`);
  if (reason.length > 120) reason = `${reason.slice(0, 117)}...`;
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}
