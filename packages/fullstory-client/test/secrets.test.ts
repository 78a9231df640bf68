// The API key must never reach an error: not its message, its JSON form, its stack, nor anything
// util.inspect would print (causes included). Each scenario below makes the client fail differently.
import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import type { Readable } from 'node:stream';
import { ExportClient } from '../src/export-client.js';
import { ServerApiClient } from '../src/server-api-client.js';
import { TEST_KEY, testOptions } from './helpers/fakes.js';
import { sendJson, serverPerTest } from './helpers/http-server.js';
import type { Handler } from './helpers/http-server.js';

const serve = serverPerTest();

async function failure(handler: Handler, call: (url: string) => Promise<unknown>): Promise<unknown> {
  const server = await serve(handler);
  try {
    await call(server.url);
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

function expectNoKey(err: unknown): void {
  const e = err as Error;
  const views = [e.message, String(e.stack), JSON.stringify(e), inspect(e, { depth: 20, showHidden: true })];
  for (const view of views) {
    expect(view).not.toContain(TEST_KEY);
    expect(view).not.toContain(Buffer.from(TEST_KEY).toString('base64'));
  }
  // Only small, known fields are enumerable: no got options, headers or responses.
  const allowed = ['name', 'code', 'exitCode', 'status', 'apiCode', 'reason', 'tooLarge', 'apiMessage'];
  expect(Object.keys(e).filter((k) => !allowed.includes(k))).toEqual([]);
}

async function drain(stream: Readable): Promise<void> {
  for await (const chunk of stream) void chunk;
}

const echoKey: Handler = (req, res) => sendJson(res, 400, { code: 'bad', message: `you sent ${req.headers.authorization}` });

describe('the API key never appears in a thrown error', () => {
  const exportClient = (url: string, timeoutMs = 5000): ExportClient => new ExportClient(testOptions(url, { maxRetries: 1, timeoutMs }));
  const apiClient = (url: string): ServerApiClient => new ServerApiClient(testOptions(url, { maxRetries: 1 }));

  const scenarios: Array<[string, Handler, (url: string) => Promise<unknown>]> = [
    ['401', (_q, res) => sendJson(res, 401, { code: 'unauthorized', message: 'no' }), (url) => exportClient(url).listBundles(0)],
    ['403 on a batch', (_q, res) => sendJson(res, 403, {}), (url) => apiClient(url).createBatch('users', '{"requests":[]}', () => 'k')],
    ['a 400 whose body echoes the header', echoKey, (url) => apiClient(url).getJob('users', 'j')],
    ['a batch refused (400) by a body that echoes the header', echoKey, (url) => apiClient(url).createBatch('users', '{"requests":[{}]}', () => 'k')],
    ['a download refused with the header echoed', echoKey, (url) => exportClient(url).downloadBundle(1)],
    ['5xx until retries run out', (_q, res) => sendJson(res, 500, {}), (url) => apiClient(url).getJobErrors('users', 'j')],
    ['connection resets until retries run out', (req) => req.socket.destroy(), (url) => exportClient(url).listBundles(0)],
    ['a timeout', () => undefined, (url) => exportClient(url, 200).listBundles(0)],
    [
      'a stalled download body',
      (_q, res) => {
        res.writeHead(200);
        res.write('[');
      },
      async (url) => drain(await exportClient(url, 200).downloadBundle(1)),
    ],
    [
      'a download body that breaks off',
      (req, res) => {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('[', () => req.socket.destroy());
      },
      async (url) => drain(await exportClient(url).downloadBundle(1)),
    ],
  ];

  it.each(scenarios)('%s', async (_name, handler, call) => {
    const err = await failure(handler, call);
    expect(err).toBeInstanceOf(Error);
    expectNoKey(err);
  });

  it('scrubs the key from a server message that echoes it', async () => {
    const err = (await failure(echoKey, (url) => apiClient(url).getJob('users', 'j'))) as Error;
    expect(err.message).toContain('you sent Basic [REDACTED]');
  });
});
