import { describe, expect, it } from '@jest/globals';
import { gzipSync } from 'node:zlib';
import { AuthError, ConfigError, UnavailableError } from '@fullstory-singer/singer-core';
import { BodyInterruptedError } from '../src/body-stream.js';
import { ApiError } from '../src/errors.js';
import { FIRST_CONTACT_REFUSED_RETRIES } from '../src/http-core.js';
import { ExportClient } from '../src/export-client.js';
import { TEST_KEY, recordingLogger, testOptions } from './helpers/fakes.js';
import { caught, readAll, sendEmpty, sendJson, serverPerTest } from './helpers/http-server.js';

const serve = serverPerTest();

const BUNDLES = '{"exports":[{"Id":9007199254740993,"Start":1598400000,"Stop":1598486400},{"Id":12,"Start":1598486400,"Stop":1598572800}]}';

describe('ExportClient.listBundles', () => {
  it('sends the key as Basic auth and the user agent, and parses ids losslessly', async () => {
    const { url, seen } = await serve((_req, res) => sendJson(res, 200, BUNDLES));
    const logger = recordingLogger();
    const client = new ExportClient(testOptions(url, { logger }));

    const bundles = await client.listBundles(1598400000);

    expect(bundles).toEqual([
      { id: 9007199254740993n, start: 1598400000, stop: 1598486400 },
      { id: 12, start: 1598486400, stop: 1598572800 },
    ]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('GET');
    expect(seen[0]!.url.pathname).toBe('/api/v1/export/list');
    expect(seen[0]!.url.searchParams.get('start')).toBe('1598400000');
    expect(seen[0]!.headers.authorization).toBe(`Basic ${TEST_KEY}`);
    expect(seen[0]!.headers['user-agent']).toBe('fullstory-client-test/1.0');
    expect(logger.metrics).toEqual([
      expect.objectContaining({ type: 'timer', metric: 'http_request_duration', tags: { endpoint: 'export/list', http_status_code: 200, status: 'succeeded' } }),
    ]);
  });

  it('returns no bundles when the list is empty or absent', async () => {
    const { url } = await serve((_req, res, _seen, i) => sendJson(res, 200, i === 0 ? { exports: [] } : {}));
    const client = new ExportClient(testOptions(url));
    expect(await client.listBundles(0)).toEqual([]);
    expect(await client.listBundles(0)).toEqual([]);
  });

  it('rejects a body of the wrong shape with ApiError', async () => {
    const { url } = await serve((_req, res) => sendJson(res, 200, { exports: [{ Id: 'x', Start: 1, Stop: 2 }] }));
    const err = await caught(new ExportClient(testOptions(url)).listBundles(0));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toMatch(/exports\[0\] lacks an integer Id/);
  });

  it('honours Retry-After on 429, calls onThrottle, and does not count 429s against maxRetries', async () => {
    const { url, seen } = await serve((_req, res, _seen, i) => (i < 3 ? sendJson(res, 429, { code: 'too_many_requests', message: 'slow down' }, { 'retry-after': '7' }) : sendJson(res, 200, BUNDLES)));
    const throttles: number[] = [];
    const options = testOptions(url, { maxRetries: 0, onThrottle: (ms) => throttles.push(ms) });
    const client = new ExportClient(options);

    const bundles = await client.listBundles(0);

    expect(bundles).toHaveLength(2);
    expect(seen).toHaveLength(4);
    expect(options.delays).toEqual([7000, 7000, 7000]);
    expect(throttles).toEqual([7000, 7000, 7000]);
  });

  it('honours an HTTP-date Retry-After relative to the injected clock', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const { url } = await serve((_req, res, _seen, i) =>
      i === 0 ? sendEmpty(res, 429, { 'retry-after': new Date(now + 42_000).toUTCString() }) : sendJson(res, 200, BUNDLES),
    );
    const options = testOptions(url, { now: () => now });
    await new ExportClient(options).listBundles(0);
    expect(options.delays).toEqual([42_000]);
  });

  it('gives up with UnavailableError once 429 waits pass maxRetryAfterMs in total', async () => {
    const { url, seen } = await serve((_req, res) => sendEmpty(res, 429, { 'retry-after': '7' }));
    const options = testOptions(url, { maxRetryAfterMs: 20_000 });
    const err = await caught(new ExportClient(options).listBundles(0));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toMatch(/kept throttling \(429\)/);
    expect(options.delays).toEqual([7000, 7000]);
    expect(seen).toHaveLength(3);
  });

  it('retries 500s with capped backoff, then throws UnavailableError after maxRetries', async () => {
    const { url, seen } = await serve((_req, res) => sendJson(res, 500, { code: 'server_error', message: 'oops' }));
    const options = testOptions(url, { maxRetries: 3, backoffBaseMs: 1000, backoffCapMs: 3000, random: () => 0.5 });
    const err = await caught(new ExportClient(options).listBundles(0));

    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).exitCode).toBe(5);
    expect(err.message).toBe('GET /api/v1/export/list?start=0: FullStory unavailable after 4 attempts: last answer 500: server_error: oops');
    expect(seen).toHaveLength(4);
    expect(options.delays).toEqual([500, 1000, 1500]); // 0.5 × min(3000, 1000 × 2^n)
  });

  it('recovers when a 5xx is followed by success', async () => {
    const { url, seen } = await serve((_req, res, _seen, i) => (i < 2 ? sendEmpty(res, 503) : sendJson(res, 200, BUNDLES)));
    const logger = recordingLogger();
    const options = testOptions(url, { logger });
    expect(await new ExportClient(options).listBundles(0)).toHaveLength(2);
    expect(seen).toHaveLength(3);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('retries a connection reset', async () => {
    const { url, seen } = await serve((req, res, _seen, i) => (i === 0 ? req.socket.destroy() : sendJson(res, 200, BUNDLES)));
    const options = testOptions(url);
    expect(await new ExportClient(options).listBundles(0)).toHaveLength(2);
    expect(seen).toHaveLength(2);
    expect(options.delays).toHaveLength(1);
  });

  it('stops soon with a config error naming base_url when the very first connection is refused', async () => {
    const server = await serve((_req, res) => sendEmpty(res, 200));
    const { url } = server;
    await server.close();
    const options = testOptions(url, { maxRetries: 8 });
    const err = await caught(new ExportClient(options).listBundles(0));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect(err.message).toMatch(
      /^GET \/api\/v1\/export\/list\?start=0: cannot reach 127\.0\.0\.1:\d+ \(base_url http:\/\/127\.0\.0\.1:\d+\) after 3 attempts: .*ECONNREFUSED.*; check base_url/,
    );
    // Two quick retries, not the eight of max_retries.
    expect(options.delays).toHaveLength(FIRST_CONTACT_REFUSED_RETRIES);
  });

  it('retries a refused connection in full, as an outage, once the base URL has answered', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, BUNDLES));
    const options = testOptions(server.url, { maxRetries: 4 });
    const client = new ExportClient(options);
    await client.listBundles(0);
    await server.close();
    const err = await caught(client.listBundles(0));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toMatch(/unreachable at 127\.0\.0\.1:\d+ \(base_url http:\/\/127\.0\.0\.1:\d+\) after 5 attempts: .*ECONNREFUSED/);
    expect(options.delays).toHaveLength(4);
  });

  it('times out a request that gets no answer, and retries it', async () => {
    const { url, seen } = await serve(() => undefined); // never answers
    const options = testOptions(url, { maxRetries: 1, timeoutMs: 200 });
    const err = await caught(new ExportClient(options).listBundles(0));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toMatch(/unreachable at 127\.0\.0\.1:\d+ \(base_url http:\/\/127\.0\.0\.1:\d+\) after 2 attempts: .*Timeout/);
    expect(seen).toHaveLength(2);
  });

  it('does not retry a failure that is not transient (a TLS handshake with a plain HTTP server)', async () => {
    const { url } = await serve((_req, res) => sendEmpty(res, 200));
    const options = testOptions(url.replace('http:', 'https:'), { maxRetries: 3 });
    const err = await caught(new ExportClient(options).listBundles(0));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/^GET \/api\/v1\/export\/list\?start=0: cannot reach 127\.0\.0\.1:\d+ \(base_url https:\/\/127\.0\.0\.1:\d+\) after 1 attempt: .*; check base_url/);
    expect(options.delays).toEqual([]);
  });

  it('throws AuthError on 401 saying the key was not accepted (not a permission), without retrying', async () => {
    const { url, seen } = await serve((_req, res) => sendJson(res, 401, { code: 'unauthorized', message: 'bad key' }));
    const err = await caught(new ExportClient(testOptions(url)).listBundles(0));
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).exitCode).toBe(4);
    expect(err.message).toBe(
      'GET /api/v1/export/list?start=0: FullStory did not accept the API key (401 unauthorized): check that it is the whole key, exactly as FullStory issued it, and that it was not revoked',
    );
    expect(seen).toHaveLength(1);
  });

  it('throws ApiError with status and FullStory code on other 4xx', async () => {
    const { url, seen } = await serve((_req, res) => sendJson(res, 400, { code: 'invalid_argument', message: 'no such thing' }));
    const err = await caught(new ExportClient(testOptions(url)).listBundles(0));
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, apiCode: 'invalid_argument', code: 'API_REJECTED', exitCode: 5 });
    expect(err.message).toMatch(/rejected the request \(400\): invalid_argument: no such thing/);
    expect(seen).toHaveLength(1);
  });

  it('reads a 404 before any success as a wrong base_url (exit 2), and one after as a missing resource', async () => {
    const { url } = await serve((req, res) =>
      req.url!.startsWith('/api/v1/export/list') ? sendJson(res, 200, BUNDLES) : sendJson(res, 404, { code: 'resource_not_found', message: 'gone' }),
    );
    const wrong = await caught(new ExportClient(testOptions(`${url}/oops`)).listBundles(0));
    expect(wrong).toBeInstanceOf(ConfigError);
    expect(wrong.message).toMatch(
      /^GET \/api\/v1\/export\/list\?start=0: 404 from 127\.0\.0\.1:\d+ \(base_url http:\/\/127\.0\.0\.1:\d+\/oops\), which has no such route: check base_url/,
    );
    const client = new ExportClient(testOptions(url));
    await client.listBundles(0);
    const missing = await caught(client.downloadBundle(99));
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, apiCode: 'resource_not_found', exitCode: 5 });
  });

  it('does not follow redirects (the key could leave for another host)', async () => {
    const { url, seen } = await serve((_req, res) => sendEmpty(res, 302, { location: 'http://example.com/steal' }));
    const err = await caught(new ExportClient(testOptions(url)).listBundles(0));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toMatch(/unexpected redirect \(302\)/);
    expect(seen).toHaveLength(1);
  });
});

