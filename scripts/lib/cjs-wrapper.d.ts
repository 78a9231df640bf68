// Types of cjs-wrapper.js, for the tests that import it.
export declare const WRAPPER_HEAD: string;
export declare const WRAPPER_TAIL: string;
export declare function wrapBundle(source: string): string;
