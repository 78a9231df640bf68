/**
 * Singer state: an opaque JSON object the runner hands back with `--state`. Per-stream bookmarks
 * live under `bookmarks.<tap_stream_id>` (https://github.com/singer-io/getting-started/blob/master/docs/CONFIG_AND_STATE.md).
 */
import { ConfigError, InputError } from './errors.js';
import { readTextFile } from './files.js';
import { locateJsonError, parseJson } from './json.js';

/** A state document. */
type State = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a `--state` file. An empty (or whitespace-only) file is an empty state `{}`, as some
 * runners create the file before the first run. Big integers stay exact.
 * @throws ConfigError (exit 2) naming the file when it cannot be read;
 *   InputError (exit 3) naming the file when it is not JSON or not a JSON object.
 */
export async function readStateFile(path: string): Promise<State> {
  const read = await readTextFile(path);
  if ('reason' in read) throw new ConfigError(`state file ${path}: ${read.reason}`);
  if (read.text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = parseJson(read.text);
  } catch (err) {
    const hint = read.text.trim().includes('\n') ? ' — if it holds several lines of target output, keep only the last one' : '';
    const { location, reason } = locateJsonError(err, read.text);
    throw new InputError(`state file ${path}${location ? `:${location}` : ''}: not valid JSON (${reason})${hint}`, { source: path });
  }
  if (!isObject(doc)) {
    throw new InputError(`state file ${path}: expected a JSON object, got ${doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc}`, {
      source: path,
    });
  }
  return doc;
}

/** The bookmark object of a stream (`state.bookmarks[stream]`), or undefined when absent or not an object. */
export function getBookmark(state: State, stream: string): Record<string, unknown> | undefined {
  const bookmarks = state.bookmarks;
  if (!isObject(bookmarks)) return undefined;
  const bookmark = bookmarks[stream];
  return isObject(bookmark) ? bookmark : undefined;
}

/** Returns a new state with `bookmarks[stream]` set to `value`; the input is not modified. */
export function setBookmark(state: State, stream: string, value: Record<string, unknown>): State {
  const bookmarks = isObject(state.bookmarks) ? state.bookmarks : {};
  return { ...state, bookmarks: { ...bookmarks, [stream]: value } };
}