describe('ExportClient.downloadBundle', () => {
  const events = JSON.stringify([{ EventType: 'click', IndvId: 1 }, { EventType: 'navigate', IndvId: 2 }]);

  it('returns the raw body without decompressing it', async () => {
    const gz = gzipSync(events);
    const { url, seen } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': gz.length });
      res.end(gz);
    });
    const stream = await new ExportClient(testOptions(url)).downloadBundle(9007199254740993n);
    const bytes = await readAll(stream);
    expect(bytes.equals(gz)).toBe(true);
    expect(seen[0]!.url.pathname).toBe('/api/v1/export/get');
    expect(seen[0]!.url.searchParams.get('id')).toBe('9007199254740993');
    expect(seen[0]!.headers.authorization).toBe(`Basic ${TEST_KEY}`);
  });

  it('retries until the response starts with 200, honouring Retry-After', async () => {
    const { url, seen } = await serve((_req, res, _seen, i) => {
      if (i === 0) return sendJson(res, 429, { code: 'too_many_requests', message: 'two a minute' }, { 'retry-after': '30' });
      if (i === 1) return sendJson(res, 502, 'Bad gateway');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(events);
    });
    const options = testOptions(url, { backoffBaseMs: 100, random: () => 0.5 });
    const stream = await new ExportClient(options).downloadBundle(12);
    expect((await readAll(stream)).toString()).toBe(events);
    expect(seen).toHaveLength(3);
    expect(options.delays).toEqual([30_000, 50]);
  });

  it('throws AuthError on 403 before any body is returned', async () => {
    const { url } = await serve((_req, res) => sendJson(res, 403, { code: 'forbidden', message: 'insufficient permissions' }));
    const err = await caught(new ExportClient(testOptions(url)).downloadBundle(12));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toMatch(/\(403 forbidden\): this call exports user data, so it needs an Admin or Architect key$/);
  });

  it('errors a body that stalls for longer than the idle timeout', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[{"EventType":"click"},'); // ...and never another byte
    });
    const stream = await new ExportClient(testOptions(url, { timeoutMs: 300 })).downloadBundle(12);
    const started = Date.now();
    const err = await caught(readAll(stream));
    expect(err).toBeInstanceOf(BodyInterruptedError);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as BodyInterruptedError).reason).toBe('stalled');
    expect(err.message).toBe('GET /api/v1/export/get?id=12: the response body stalled: no data for 0.3 s');
    expect(Date.now() - started).toBeLessThan(10_000); // generous: the point is that it errors at all
  });

  it('does not mistake a slow consumer for a stalled server', async () => {
    const first = Buffer.alloc(64 * 1024, 'a');
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      // Much more than the client's buffer (256 KiB) and the sockets' together, so the client must
      // pause the socket while we dawdle.
      for (let i = 0; i < 256; i += 1) res.write(first);
      res.end();
    });
    const stream = await new ExportClient(testOptions(url, { timeoutMs: 500 })).downloadBundle(12);
    const chunks = stream[Symbol.asyncIterator]();
    let total = 0;
    const head = await chunks.next();
    total += (head.value as Buffer).length;
    // Nobody reads for four idle timeouts: the buffers fill and the source is paused meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) total += (next.value as Buffer).length;
    expect(total).toBe(256 * first.length);
  });

  it('errors a body whose connection breaks off mid-way', async () => {
    const { url } = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
      res.write('[{"EventType":"click"},', () => req.socket.destroy());
    });
    const stream = await new ExportClient(testOptions(url)).downloadBundle(12);
    const err = await caught(readAll(stream));
    expect(err).toBeInstanceOf(BodyInterruptedError);
    expect((err as BodyInterruptedError).reason).toBe('broken');
  });
});
