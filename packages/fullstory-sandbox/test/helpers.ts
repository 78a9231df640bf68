// Small helpers shared by the sandbox tests: authenticated fetch and gunzip.
import { gunzipSync } from 'node:zlib';

export const KEY = 'sandbox-key';

/** fetch against the sandbox with `Authorization: Basic <key>` (unless `key` is null). */
export function call(base: string, path: string, init: RequestInit & { key?: string | null; json?: unknown } = {}): Promise<Response> {
  const { key = KEY, json, headers, ...rest } = init;
  const h: Record<string, string> = { ...(headers as Record<string, string> | undefined) };
  if (key !== null) h.authorization = `Basic ${key}`;
  let body = rest.body;
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    body = typeof json === 'string' ? json : JSON.stringify(json);
  }
  return fetch(base + path, { ...rest, headers: h, body });
}

/** POST JSON and return status + parsed body. */
export async function postJson(base: string, path: string, json: unknown, init: { key?: string | null; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await call(base, path, { method: 'POST', json, ...init });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

/** GET and return status + parsed body (undefined for an empty body). */
export async function getJson(base: string, path: string, init: { key?: string | null } = {}): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const res = await call(base, path, init);
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers, text };
}

/** Downloads a bundle and returns its JSON text (gunzipped when the body is gzip). */
export async function downloadText(base: string, id: number | bigint | string): Promise<{ status: number; text: string; headers: Headers; raw: Buffer }> {
  const res = await call(base, `/api/v1/export/get?id=${id}`);
  const raw = Buffer.from(await res.arrayBuffer());
  const gz = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  return { status: res.status, raw, headers: res.headers, text: (gz ? gunzipSync(raw) : raw).toString('utf8') };
}

/** Polls until `check` returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
