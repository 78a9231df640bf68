/**
 * One window's export, from the request to a body to read: create the export, poll its operation,
 * get the results' location, download it (https://help.fullstory.com/hc/en-us/articles/360057606414).
 * Each call of {@link WindowExport.open} gives a fresh body of the same file, so the caller can
 * read it again after a broken or corrupt download.
 *
 * What goes wrong, and what happens (https://developer.fullstory.com/server/v1/operations/get-operation,
 * .../search/get-search-export-results):
 * - `FAILED`, or still `PENDING` after the export timeout: the window is exported again, at most
 *   {@link MAX_EXPORTS_PER_WINDOW} times in all, then `UnavailableError` (exit 5) with the last
 *   `errorDetails`.
 * - The storage host refuses the location (expired, or the signature no longer valid): a fresh one
 *   from `/results`, at most {@link MAX_LOCATIONS_PER_EXPORT} times per export, then the window is
 *   exported again.
 * - The operation or search export is gone (404): exported again.
 * - An operation saved in the state by an earlier run is polled first, so a resumed run downloads
 *   the same file (same rows, same order) instead of waiting for a new export.
 * 429s wait `Retry-After` and 5xx retry inside the client. Only one export is ever in flight.
 */
import type { Readable } from 'node:stream';
import { UnavailableError } from '@fullstory-singer/singer-core';
import type { Logger } from '@fullstory-singer/singer-core';
import { ExportNotFoundError, LocationRefusedError } from '@fullstory-singer/fullstory-client';
import type { CreateExportRequest, ExportOperation } from '@fullstory-singer/fullstory-client';
import { untilStopped } from '../body-records.js';
import { abortableSleep } from '../pacer.js';

/** Exports made for one window before giving up. */
export const MAX_EXPORTS_PER_WINDOW = 3;
/** Locations fetched for one export before exporting the window again. */
const MAX_LOCATIONS_PER_EXPORT = 3;

/** The part of fullstory-client's SegmentExportClient the tap uses. */
export interface SegmentExportApi {
  createExport(request: CreateExportRequest): Promise<string>;
  getOperation(operationId: string): Promise<ExportOperation>;
  getLocation(searchExportId: string): Promise<string>;
  download(location: string): Promise<Readable>;
}

/** What {@link WindowExport} needs besides the request. */
interface WindowExportOptions {
  client: SegmentExportApi;
  logger: Logger;
  /** Names the window in messages, e.g. `events window 2024-01-01T00:00:00Z..2024-01-01T01:00:00Z`. */
  label: string;
  pollIntervalMs: number;
  /** An operation still PENDING this long after its creation is given up and the window exported again. */
  timeoutMs: number;
  /** An operation of an earlier run for this window, from the state. */
  savedOperationId?: string;
  /** Called with each new operation id, so the state can name it; awaited before polling. */
  onOperation?: (operationId: string) => void | Promise<void>;
  /** Called while polling. */
  onProgress?: (text: string) => void;
  now?: () => number;
  /** Aborted to stop: every call and wait ends at once, with the signal's reason. */
  signal?: AbortSignal;
  /** Waits between polls (default: a timer that `signal` cancels). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

type PollOutcome = { done: true; searchExportId: string } | { done: false; why: string };

export class WindowExport {
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private savedOperationId: string | undefined;
  private searchExportId: string | undefined;
  private exportsMade = 0;
  private locationsRefused = 0;
  /** Why the last export could not be used, for the final error. */
  private lastProblem = '';

  constructor(
    private readonly request: CreateExportRequest,
    private readonly options: WindowExportOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
    this.savedOperationId = options.savedOperationId;
  }

