/**
 * `startSandbox`: wires the HTTP server to the export API, Segment Export, the Server API v2,
 * faults and the `/__sandbox/*` control routes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { BundleCatalog, parseId } from './bundles.js';
import { ControlRoutes } from './control.js';
import { DownloadPacer, handleGet, handleList } from './export-api.js';
import { FaultBook } from './faults.js';
import { loadFixtureBundles } from './fixtures.js';
import { SegmentExportApi } from './segment-export/api.js';
import { SegmentExports } from './segment-export/exports.js';
import { delay, defaultErrorBody, HttpError, readBody, sendError, sendJson, type Exchange } from './http.js';
import type { Permission } from './v2/api.js';
import { ServerApi } from './v2/api.js';
import type { RequestLogEntry, Sandbox, SandboxOptions, SandboxStats } from './types.js';

const DEFAULT_FIRST_BUNDLE = '2024-01-01T00:00:00Z';

/** Starts a sandbox and resolves once it listens. See {@link SandboxOptions} for defaults. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const log = options.logger ?? ((): void => undefined);
  const now = options.now ?? Date.now;
  const firstStartMs = Date.parse(options.firstBundle ?? DEFAULT_FIRST_BUNDLE);
  if (Number.isNaN(firstStartMs)) throw new Error(`firstBundle is not an ISO 8601 time: ${options.firstBundle}`);
  const firstId = parseId(options.firstBundleId ?? 1_000_000);
  if (firstId === undefined) throw new Error('firstBundleId must be a non-negative integer');
  const bundleHours = options.bundleHours ?? 24;
  if (!(bundleHours > 0)) throw new Error('bundleHours must be positive');
  const apiKeys = new Set(options.apiKeys ?? ['sandbox-key']);
  const readOnlyKeys = new Set(options.readOnlyKeys ?? []);
  const forbiddenKeys = new Set(options.forbiddenKeys ?? []);
  const standardKeys = new Set(options.standardKeys ?? []);
  const maxBodyBytes = options.maxBodyBytes ?? 128 * 1024 * 1024;
  const maxRequestLog = options.maxRequestLog ?? 100_000;
  const idempotencyWindowMs = options.idempotencyWindowMs ?? 24 * 3600 * 1000;
  if (!(idempotencyWindowMs > 0)) throw new Error('idempotencyWindowMs must be positive');

  const catalog = new BundleCatalog({
    seed: options.seed ?? 1,
    eventsPerBundle: options.eventsPerBundle ?? 1000,
    bundleHours,
    firstStart: Math.floor(firstStartMs / 1000),
    firstId,
  });
  if (options.fixturesDir !== undefined) {
    for (const entry of await loadFixtureBundles(options.fixturesDir, Math.floor(firstStartMs / 1000))) catalog.add(entry);
  }
  const initial = options.bundles ?? (options.fixturesDir !== undefined ? 0 : 3);
  if (initial > 0) catalog.publish({ count: initial });

  const faults = new FaultBook();
  if (options.faults) faults.add(options.faults);
  const pacer = new DownloadPacer(options.downloadsPerMinute ?? 2, now);
  const api = new ServerApi({
    now,
    jobLatencyMs: options.jobLatencyMs ?? 1000,
    maxRunningJobs: options.maxRunningJobs ?? 100,
    maxInProgressJobs: options.maxInProgressJobs ?? 200,
    maxInProgressOperations: options.maxInProgressOperations ?? 500_000,
    maxBatchRequests: options.maxBatchRequests ?? 50_000,
    pageSize: options.jobPageSize ?? 1000,
    retainEvents: options.retainEvents ?? true,
    jobStatusWithErrors: options.jobStatusWithErrors ?? 'FAILED',
    concurrentJobOrder: options.concurrentJobOrder ?? 'oldest-first',
    invalidItems: options.invalidItems ?? 'job',
    idempotency: options.idempotency ?? 'production',
    idempotencyWindowMs,
    echoAuthorization: options.echoAuthorization ?? false,
  });
  const segmentExports = new SegmentExports(options.segmentExport ?? {}, { now, bundles: () => catalog.all().map((e) => e.meta), log });
  const segments = new SegmentExportApi(segmentExports, () => sandbox.url);
  let requestLog: RequestLogEntry[] = [];

  const stats = (): SandboxStats => ({
    users: api.userCount(), events: api.eventCount(), requests: requestLog.length, downloads: pacer.total, jobs: api.jobStats(),
  });

  const sandbox: Sandbox = {
    url: '',
    close: async () => undefined,
    users: () => api.users(),
    events: () => api.events(),
    requests: () => requestLog.slice(),
    addFaults: (rules) => faults.add(rules),
    faults: () => faults.list(),
    clearFaults: () => faults.clear(),
    reset: () => {
      api.reset();
      requestLog = [];
      faults.clear();
      pacer.reset();
      segmentExports.reset().catch((err: unknown) => log(`removing segment export files failed: ${String(err)}`));
    },
    bundles: () => catalog.all().map((e) => ({ ...e.meta })),
    publishBundles: (spec) => {
      const metas = catalog.publish(spec);
      log(`published ${metas.length} bundle(s): ${metas.map((m) => String(m.id)).join(', ')}`);
      return metas;
    },
    jobs: () => api.jobSummaries(),
    maxConcurrentJobs: () => api.maxConcurrentJobs(),
    stats,
    segmentExports: () => segmentExports.summaries(),
  };
  const control = new ControlRoutes(sandbox, maxBodyBytes);

  /** Permission of the request's key, or an HttpError for a missing / unknown key. */
  const authenticate = (req: IncomingMessage): Permission => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Basic\s+(.+)$/i.exec(header.trim()) : null;
    const key = match?.[1];
    if (key === undefined) throw new HttpError(401, 'unauthorized', 'missing Authorization: Basic <API key> header');
    if (forbiddenKeys.has(key)) return 'none';
    if (readOnlyKeys.has(key)) return 'read';
    if (standardKeys.has(key)) return 'standard';
    if (apiKeys.has(key)) return 'admin';
    throw new HttpError(401, 'unauthorized', 'invalid API key');
  };

  const handleApi = async (x: Exchange): Promise<void> => {
    let bodyPromise: Promise<Buffer> | undefined;
    const body = (): Promise<Buffer> => (bodyPromise ??= readBody(x.req, maxBodyBytes));
    const permission = authenticate(x.req);
    if (permission === 'none') throw new HttpError(403, 'forbidden', 'insufficient permissions');
    const p = x.path;
    if (p.startsWith('/api/v1/export/') && permission === 'standard') {
      throw new HttpError(403, 'forbidden', 'insufficient permissions: exports need an Architect or Admin key');
    }
    if (p === '/api/v1/export/list' && (x.method === 'GET' || x.method === 'POST')) return handleList(x, catalog, body);
    if (p === '/api/v1/export/get' && (x.method === 'GET' || x.method === 'POST')) {
      return handleGet(x, catalog, pacer, options.downloadEncoding ?? 'gzip', body);
    }
    if (p.startsWith('/v2/') || p.startsWith('/v2beta/')) return api.handle(x, permission, body);
    if (segments.handles(p)) return segments.handle(x, body);
    throw new HttpError(404, 'resource_not_found', `no route for ${x.method} ${p}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const x: Exchange = { req, res, method: (req.method ?? 'GET').toUpperCase(), path: url.pathname, query: url.searchParams };
    if (url.pathname.startsWith('/__sandbox/')) {
      await control.handle(x);
      return;
    }
    const { authorization: _auth, ...headers } = req.headers;
    x.entry = { method: x.method, path: url.pathname, query: url.search, status: 0, headers, time: new Date(now()).toISOString() };
    requestLog.push(x.entry);
    if (requestLog.length > maxRequestLog) requestLog.splice(0, requestLog.length - maxRequestLog);

    const fault = faults.take(x.method, x.path);
    if (fault !== undefined) {
      x.entry.fault = fault.action;
      log(`fault ${fault.action} on ${x.method} ${x.path}`);
      if (fault.action === 'reset') {
        // An RST rather than a FIN, so the client sees ECONNRESET.
        const socket = req.socket as Socket & { resetAndDestroy?: () => void };
        if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
        else socket.destroy();
        return;
      }
      if (fault.action === 'reject_items' || fault.action === 'drop_items' || (fault.action === 'status' && fault.rule.endpoint === true)) {
        // Played by the endpoint itself, behind authentication and the Idempotency-Key layer.
        x.endpointFault = { action: fault.action, rule: fault.rule };
      } else if (fault.action === 'status') {
        const rule = fault.rule;
        const headers = { ...(rule.headers ?? {}) };
        const bodyValue = rule.body ?? defaultErrorBody(rule.status!);
        if (typeof bodyValue === 'string') {
          x.entry.status = rule.status!;
          res.writeHead(rule.status!, { 'content-type': 'text/plain', ...headers });
          res.end(bodyValue);
        } else {
          await sendJson(x, rule.status!, bodyValue, headers);
        }
        req.resume();
        return;
      } else if (fault.action === 'stall' && fault.rule.after_bytes === undefined) {
        await delay(fault.rule.ms ?? 0);
        if (res.destroyed) return;
      } else if (fault.action === 'fail' || fault.action === 'pending') {
        x.operationFault = { action: fault.action, rule: fault.rule };
      } else if (fault.action === 'stall' || fault.action === 'truncate') {
        x.bodyFault = { action: fault.action, rule: fault.rule };
      } else {
        x.exportFault = { action: fault.action, rule: fault.rule };
      }
    }
    try {
      // The storage host of signed locations takes no key: it is served before any key check.
      await (segments.isStorage(x.path) ? segments.download(x) : handleApi(x));
    } catch (err) {
      if (err instanceof HttpError) {
        req.resume();
        await sendError(x, err.status, err.code, err.message, err.headers);
      } else throw err;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`internal error on ${req.method} ${req.url}: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'server_error', message: 'sandbox internal error' }));
      } else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  sandbox.url = `http://${host}:${address.port}`;
  let closing: Promise<void> | undefined;
  sandbox.close = () => (closing ??= new Promise<void>((resolve) => {
    api.close();
    server.close(() => resolve());
    server.closeAllConnections();
  }).then(() => segmentExports.reset()));
  log(`serving ${catalog.all().length} bundle(s); api keys: ${apiKeys.size}`);
  return sandbox;
}
