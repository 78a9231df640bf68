import { describe, expect, it } from '@jest/globals';
import { AuthError, UnavailableError } from '@fullstory-singer/singer-core';
import { ApiError } from '../src/errors.js';
import { BatchRefusedError, ServerApiClient } from '../src/server-api-client.js';
import { TEST_KEY, testOptions } from './helpers/fakes.js';
import { caught, sendEmpty, sendJson, serverPerTest } from './helpers/http-server.js';

const serve = serverPerTest();

const JOB = { job: { id: 'otpo123=', status: 'PROCESSING', created: '2019-04-18T14:36:11.123Z' } };

describe('ServerApiClient.createBatch', () => {
  it('posts the body it is given, the same bytes on every retry, and keeps the Idempotency-Key through resets, 429s and 503s', async () => {
    const { url, seen } = await serve((req, res, _seen, i) => {
      if (i === 0) return sendJson(res, 503, { code: 'unavailable', message: 'try again' });
      if (i === 1) return req.socket.destroy();
      if (i === 2) return sendEmpty(res, 429, { 'retry-after': '1' });
      sendJson(res, 200, JOB);
    });
    const client = new ServerApiClient(testOptions(url));
    const body = '{"requests":[{"uid":"u1","properties":{"big":12345678901234567890,"plan":"paid"}}]}';

    const asked: number[] = [];
    const job = await client.createBatch('users', body, (n) => {
      asked.push(n);
      return `batch-key-${n}`;
    });

    // `created` read as ms since the epoch: it tells a job an earlier run made (target-fullstory's job.ts).
    expect(job).toEqual({ id: 'otpo123=', status: 'PROCESSING', createdMs: Date.parse('2019-04-18T14:36:11.123Z') });
    expect(seen).toHaveLength(4);
    expect(asked).toEqual([0, 0, 0, 0]);
    for (const request of seen) {
      expect(request.method).toBe('POST');
      expect(request.url.pathname).toBe('/v2/users/batch');
      expect(request.headers['idempotency-key']).toBe('batch-key-0');
      expect(request.headers.authorization).toBe(`Basic ${TEST_KEY}`);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.body).toBe(body);
    }
  });

  it('after a 500 (which FullStory keeps under its key) the next attempt takes the next key, unless a request under the key may have run unseen', async () => {
    const oops = { code: 'server_error', message: 'oops' };
    const { url, seen } = await serve((req, res, _seen, i) => {
      if (i <= 1) return sendJson(res, 500, oops);
      if (i === 2) return req.socket.destroy();
      if (i === 3) return sendJson(res, 500, oops);
      sendJson(res, 200, JOB);
    });
    await new ServerApiClient(testOptions(url, { maxRetries: 4 })).createBatch('users', '{"requests":[{}]}', (n) => `k${n}`);
    // The reset may have created the job under k2 (its answer lost): k2 is kept through the 500 after it.
    expect(seen.map((r) => r.headers['idempotency-key'])).toEqual(['k0', 'k1', 'k2', 'k2', 'k2']);
  });

  it('answered 500 on every attempt, it gives up after maxRetries + 1 keys', async () => {
    const oops = { code: 'server_error', message: 'oops' };
    const always500 = await serve((_req, res) => sendJson(res, 500, oops));
    const err = await caught(new ServerApiClient(testOptions(always500.url, { maxRetries: 3 })).createBatch('users', '{"requests":[{}]}', (n) => `k${n}`));
    expect(err).toBeInstanceOf(UnavailableError);
    // At most maxRetries + 1 keys.
    expect(always500.seen.map((r) => r.headers['idempotency-key'])).toEqual(['k0', 'k1', 'k2', 'k3']);
  });

  it('posts events batches to /v2/events/batch', async () => {
    const { url, seen } = await serve((_req, res) => sendJson(res, 200, JOB));
    await new ServerApiClient(testOptions(url)).createBatch('events', '{"requests":[{"name":"x"}]}', () => 'k');
    expect(seen[0]!.url.pathname).toBe('/v2/events/batch');
  });

  it('a 400 is a BatchRefusedError with FullStory code and message, not retried', async () => {
    const { url, seen } = await serve((_req, res) => sendJson(res, 400, { code: 'required_field', message: 'uid is required' }));
    const err = await caught(new ServerApiClient(testOptions(url)).createBatch('users', '{"requests":[{}]}', () => 'k'));
    expect(err).toBeInstanceOf(BatchRefusedError);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, apiCode: 'required_field', apiMessage: 'uid is required', tooLarge: false, exitCode: 5 });
    expect(err.message).toBe('POST /v2/users/batch: FullStory refused the batch (400): required_field: uid is required');
    expect(seen).toHaveLength(1);
  });

  it('a 413, even from a proxy that sends no FullStory body, is a BatchRefusedError marked too large', async () => {
    const { url, seen } = await serve((_req, res) => {
      res.writeHead(413, { 'content-type': 'text/html' });
      res.end('<html>Request Entity Too Large</html>');
    });
    const err = await caught(new ServerApiClient(testOptions(url)).createBatch('events', '{"requests":[{}]}', () => 'k'));
    expect(err).toBeInstanceOf(BatchRefusedError);
    expect(err).toMatchObject({ status: 413, apiCode: 'payload_too_large', apiMessage: 'request body too large', tooLarge: true });
    expect(seen).toHaveLength(1);
  });

  it('a 400 on anything but a batch create stays an ApiError', async () => {
    const { url } = await serve((_req, res) => sendJson(res, 400, { code: 'invalid_argument', message: 'bad id' }));
    const err = await caught(new ServerApiClient(testOptions(url)).getJob('users', 'x'));
    expect(err).toBeInstanceOf(ApiError);
    expect(err).not.toBeInstanceOf(BatchRefusedError);
  });

  it('an aborted signal ends a call waiting between retries with the signal reason', async () => {
    const { url, seen } = await serve((_req, res) => sendEmpty(res, 503));
    const controller = new AbortController();
    const reason = new Error('stop now');
    // The injected sleep never returns on its own: only the abort can end the wait.
    const options = testOptions(url, { sleep: () => new Promise(() => undefined) });
    const pending = new ServerApiClient(options).createBatch('users', '{"requests":[{}]}', () => 'k', { signal: controller.signal });
    while (seen.length === 0) await new Promise((r) => setImmediate(r));
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(new ServerApiClient(options).getJob('users', 'j', { signal: controller.signal })).rejects.toBe(reason);
    expect(seen).toHaveLength(1);
  });

  it('throws AuthError on 403 without retrying', async () => {
    const { url, seen } = await serve((_req, res) => sendJson(res, 403, { code: 'forbidden', message: 'insufficient permissions' }));
    const err = await caught(new ServerApiClient(testOptions(url)).createBatch('users', '{"requests":[{}]}', () => 'k'));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toBe(
      'POST /v2/users/batch: FullStory refused this call for the API key (403 forbidden): this call needs a Standard key or higher (FullStory: Standard keys may create batch imports and read their status)',
    );
    expect(seen).toHaveLength(1);
  });

  it('calls the onThrottle option with each Retry-After wait', async () => {
    const { url } = await serve((_req, res, _seen, i) => (i < 2 ? sendEmpty(res, 429, { 'retry-after': String(i + 2) }) : sendJson(res, 200, JOB)));
    const throttles: number[] = [];
    const options = testOptions(url, { maxRetries: 0, onThrottle: (ms) => throttles.push(ms) });
    const client = new ServerApiClient(options);
    await client.createBatch('users', '{"requests":[{}]}', () => 'k');
    expect(throttles).toEqual([2000, 3000]);
    expect(options.delays).toEqual([2000, 3000]);
  });

  it('throws UnavailableError when 5xx outlast maxRetries', async () => {
    const { url, seen } = await serve((_req, res) => sendEmpty(res, 503));
    const err = await caught(new ServerApiClient(testOptions(url, { maxRetries: 1 })).createBatch('users', '{"requests":[{}]}', () => 'k'));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(seen).toHaveLength(2);
  });
});

