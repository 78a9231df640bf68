/**
 * `/__sandbox/*` routes for tests and demos. They need no key, are not logged and never get faults.
 *
 * GET    /__sandbox/users | events | requests | jobs | stats | faults | bundles | segment-exports
 * POST   /__sandbox/faults   (one rule or an array)   DELETE /__sandbox/faults
 * POST   /__sandbox/bundles  (PublishSpec)            POST   /__sandbox/reset
 */
import { HttpError, readBody, sendError, sendJson, type Exchange } from './http.js';
import { parseJsonLossless } from './json.js';
import type { PublishSpec, Sandbox } from './types.js';

export class ControlRoutes {
  constructor(private readonly sandbox: Sandbox, private readonly maxBodyBytes: number) {}

  async handle(x: Exchange): Promise<void> {
    try {
      await this.route(x);
    } catch (err) {
      if (err instanceof HttpError) await sendError(x, err.status, err.code, err.message);
      else if (err instanceof Error) await sendError(x, 400, 'invalid_argument', err.message);
      else throw err;
    }
  }

  private async json(x: Exchange): Promise<unknown> {
    const text = (await readBody(x.req, this.maxBodyBytes)).toString('utf8');
    if (text.trim() === '') return undefined;
    try {
      return parseJsonLossless(text);
    } catch {
      throw new HttpError(400, 'invalid_argument', 'request body is not valid JSON');
    }
  }

  private async route(x: Exchange): Promise<void> {
    const s = this.sandbox;
    const name = x.path.slice('/__sandbox/'.length);
    const m = x.method;
    if (m === 'GET' && name === 'users') return sendJson(x, 200, s.users());
    if (m === 'GET' && name === 'events') return sendJson(x, 200, s.events());
    if (m === 'GET' && name === 'requests') return sendJson(x, 200, s.requests());
    if (m === 'GET' && name === 'stats') return sendJson(x, 200, s.stats());
    if (m === 'GET' && name === 'jobs') return sendJson(x, 200, s.jobs());
    if (m === 'GET' && name === 'bundles') return sendJson(x, 200, s.bundles());
    if (m === 'GET' && name === 'faults') return sendJson(x, 200, s.faults());
    if (m === 'GET' && name === 'segment-exports') return sendJson(x, 200, s.segmentExports());
    if (m === 'POST' && name === 'faults') {
      s.addFaults((await this.json(x)) as never);
      return sendJson(x, 200, s.faults());
    }
    if (m === 'DELETE' && name === 'faults') {
      s.clearFaults();
      return sendJson(x, 200, []);
    }
    if (m === 'POST' && name === 'reset') {
      x.req.resume();
      s.reset();
      return sendJson(x, 200, {});
    }
    if (m === 'POST' && name === 'bundles') {
      const spec = ((await this.json(x)) ?? {}) as PublishSpec;
      if (typeof spec !== 'object' || Array.isArray(spec)) throw new HttpError(400, 'invalid_argument', 'body must be a JSON object');
      return sendJson(x, 200, s.publishBundles(spec));
    }
    x.req.resume();
    throw new HttpError(404, 'resource_not_found', `no control route ${m} ${x.path}`);
  }
}
