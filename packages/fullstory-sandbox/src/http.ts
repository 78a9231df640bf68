/**
 * Response plumbing shared by every route: JSON and error bodies, reading request bodies, and
 * the body-level faults (truncate, stall after N bytes) applied while a body is written.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringifyJson } from './json.js';
import type { ExportFaultAction, FaultRule, RequestLogEntry } from './types.js';

/** One request in flight. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  /** Log entry (undefined for control routes, which are not logged). */
  entry?: RequestLogEntry;
  /** A truncate / mid-body stall fault to apply to the body. */
  bodyFault?: { action: 'truncate' | 'stall'; rule: FaultRule };
  /** A fault the endpoint itself plays (an endpoint status, rejected or dropped batch items). */
  endpointFault?: { action: 'status' | 'reject_items' | 'drop_items'; rule: FaultRule };
  /** A fault for the Segment Export operation this request creates. */
  operationFault?: { action: 'fail' | 'pending'; rule: FaultRule };
  /** A fault of the Data Export answer itself, applied by its handler. */
  exportFault?: { action: ExportFaultAction; rule: FaultRule };
}

/** Thrown by handlers to answer `{code, message}` with a status. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Sends a status, headers and a body (Buffer or stream), honouring a body fault. */
export async function send(x: Exchange, status: number, headers: Record<string, string | number>, body?: Buffer | Readable): Promise<void> {
  if (x.entry) x.entry.status = status;
  const res = x.res;
  if (res.destroyed) return;
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (Buffer.isBuffer(body) && !res.hasHeader('content-length')) res.setHeader('content-length', body.length);
  if (body === undefined) {
    res.end();
    return;
  }
  if (x.bodyFault === undefined) {
    if (Buffer.isBuffer(body)) res.end(body);
    else await pipeline(body, res).catch(() => undefined); // client went away: nothing to do
    return;
  }
  await writeWithFault(x, body, x.bodyFault);
}

/** Writes a body chunk by chunk, cutting it (truncate) or pausing it (stall) after `after_bytes`. */
async function writeWithFault(x: Exchange, body: Buffer | Readable, fault: { action: 'truncate' | 'stall'; rule: FaultRule }): Promise<void> {
  const res = x.res;
  const limit = fault.rule.after_bytes ?? 0;
  let sent = 0;
  let fired = false;
  const chunks: Iterable<Buffer> | AsyncIterable<Buffer> = Buffer.isBuffer(body) ? [body] : body;
  try {
    for await (const chunk of chunks) {
      let buf = chunk;
      if (!fired && sent + buf.length >= limit) {
        const head = buf.subarray(0, limit - sent);
        await write(res, head);
        sent += head.length;
        fired = true;
        if (fault.action === 'truncate') {
          // Let the bytes reach the socket, then cut it: the client sees a body that ends early.
          await new Promise<void>((resolve) => setTimeout(resolve, 20).unref());
          res.socket?.destroy();
          res.destroy();
          return;
        }
        await delay(fault.rule.ms ?? 0);
        buf = buf.subarray(head.length);
      }
      if (res.destroyed) return;
      await write(res, buf);
      sent += buf.length;
    }
    if (!fired && fault.action === 'truncate') {
      // The whole body was shorter than after_bytes: still end the connection uncleanly.
      res.socket?.destroy();
      res.destroy();
      return;
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    if (!Buffer.isBuffer(body)) body.destroy();
  }
}

function write(res: ServerResponse, buf: Buffer): Promise<void> {
  if (buf.length === 0 || res.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const ok = res.write(buf, (err) => (err ? reject(err) : undefined));
    if (ok) resolve();
    else {
      const onDrain = (): void => { res.off('close', onClose); resolve(); };
      const onClose = (): void => { res.off('drain', onDrain); reject(new Error('closed')); };
      res.once('drain', onDrain);
      res.once('close', onClose);
    }
  });
}

/** Sends a JSON value (bigint-safe). */
export function sendJson(x: Exchange, status: number, value: unknown, headers: Record<string, string> = {}): Promise<void> {
  return send(x, status, { 'content-type': 'application/json', ...headers }, Buffer.from(stringifyJson(value), 'utf8'));
}

/** Sends FullStory's error body `{code, message}`. */
export function sendError(x: Exchange, status: number, code: string, message: string, headers: Record<string, string> = {}): Promise<void> {
  return sendJson(x, status, { code, message }, headers);
}

/** Reads the whole request body up to `limit` bytes (413 beyond). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, 'payload_too_large', `request body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Default `{code, message}` for a fault status without a body. */
export function defaultErrorBody(status: number): { code: string; message: string } {
  const codes: Record<number, [string, string]> = {
    400: ['invalid_argument', 'bad request'],
    401: ['unauthorized', 'unauthorized'],
    403: ['forbidden', 'insufficient permissions'],
    404: ['resource_not_found', 'not found'],
    408: ['request_timeout', 'request timeout'],
    429: ['too_many_requests', 'too many requests'],
    502: ['bad_gateway', 'bad gateway'],
    503: ['service_unavailable', 'service unavailable'],
    504: ['gateway_timeout', 'gateway timeout'],
  };
  const [code, message] = codes[status] ?? (status >= 500 ? ['server_error', 'internal server error'] : ['error', `status ${status}`]);
  return { code, message };
}
