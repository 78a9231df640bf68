/**
 * The dry-run sink: batches are mapped, validated and formed exactly as in a real run, but nothing is
 * sent. With `dry_run_path` each batch's request body is written there as one JSON line
 * `{"stream", "endpoint", "idempotency_key", "body": {"requests": [...]}}`. No state is emitted in a dry
 * run, since nothing was imported.
 */

import { createWriteStream, type WriteStream } from 'node:fs';
import { ConfigError, stringifyJson } from '@fullstory-singer/singer-core';
import type { Batch } from './batcher.js';

/** Stands in for the job pipeline when `dry_run` is set. */
export class DryRunSink {
  private out?: WriteStream;
  private error?: Error;
  /** Requests "sent" (written or counted). */
  sent = 0;
  batches = 0;

  constructor(private readonly path: string | undefined) {}

  /** Record one batch (and write its body when a path is set). */
  async submit(batch: Batch): Promise<void> {
    this.batches++;
    this.sent += batch.requests.length;
    if (!this.path) return;
    if (!this.out) {
      this.out = createWriteStream(this.path, { flags: 'w' });
      this.out.on('error', (err) => {
        this.error = err;
        this.out?.emit('drain');
      });
    }
    if (this.error) throw this.failure();
    const line = stringifyJson({
      stream: batch.stream,
      endpoint: `/v2/${batch.kind}/batch`,
      idempotency_key: batch.idempotencyKey,
      body: { requests: batch.requests },
    });
    if (!this.out.write(`${line}\n`)) await new Promise<void>((res) => this.out!.once('drain', res));
  }

  /** Close the file. */
  async drain(): Promise<void> {
    const out = this.out;
    if (out) await new Promise<void>((res) => out.end(res));
    if (this.error) throw this.failure();
  }

  private failure(): ConfigError {
    return new ConfigError(`dry_run_path: cannot write "${this.path}": ${this.error?.message ?? 'unknown error'}`);
  }
}
