/**
 * The three file formats of a Segment Export, written as a stream of chunks pulled from a row
 * generator: only one chunk is ever held, whatever the file size.
 *
 * - `FORMAT_NDJSON`: one JSON object per line.
 * - `FORMAT_JSON`: one JSON array of the row objects, compact (no whitespace between rows).
 * - `FORMAT_CSV`: a header row, then one row per line (RFC 4180 quoting, CRLF). FullStory does not
 *   document its CSV layout; here arrays and objects are written as JSON text, absent values as
 *   empty cells, and custom variables appear only when named exactly in `fields`.
 */
import { Readable } from 'node:stream';
import { parseJsonLossless, stringifyJson } from '../json.js';

export type ExportFormat = 'FORMAT_JSON' | 'FORMAT_NDJSON' | 'FORMAT_CSV';

const CHUNK_BYTES = 256 * 1024;

interface Framing {
  open: string;
  between: string;
  after: string;
  close: string;
}

const FRAMINGS: Record<ExportFormat, Framing> = {
  FORMAT_NDJSON: { open: '', between: '', after: '\n', close: '' },
  FORMAT_JSON: { open: '[', between: ',', after: '', close: ']' },
  FORMAT_CSV: { open: '', between: '', after: '\r\n', close: '' },
};

/** A Readable of framed items: `open`, then each item (with `between` and `after`), then `close`. */
class RowStream extends Readable {
  private started = false;
  private done = false;
  /** Items written so far (the CSV header counts as one). */
  items = 0;

  constructor(
    private readonly source: Iterator<string>,
    private readonly framing: Framing,
  ) {
    super({ highWaterMark: CHUNK_BYTES });
  }

  override _read(): void {
    if (this.done) return;
    const f = this.framing;
    let chunk = '';
    if (!this.started) {
      this.started = true;
      chunk = f.open;
    }
    while (chunk.length < CHUNK_BYTES) {
      const next = this.source.next();
      if (next.done) {
        chunk += f.close;
        this.done = true;
        break;
      }
      chunk += (this.items++ > 0 ? f.between : '') + next.value + f.after;
    }
    this.push(Buffer.from(chunk, 'utf8'));
    if (this.done) this.push(null);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.source.return?.(undefined);
    callback(err);
  }
}

/** The file body of `rows` (JSON texts) in `format`; CSV uses `columns`. */
export function encodeRows(rows: Iterator<string>, format: ExportFormat, columns: readonly string[]): RowStream {
  const items = format === 'FORMAT_CSV' ? csvLines(rows, columns) : rows;
  return new RowStream(items, FRAMINGS[format]);
}

function* csvLines(rows: Iterator<string>, columns: readonly string[]): Generator<string> {
  yield columns.map(csvCell).join(',');
  for (let next = rows.next(); !next.done; next = rows.next()) {
    const row = parseJsonLossless(next.value) as Record<string, unknown>;
    yield columns.map((c) => csvCell(cellText(row[c]))).join(',');
  }
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return stringifyJson(value);
  return String(value);
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
