/**
 * The WebAssembly scanner (simd-scan.wat): the grammar's automaton with the bytes inside strings
 * read 16 at a time. ArraySplitter copies each chunk into its memory and lets it run an element
 * until the element closes, the chunk ends, or a byte needs the JavaScript loop (which then words
 * the error, or carries the element across the chunk boundary); see simd-scan.wat for the cases.
 *
 * Why: the validating scan was the tap's largest cost on a bundle (about 40% of its main thread).
 * Strings are most of an event's bytes, and JavaScript can look at only one (or, with bit tricks,
 * four) of them per step.
 */
import { CLASS, TABLE } from './json-grammar.js';
import { SIMD_SCAN_WASM_BASE64 } from './generated/simd-scan-wasm.js';

/** The registers' places (i32 indexes; scripts/generate-simd-scan.js lays the memory out from these). */
export const Reg = { STATE: 0, DEPTH: 1, IS_KEY: 2, FLAGS: 3, NON_ASCII: 4, LINES: 5, STATUS: 6 } as const;

/** The status register after a scan (the template's constants of these names). */
export const ScanStatus = { DONE: 0, CHUNK_END: 1, HAND_BACK: 2 } as const;

/** The little of the WebAssembly JavaScript API used here (TypeScript declares it only with the DOM library). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
};

/** An exported immutable global. */
interface Constant {
  value: number;
}

interface ScanExports {
  memory: { buffer: ArrayBuffer };
  scan(pos: number, end: number): number;
  regsOffset: Constant;
  classOffset: Constant;
  tableOffset: Constant;
  stackOffset: Constant;
  stackCapacity: Constant;
  chunkOffset: Constant;
  chunkCapacity: Constant;
}

/**
 * The scanner all splitters share (one compiled module, one instance, one memory of about
 * 1.1 MiB, made on first use). Sharing is safe because a scan is synchronous: a splitter copies its
 * registers and open containers in before each {@link SimdScanner.scan} and out after it, and
 * {@link SimdScanner.load} hands out a ticket, so a splitter notices when another one loaded a
 * chunk in between (from inside an element handler) and loads its own again.
 *
 * Undefined where this Node has no WebAssembly at all (`node --jitless`): the splitters then run
 * the JavaScript loop alone, slower but the same.
 */
export function sharedScanner(): SimdScanner | undefined {
  shared ??= typeof WebAssembly === 'undefined' ? null : new SimdScanner();
  return shared ?? undefined;
}

let shared: SimdScanner | null | undefined;

/** One instance of the module: its registers, its stack of open containers, and the chunk it scans. */
export class SimdScanner {
  /** The automaton's state in and out of {@link scan}, indexed by {@link Reg}. */
  readonly regs: Int32Array;
  /** The open containers (OBJ or ARR per depth) during a scan. */
  readonly stack: Uint8Array;
  /** The largest chunk {@link load} takes. */
  readonly chunkCapacity: number;
  /** Which {@link load} the memory holds. */
  ticket = 0;
  private readonly chunk: Uint8Array;
  /** scan(pos, end): see simd-scan.wat. */
  readonly scan: (pos: number, end: number) => number;

  constructor() {
    const module = new WebAssembly.Module(Buffer.from(SIMD_SCAN_WASM_BASE64, 'base64'));
    const exports = new WebAssembly.Instance(module).exports as unknown as ScanExports;
    const buffer = exports.memory.buffer;
    const at = (constant: Constant): number => constant.value;
    this.regs = new Int32Array(buffer, at(exports.regsOffset), Object.keys(Reg).length);
    this.stack = new Uint8Array(buffer, at(exports.stackOffset), at(exports.stackCapacity));
    this.chunkCapacity = at(exports.chunkCapacity);
    this.chunk = new Uint8Array(buffer, at(exports.chunkOffset), this.chunkCapacity);
    new Uint8Array(buffer, at(exports.classOffset), CLASS.length).set(CLASS);
    new Int16Array(buffer, at(exports.tableOffset), TABLE.length).set(TABLE);
    this.scan = exports.scan;
  }

  /** Copies `chunk` (at most {@link chunkCapacity} bytes) in, for the next scans; returns its ticket. */
  load(chunk: Uint8Array): number {
    this.chunk.set(chunk);
    return ++this.ticket;
  }
}
