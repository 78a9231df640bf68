/**
 * The JSON grammar as a table-driven automaton (one class lookup and one transition per byte, as
 * in Douglas Crockford's JSON_checker, https://www.json.org/JSON_checker/): the character
 * classes, the states, the actions and the transition table. Both scanners run it: the JavaScript
 * loop of array-splitter.ts and the WebAssembly one (simd-scan.wat, whose constants
 * scripts/generate-simd-scan.js fills in from this module), so the two cannot disagree on what
 * is JSON.
 */

/** Bits of the `flags` an element handler (array-splitter.ts) receives. */
export const ElementFlags = {
  /** A CR or LF occurs between the element's tokens (a pretty-printed body): it cannot go on one line as it is. */
  NEWLINE: 1,
  /**
   * A top-level key starts with `_` or an escape, so it may be one of the key fields the tap adds
   * (`_sdc_bundle_id`, `_sdc_bundle_index`): the writer must look at the keys.
   */
  RESERVED_KEY: 2,
  /** A string holds bytes that are not UTF-8. */
  BAD_UTF8: 4,
} as const;

// Character classes of the automaton. (Plain constants, not a `const enum`: with isolatedModules
// an enum member is a property load, which the hot loop cannot afford.)
export const C_SPACE = 0;
export const C_NL = 1;
export const C_LCURB = 2;
export const C_RCURB = 3;
export const C_LSQRB = 4;
export const C_RSQRB = 5;
export const C_COLON = 6;
export const C_COMMA = 7;
export const C_QUOTE = 8;
export const C_BACKS = 9;
export const C_SLASH = 10;
export const C_PLUS = 11;
export const C_MINUS = 12;
export const C_POINT = 13;
export const C_ZERO = 14;
export const C_DIGIT = 15;
export const C_LOW_A = 16;
export const C_LOW_B = 17;
export const C_LOW_C = 18;
export const C_LOW_D = 19;
export const C_LOW_E = 20;
export const C_LOW_F = 21;
export const C_LOW_L = 22;
export const C_LOW_N = 23;
export const C_LOW_R = 24;
export const C_LOW_S = 25;
export const C_LOW_T = 26;
export const C_LOW_U = 27;
export const C_ABCDF = 28;
export const C_UP_E = 29;
export const C_ETC = 30;
export const C_CTRL = 31;
export const C_HIGH = 32;
export const NC = 33;

// States, each stored as its row's offset in TABLE (state number × NC) so a transition is one
// add and one load. OK: after a value inside a container; OB: after `{`; KE: after `,` in an
// object; CO: after a key; VA: after `:` or `,` in an array; AR: after `[`; ST: in a string (the
// tight loop); ES: after `\`; U1-U4: the hex digits of `\u`; MI, ZE, IN, FR, FS, E1, E2, E3: a
// number (after `-`, `0`, other integer digits, `.`, fraction digits, `e`, the exponent's sign,
// exponent digits); T1-T3, F1-F4, N1-N3: inside `true`, `false`, `null`. The number states come
// after the structural ones and the literal states last: the code below relies on that order.
export const OK = 0 * NC;
export const OB = 1 * NC;
export const KE = 2 * NC;
export const CO = 3 * NC;
export const VA = 4 * NC;
export const AR = 5 * NC;
export const ST = 6 * NC;
export const ES = 7 * NC;
export const U1 = 8 * NC;
export const U2 = 9 * NC;
export const U3 = 10 * NC;
export const U4 = 11 * NC;
export const MI = 12 * NC;
export const ZE = 13 * NC;
export const IN = 14 * NC;
export const FR = 15 * NC;
export const FS = 16 * NC;
export const E1 = 17 * NC;
export const E2 = 18 * NC;
export const E3 = 19 * NC;
export const T1 = 20 * NC;
export const T2 = 21 * NC;
export const T3 = 22 * NC;
export const F1 = 23 * NC;
export const F2 = 24 * NC;
export const F3 = 25 * NC;
export const F4 = 26 * NC;
export const N1 = 27 * NC;
export const N2 = 28 * NC;
export const N3 = 29 * NC;
export const NS = 30;

// Actions: negative entries of the transition table.
export const ERR = -1;
export const OBJ_OPEN = -2;
export const OBJ_CLOSE = -3;
export const ARR_OPEN = -4;
export const ARR_CLOSE = -5;
export const COMMA_NEXT = -6;
export const KEY_START = -7;
export const STR_START = -8;
export const NEWLINE = -9;

export const OBJ = 1;
export const ARR = 2;

export const CLASS = new Uint8Array(256);
export const TABLE = new Int16Array(NS * NC).fill(ERR);