describe('ServerApiClient job calls', () => {
  it('reads a job status with its counts', async () => {
    const { url, seen } = await serve((_req, res) =>
      sendJson(res, 200, { imports: 42, errors: '2', job: { id: 'abd123=', status: 'FAILED', created: 'x', finished: 'y' } }),
    );
    const status = await new ServerApiClient(testOptions(url)).getJob('users', 'abd123=');
    expect(status).toEqual({ id: 'abd123=', status: 'FAILED', imports: 42, errors: 2 });
    expect(seen[0]!.url.pathname).toBe('/v2/users/batch/abd123%3D');
  });

  it("answers 'forbidden' when the key may not read a job's errors or imports (403)", async () => {
    const { url } = await serve((_req, res) => sendJson(res, 403, { code: 'forbidden', message: 'insufficient permissions' }));
    const client = new ServerApiClient(testOptions(url));
    expect(await client.getJobErrors('users', 'job1')).toBe('forbidden');
    expect(await client.getJobImports('users', 'job1')).toBe('forbidden');
  });

  it("answers 'processing' while the errors list is 202", async () => {
    const { url, seen } = await serve((_req, res) => sendEmpty(res, 202));
    const client = new ServerApiClient(testOptions(url));
    expect(await client.getJobErrors('events', 'job1')).toBe('processing');
    expect(await client.getJobImports('events', 'job1')).toBe('processing');
    expect(seen.map((s) => s.url.pathname)).toEqual(['/v2/events/batch/job1/errors', '/v2/events/batch/job1/imports']);
  });

  it('passes page_token through and returns next_page_token', async () => {
    const item = { message: 'The error message', code: 'error_code', user: { uid: 'xyz123' } };
    const { url, seen } = await serve((_req, res, request) => {
      const token = request.url.searchParams.get('page_token');
      if (token === null) return sendJson(res, 200, { results: [item], total_records: '2', next_page_token: 'asd543' });
      sendJson(res, 200, { results: [{ ...item, user: { uid: 'second' } }], total_records: '2' });
    });
    const client = new ServerApiClient(testOptions(url));

    const first = await client.getJobErrors('users', 'job1');
    expect(first).toEqual({ results: [item], nextPageToken: 'asd543' });
    const second = await client.getJobErrors('users', 'job1', 'asd543');
    expect(second).toEqual({ results: [{ ...item, user: { uid: 'second' } }] });
    expect(seen[0]!.url.search).toBe('');
    expect(seen[1]!.url.searchParams.get('page_token')).toBe('asd543');
  });

  it('pages imports the same way, keeping big integers exact', async () => {
    const { url, seen } = await serve((_req, res) =>
      sendJson(res, 200, '{"results":[{"id":"1","properties":{"n":12345678901234567890}}],"next_page_token":"p2"}'),
    );
    const page = await new ServerApiClient(testOptions(url)).getJobImports('users', 'job1', 'p1');
    expect(page).toEqual({ results: [{ id: '1', properties: { n: 12345678901234567890n } }], nextPageToken: 'p2' });
    expect(seen[0]!.url.searchParams.get('page_token')).toBe('p1');
  });
});
