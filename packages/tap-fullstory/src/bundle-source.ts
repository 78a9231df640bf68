/**
 * Where bundles come from: listing (paged, 20 at a time) and paced downloads, through
 * fullstory-client's ExportClient (which owns HTTP, auth, and the per-request retry policy).
 */
import type { Readable } from 'node:stream';
import type { BundleRef } from './cursor.js';
import { Pacer } from './pacer.js';

/**
 * FullStory returns at most this many bundles per `export/list` call
 * (https://developer.fullstory.com/server/v1/exports/list-event-exports/).
 */
const LIST_PAGE_SIZE = 20;

/** The part of fullstory-client's ExportClient the tap uses. */
interface ExportApi {
  listBundles(startUnixSeconds: number): Promise<BundleRef[]>;
  downloadBundle(id: number | bigint): Promise<Readable>;
}

/** Options of {@link BundleSource}. */
interface BundleSourceOptions {
  client: ExportApi;
  downloadsPerMinute: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told before a download waits for its slot in the pace, with the wait in ms (to log it). */
  onWait?: (ms: number) => void;
}

/** Lists and downloads bundles. */
export class BundleSource {
  private readonly client: ExportApi;
  private readonly pacer: Pacer;
  private readonly onWait: ((ms: number) => void) | undefined;
  /** `export/list` calls made. */
  listCalls = 0;
  /** `export/get` calls started. */
  downloads = 0;

  constructor(options: BundleSourceOptions) {
    this.client = options.client;
    const pacerOptions: ConstructorParameters<typeof Pacer>[0] = { perMinute: options.downloadsPerMinute };
    if (options.now) pacerOptions.now = options.now;
    if (options.sleep) pacerOptions.sleep = options.sleep;
    this.pacer = new Pacer(pacerOptions);
    this.onWait = options.onWait;
  }

  /**
   * Every completed bundle whose `Stop` is after `startSeconds`: lists from `startSeconds`, then
   * again from the last `Stop` seen until a page is short. When `endSeconds` is given, stops once a
   * page reaches a bundle starting at or after it (later pages can only start later).
   */
  async list(startSeconds: number, endSeconds?: number): Promise<BundleRef[]> {
    const found = new Map<string, BundleRef>();
    let start = startSeconds;
    for (;;) {
      const page = await this.client.listBundles(start);
      this.listCalls++;
      for (const b of page) found.set(String(b.id), b);
      if (page.length < LIST_PAGE_SIZE) break;
      const lastStop = Math.max(...page.map((b) => b.stop));
      // A page whose bundles all end at or before `start` would loop forever; FullStory should never send one.
      if (lastStop <= start) break;
      if (endSeconds !== undefined && page.some((b) => b.start >= endSeconds)) break;
      start = lastStop;
    }
    return [...found.values()];
  }

  /**
   * Starts the download of bundle `id` once the pace allows: the raw body (maybe gzip). When
   * `signal` aborts during the wait for the slot, rejects with its reason and downloads nothing.
   */
  async open(id: number | bigint, signal?: AbortSignal): Promise<Readable> {
    await this.pacer.acquire(this.onWait, signal);
    this.downloads++;
    return this.client.downloadBundle(id);
  }
}
