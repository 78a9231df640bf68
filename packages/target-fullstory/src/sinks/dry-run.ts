/**
 * The dry run as a {@link BatchApi}: batches are mapped, validated, formed and scheduled exactly as in
 * a real run, but nothing is sent. Each create answers a job that is already COMPLETED (with no
 * errors, so all its requests count as imported); with `dry_run_path` its request body is written
 * there as one JSON line `{"stream", "endpoint", "idempotency_key", "body": {"requests": [...]}}`.
 */

import type { LineFile } from '../line-file.js';
import type { BatchApi } from './batch-api.js';

/** A dry-run sink; `bodies` is the open `dry_run_path` file, if any. */
export function dryRunApi(bodies: LineFile | undefined): BatchApi {
  let n = 0;
  return {
    async createBatch(c) {
      bodies?.append(
        `{"stream":${JSON.stringify(c.stream)},"endpoint":"/v2/${c.kind}/batch","idempotency_key":${JSON.stringify(c.idempotencyKeys(0))},"body":${c.body.toString('utf8')}}`,
      );
      if (bodies && bodies.buffered > 1024 * 1024) await bodies.flush();
      return { id: `dry-run-${++n}`, status: 'COMPLETED' };
    },
    async getJob(_kind, id) {
      return { id, status: 'COMPLETED' };
    },
    async getJobErrors() {
      return { results: [] };
    },
    async getJobImports() {
      return { results: [] };
    },
  };
}
