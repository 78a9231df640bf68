// How a CLI's CommonJS bundle is wrapped into one function before V8 compiles it, as Node wraps a
// CommonJS module (https://nodejs.org/api/modules.html#the-module-wrapper). The code cache made at
// build time is only accepted for exactly the source it was made from, so the build
// (scripts/bundle-clis.js), the loader it writes and the tests all take the wrapper from here.
// Both parts stay on the bundle's first and last lines, so line numbers in stack traces hold.
export const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
export const WRAPPER_TAIL = '\n});';

/** The source V8 compiles for a bundle's text. */
export function wrapBundle(source) {
  return `${WRAPPER_HEAD}${source}${WRAPPER_TAIL}`;
}
