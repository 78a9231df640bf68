/** Public types of the sandbox's Segment Export emulation (re-exported by the package). */

/** Options of the Segment Export emulation (`SandboxOptions.segmentExport`). Every field is optional. */
export interface SegmentExportOptions {
  /** How long a new export's operation stays `PENDING`, ms (at least until its file is written). Default 1000. */
  pendingMs?: number;
  /** How long a results `location` can be downloaded, ms. Default 300000 (FullStory's are reported to last about 5 minutes). */
  locationTtlMs?: number;
  /** How long a completed search export can be asked for results, ms. Default 7 days (`results.expires` in FullStory's example). */
  searchExportTtlMs?: number;
  /** Segment ids that exist besides `everyone`; every segment matches every user. Default none. */
  segments?: string[];
}

/** One export as `GET /__sandbox/segment-exports` lists it. */
export interface SegmentExportSummary {
  operationId: string;
  /** Set once the operation completed. */
  searchExportId?: string;
  segmentId: string;
  type: 'TYPE_EVENT' | 'TYPE_INDIVIDUAL';
  format: 'FORMAT_JSON' | 'FORMAT_NDJSON' | 'FORMAT_CSV';
  /** As sent, RFC 3339 or `""`. */
  timeRange: { start: string; end: string };
  /** As sent; absent when the request had none. */
  segmentTimeRange?: { start: string; end: string };
  fields: string[];
  state: 'PENDING' | 'COMPLETED' | 'FAILED';
  createdAt: string;
  /** When the operation completed or failed. */
  finishedAt?: string;
  /** Rows in the file, once written. */
  rows?: number;
  /** `/results` calls answered with a location. */
  locations: number;
  /** Downloads of a location answered 200. */
  downloads: number;
  /** Downloads refused because they carried an `Authorization` header (a client that sends its key to the storage host). */
  keyedDownloads: number;
  /** Downloads refused because the location had expired. */
  expiredDownloads: number;
}
