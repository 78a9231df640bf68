import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { AuthError, ConfigError, Redactor, UnavailableError } from '@fullstory-singer/singer-core';
import { BodyInterruptedError } from '../src/body-stream.js';
import { ApiError } from '../src/errors.js';
import { ExportNotFoundError, SegmentExportClient } from '../src/segment-export-client.js';
import { LocationRefusedError, LocationUnavailableError, UnsafeLocationError } from '../src/signed-download.js';
import { TEST_KEY, recordingLogger, testOptions } from './helpers/fakes.js';
import { caught, readAll, sendJson, serverPerTest } from './helpers/http-server.js';

const serve = serverPerTest();

const REQUEST = {
  segmentId: 'everyone',
  type: 'TYPE_EVENT' as const,
  format: 'FORMAT_NDJSON' as const,
  timeRange: { start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' },
  segmentTimeRange: { start: '', end: '' },
};

const SIGNATURE = 'Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f0';

describe('SegmentExportClient: the keyed calls', () => {
  it('creates an export with the documented camelCase body and the key; omits empty fields', async () => {
    const s = await serve((_req, res) => sendJson(res, 200, { operationId: 'op-1' }));
    const client = new SegmentExportClient(testOptions(s.url));
    expect(await client.createExport(REQUEST)).toBe('op-1');
    expect(await client.createExport({ ...REQUEST, fields: ['EventStart', 'evt_*'] })).toBe('op-1');
    expect(s.seen[0]!.method).toBe('POST');
    expect(s.seen[0]!.url.pathname).toBe('/segments/v1/exports');
    expect(s.seen[0]!.headers.authorization).toBe(`Basic ${TEST_KEY}`);
    expect(s.seen[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(s.seen[0]!.body)).toEqual(REQUEST);
    expect(JSON.parse(s.seen[1]!.body)).toEqual({ ...REQUEST, fields: ['EventStart', 'evt_*'] });
  });

  it('reads PENDING, COMPLETED and FAILED operations; an odd answer is an ApiError, a 404 ExportNotFoundError', async () => {
    const answers: unknown[] = [
      { id: 'op', type: 'SEARCH_EXPORT', state: 'PENDING', estimatePctComplete: 40, results: null },
      { id: 'op', type: 'SEARCH_EXPORT', state: 'COMPLETED', estimatePctComplete: 100, results: { searchExportId: 'se-1', expires: '2024-01-08T00:00:00Z' } },
      { id: 'op', type: 'SEARCH_EXPORT', state: 'FAILED', errorDetails: 'expired' },
      { id: 'op', state: 'RUNNING' },
      { id: 'op', type: 'DELETE_USER', state: 'COMPLETED' },
      { id: 'op', type: 'SEARCH_EXPORT', state: 'COMPLETED', results: null },
    ];
    const s = await serve((_req, res, _seen, i) => (i < answers.length ? sendJson(res, 200, answers[i]) : sendJson(res, 404, { code: 'not_found', message: 'no' })));
    const client = new SegmentExportClient(testOptions(s.url));
    expect(await client.getOperation('op/1')).toEqual({ state: 'PENDING', estimatePctComplete: 40 });
    expect(s.seen[0]!.url.pathname).toBe('/operations/v1/op%2F1');
    expect(await client.getOperation('op')).toEqual({ state: 'COMPLETED', searchExportId: 'se-1' });
    expect(await client.getOperation('op')).toEqual({ state: 'FAILED', errorDetails: 'expired' });
    expect(await client.getOperation('op')).toEqual({ state: 'PENDING', estimatePctComplete: undefined });
    expect((await caught(client.getOperation('op'))).message).toMatch(/DELETE_USER/);
    expect(await caught(client.getOperation('op'))).toBeInstanceOf(ApiError);
    const gone = await caught(client.getOperation('op'));
    expect(gone).toBeInstanceOf(ExportNotFoundError);
    expect(gone.message).toMatch(/no longer knows this operation/);
  });

  it('gets a location from /results; 404 is ExportNotFoundError; 403 says which permission the key needs', async () => {
    const s = await serve((req, res, _seen, i) => {
      if (i === 0) return sendJson(res, 200, { location: `https://storage.example/x?${SIGNATURE}`, expires: '2024-01-01T00:05:00Z' });
      if (i === 1) return sendJson(res, 404, { code: 'not_found', message: 'gone' });
      return sendJson(res, 403, { code: 'forbidden', message: `no for ${String(req.headers.authorization)}` });
    });
    const client = new SegmentExportClient(testOptions(s.url));
    expect(await client.getLocation('se-1')).toBe(`https://storage.example/x?${SIGNATURE}`);
    expect(s.seen[0]!.url.pathname).toBe('/search/v1/exports/se-1/results');
    expect(await caught(client.getLocation('se-1'))).toBeInstanceOf(ExportNotFoundError);
    const refused = await caught(client.createExport(REQUEST));
    expect(refused).toBeInstanceOf(AuthError);
    expect(refused.message).toMatch(/403 forbidden\): this call exports user data, so it needs an Admin or Architect key/);
    expect(refused.message).not.toContain(TEST_KEY);
  });
});

describe('SegmentExportClient: a 404 before anything succeeded', () => {
  it('is a gone operation or search export (a resumed run polls a saved one first), but a wrong base_url on create', async () => {
    const s = await serve((_req, res) => sendJson(res, 404, { code: 'not_found', message: 'no such thing' }));
    expect(await caught(new SegmentExportClient(testOptions(s.url)).getOperation('saved-op'))).toBeInstanceOf(ExportNotFoundError);
    expect(await caught(new SegmentExportClient(testOptions(s.url)).getLocation('saved-export'))).toBeInstanceOf(ExportNotFoundError);
    const create = await caught(new SegmentExportClient(testOptions(s.url)).createExport(REQUEST));
    expect(create).toBeInstanceOf(ConfigError);
    expect(create.message).toMatch(/check base_url/);
  });
});

describe('SegmentExportClient.download: the signed location', () => {
  const gz = gzipSync('{"a":1}\n{"a":2}\n');

  it('sends no Authorization header, follows no redirect, returns the raw gzip bytes', async () => {
    const s = await serve((req, res) => {
      if (req.url!.startsWith('/storage/')) {
        res.writeHead(200, { 'content-type': 'application/gzip', 'content-encoding': 'gzip' });
        res.end(gz);
      } else sendJson(res, 200, { location: `${s.url}/storage/file?${SIGNATURE}` });
    });
    const logger = recordingLogger();
    const client = new SegmentExportClient(testOptions(s.url, { logger }));
    const location = await client.getLocation('se');
    const body = await readAll(await client.download(location));
    expect(body.equals(gz)).toBe(true);
    const storage = s.seen.find((r) => r.url.pathname === '/storage/file')!;
    expect(storage.headers.authorization).toBeUndefined();
    expect(storage.headers['user-agent']).toBe('fullstory-client-test/1.0');
    expect(storage.url.search).toBe(`?${SIGNATURE}`);
    // The API call had the key; the metric of the download names no URL.
    expect(s.seen[0]!.headers.authorization).toBe(`Basic ${TEST_KEY}`);
    const metric = logger.metrics.find((m) => m.tags?.['endpoint'] === 'export/download')!;
    expect(metric.tags).toEqual({ endpoint: 'export/download', http_status_code: 200, status: 'succeeded' });
    expect(JSON.stringify(logger.lines)).not.toContain('Signature');
  });

  it('classifies the storage host answers: 4xx refused, 5xx and 429 unavailable, 3xx unsafe and not followed', async () => {
    const statuses = [400, 403, 404, 500, 429, 302];
    const s = await serve((_req, res, _seen, i) => {
      res.writeHead(statuses[i]!, { 'content-type': 'application/xml', location: 'https://elsewhere.example/' });
      res.end(`<Error><Code>X</Code><Message>${SIGNATURE}</Message></Error>`);
    });
    const client = new SegmentExportClient(testOptions(s.url));
    const url = `${s.url}/storage/file?${SIGNATURE}`;
    const errors = [];
    for (let i = 0; i < statuses.length; i++) errors.push(await caught(client.download(url)));
    expect(errors.map((e) => e.constructor.name)).toEqual([
      'LocationRefusedError', 'LocationRefusedError', 'LocationRefusedError', 'LocationUnavailableError', 'LocationUnavailableError', 'UnsafeLocationError',
    ]);
    expect((errors[1] as LocationRefusedError).status).toBe(403);
    expect(s.seen).toHaveLength(statuses.length);
    for (const e of errors) expect(inspect(e, { depth: 10 })).not.toContain(SIGNATURE);
  });

  it('refuses a location that is not https (unless loopback) or carries credentials, without a request', async () => {
    const client = new SegmentExportClient(testOptions('http://127.0.0.1:9'));
    for (const location of ['http://storage.example/x?Signature=abc', 'ftp://storage.example/x', 'https://u:p@storage.example/x', 'not a url']) {
      const err = await caught(client.download(location));
      expect(err).toBeInstanceOf(UnsafeLocationError);
      expect(err.message).not.toContain('Signature=abc');
    }
    expect((await caught(client.download('http://storage.example/x?Signature=abc'))).message).toMatch(/http:\/\/storage\.example, not https/);
  });

  it('a connection failure is LocationUnavailableError with no URL in it; the URL is a secret only while in use', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200);
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const redactor = new Redactor();
    redactor.register(TEST_KEY);
    const keyForms = redactor.size;
    const client = new SegmentExportClient({ ...testOptions(s.url), secrets: redactor });
    const url = `${s.url}/storage/file?${SIGNATURE}`;
    const body = await client.download(url);
    expect(redactor.redact(url)).toBe('[REDACTED]');
    const broken = await caught(readAll(body));
    expect(broken).toBeInstanceOf(BodyInterruptedError);
    expect(inspect(broken, { depth: 10 })).not.toContain(SIGNATURE);
    expect(redactor.size).toBe(keyForms);
    await s.close();
    const refused = await caught(client.download(url));
    expect(refused).toBeInstanceOf(LocationUnavailableError);
    expect(refused).toBeInstanceOf(UnavailableError);
    expect(inspect(refused, { depth: 10 })).not.toContain(SIGNATURE);
    expect(redactor.size).toBe(keyForms);
  });
});