{
  for (let b = 0; b < 256; b++) CLASS[b] = b < 0x20 ? C_CTRL : b >= 0x80 ? C_HIGH : C_ETC;
  const set = (chars: string, c: number): void => {
    for (const ch of chars) CLASS[ch.charCodeAt(0)] = c;
  };
  set(' \t', C_SPACE);
  set('\n\r', C_NL);
  set('{', C_LCURB);
  set('}', C_RCURB);
  set('[', C_LSQRB);
  set(']', C_RSQRB);
  set(':', C_COLON);
  set(',', C_COMMA);
  set('"', C_QUOTE);
  set('\\', C_BACKS);
  set('/', C_SLASH);
  set('+', C_PLUS);
  set('-', C_MINUS);
  set('.', C_POINT);
  set('0', C_ZERO);
  set('123456789', C_DIGIT);
  set('a', C_LOW_A);
  set('b', C_LOW_B);
  set('c', C_LOW_C);
  set('d', C_LOW_D);
  set('e', C_LOW_E);
  set('f', C_LOW_F);
  set('l', C_LOW_L);
  set('n', C_LOW_N);
  set('r', C_LOW_R);
  set('s', C_LOW_S);
  set('t', C_LOW_T);
  set('u', C_LOW_U);
  set('ABCDF', C_ABCDF);
  set('E', C_UP_E);

  const on = (state: number, classes: number[], next: number): void => {
    for (const c of classes) TABLE[state + c] = next;
  };
  const WHITE = [C_SPACE];
  const VALUE_STARTS = (state: number): void => {
    on(state, [C_LCURB], OBJ_OPEN);
    on(state, [C_LSQRB], ARR_OPEN);
    on(state, [C_QUOTE], STR_START);
    on(state, [C_MINUS], MI);
    on(state, [C_ZERO], ZE);
    on(state, [C_DIGIT], IN);
    on(state, [C_LOW_T], T1);
    on(state, [C_LOW_F], F1);
    on(state, [C_LOW_N], N1);
  };
  /** What may follow a complete value: whitespace, `,`, or the container's end. */
  const VALUE_ENDS = (state: number): void => {
    on(state, WHITE, OK);
    on(state, [C_NL], NEWLINE);
    on(state, [C_COMMA], COMMA_NEXT);
    on(state, [C_RCURB], OBJ_CLOSE);
    on(state, [C_RSQRB], ARR_CLOSE);
  };
  VALUE_ENDS(OK);
  for (const s of [OB, KE, CO, VA, AR]) {
    on(s, WHITE, s);
    on(s, [C_NL], NEWLINE);
  }
  on(OB, [C_QUOTE], KEY_START);
  on(OB, [C_RCURB], OBJ_CLOSE);
  on(KE, [C_QUOTE], KEY_START);
  on(CO, [C_COLON], VA);
  VALUE_STARTS(VA);
  VALUE_STARTS(AR);
  on(AR, [C_RSQRB], ARR_CLOSE);
  on(ES, [C_QUOTE, C_BACKS, C_SLASH, C_LOW_B, C_LOW_F, C_LOW_N, C_LOW_R, C_LOW_T], ST);
  on(ES, [C_LOW_U], U1);
  const HEX = [C_ZERO, C_DIGIT, C_LOW_A, C_LOW_B, C_LOW_C, C_LOW_D, C_LOW_E, C_LOW_F, C_ABCDF, C_UP_E];
  on(U1, HEX, U2);
  on(U2, HEX, U3);
  on(U3, HEX, U4);
  on(U4, HEX, ST);
  on(MI, [C_ZERO], ZE);
  on(MI, [C_DIGIT], IN);
  VALUE_ENDS(ZE);
  on(ZE, [C_POINT], FR);
  on(ZE, [C_LOW_E, C_UP_E], E1);
  VALUE_ENDS(IN);
  on(IN, [C_ZERO, C_DIGIT], IN);
  on(IN, [C_POINT], FR);
  on(IN, [C_LOW_E, C_UP_E], E1);
  on(FR, [C_ZERO, C_DIGIT], FS);
  VALUE_ENDS(FS);
  on(FS, [C_ZERO, C_DIGIT], FS);
  on(FS, [C_LOW_E, C_UP_E], E1);
  on(E1, [C_PLUS, C_MINUS], E2);
  on(E1, [C_ZERO, C_DIGIT], E3);
  on(E2, [C_ZERO, C_DIGIT], E3);
  VALUE_ENDS(E3);
  on(E3, [C_ZERO, C_DIGIT], E3);
  on(T1, [C_LOW_R], T2);
  on(T2, [C_LOW_U], T3);
  on(T3, [C_LOW_E], OK);
  on(F1, [C_LOW_A], F2);
  on(F2, [C_LOW_L], F3);
  on(F3, [C_LOW_S], F4);
  on(F4, [C_LOW_E], OK);
  on(N1, [C_LOW_U], N2);
  on(N2, [C_LOW_L], N3);
  on(N3, [C_LOW_L], OK);
}