  /**
   * A body of the window's file: the raw bytes from a fresh location (gzip; the caller decodes).
   * @throws UnavailableError once the window could not be exported; the client's errors otherwise
   */
  async open(): Promise<Readable> {
    for (;;) {
      this.searchExportId ??= await this.prepare();
      try {
        const location = await this.call(this.options.client.getLocation(this.searchExportId));
        return await this.call(this.options.client.download(location));
      } catch (err) {
        if (err instanceof ExportNotFoundError) {
          this.options.logger.warn(`${this.options.label}: FullStory no longer has the export; exporting the window again`);
          this.lastProblem = 'was gone from FullStory (404) before it could be downloaded';
          this.searchExportId = undefined;
        } else if (err instanceof LocationRefusedError) {
          this.locationsRefused++;
          if (this.locationsRefused >= MAX_LOCATIONS_PER_EXPORT) {
            this.lastProblem = `had its download location refused ${this.locationsRefused} times (status ${err.status})`;
            this.options.logger.warn(`${this.options.label}: ${this.locationsRefused} download locations refused; exporting the window again`, { status: err.status });
            this.searchExportId = undefined;
            this.locationsRefused = 0;
          } else {
            this.options.logger.warn(`${this.options.label}: the download location was refused (expired?); asking for a fresh one`, { status: err.status });
          }
        } else {
          throw err;
        }
      }
    }
  }

  /** The search export to download: the saved operation's if it completed, else a new export's. */
  private async prepare(): Promise<string> {
    const saved = this.savedOperationId;
    if (saved !== undefined) {
      this.savedOperationId = undefined;
      const outcome = await this.poll(saved, 'saved in the state').catch((err: unknown) => {
        if (err instanceof ExportNotFoundError) return { done: false as const, why: 'FullStory no longer knows it' };
        throw err;
      });
      if (outcome.done) return outcome.searchExportId;
      this.options.logger.info(`${this.options.label}: the export of an earlier run cannot be used (${outcome.why}); exporting again`);
    }
    while (this.exportsMade < MAX_EXPORTS_PER_WINDOW) {
      this.exportsMade++;
      const operationId = await this.call(this.options.client.createExport(this.request));
      this.options.logger.info(`${this.options.label}: export created`, { operation_id: operationId, attempt: this.exportsMade });
      await this.options.onOperation?.(operationId);
      const outcome = await this.poll(operationId, `attempt ${this.exportsMade}`);
      if (outcome.done) return outcome.searchExportId;
      this.lastProblem = outcome.why;
      this.options.logger.warn(`${this.options.label}: export ${outcome.why}`, { operation_id: operationId, attempt: this.exportsMade });
    }
    throw new UnavailableError(`${this.options.label}: gave up after ${MAX_EXPORTS_PER_WINDOW} exports of the window; the last one ${this.lastProblem}`);
  }

  /** Polls an operation until it completes, fails or times out. */
  private async poll(operationId: string, what: string): Promise<PollOutcome> {
    const started = this.now();
    for (;;) {
      const op = await this.call(this.options.client.getOperation(operationId));
      const waited = Math.round((this.now() - started) / 1000);
      if (op.state === 'COMPLETED') {
        this.options.logger.info(`${this.options.label}: export ready`, { operation_id: operationId, waited_s: waited });
        return { done: true, searchExportId: op.searchExportId };
      }
      if (op.state === 'FAILED') return { done: false, why: `failed: ${op.errorDetails}` };
      if (this.now() - started >= this.options.timeoutMs) {
        return { done: false, why: `was still PENDING after ${Math.round(this.options.timeoutMs / 1000)} s (export_timeout_seconds)` };
      }
      const pct = op.estimatePctComplete === undefined ? '' : ` ${op.estimatePctComplete}%`;
      this.options.onProgress?.(`${this.options.label}: export pending${pct} (${what}, ${waited} s)`);
      await this.sleep(this.options.pollIntervalMs, this.options.signal);
    }
  }

  /** A client call, given up at once when the signal aborts. */
  private call<T>(promise: Promise<T>): Promise<T> {
    return untilStopped(promise, this.options.signal);
  }
}
