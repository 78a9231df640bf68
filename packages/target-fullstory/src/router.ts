/**
 * What each Singer message does, as a table of handlers by type, called by the read loop in input order:
 *
 * - SCHEMA: route the stream (config), compile its validator and mapper. A changed SCHEMA first seals
 *   the stream's open batch, so a batch never mixes records of two schemas.
 * - RECORD: validate, map, serialise the request and add it to the stream's batch; a full batch is
 *   handed to the scheduler, which resolves once it has started (at the jobs-in-flight cap this is the
 *   backpressure that stops reading). A rejected record goes to the dead-letter file.
 * - STATE: a batch boundary when the open batches are full enough (every open batch is sealed and
 *   handed on, batcher.ts), else skipped; remembered with its position and emitted, if a boundary, once
 *   every record before it is settled (checkpoints.ts).
 * - Anything else (ACTIVATE_VERSION, unknown types): logged once per type and skipped.
 *
 * A handler returns a promise only when there is something to wait for: the RECORD hot path stays synchronous.
 */

import {
  InputError,
  stringifyJson,
  type Logger,
  type OtherMessage,
  type RecordMessage,
  type SchemaMessage,
  type SingerMessage,
  type StateMessage,
} from '@fullstory-singer/singer-core';
import { emittable, type Checkpoints } from './checkpoints.js';
import type { DeadLetterFile } from './dead-letter.js';
import type { Batch } from './load/batch.js';
import type { Batcher } from './load/batcher.js';
import type { Rejection } from './rejection.js';
import type { StreamRegistry } from './streams.js';
import type { Tally } from './summary.js';

/** What the handlers act on; all passed in by the run. */
export interface RouterDeps {
  registry: StreamRegistry;
  batcher: Batcher;
  checkpoints: Checkpoints;
  tally: Tally;
  deadLetter: DeadLetterFile;
  /** Dead-letter one record and count it. */
  reject(stream: string, record: unknown, rejection: Omit<Rejection, 'ok'>): void;
  /** Hand a sealed batch on; resolves once it started (or the run stopped). */
  submit(batch: Batch): Promise<void>;
  /** Emit the newest state that is safe now. */
  emitStates(): Promise<void>;
  /** Called every 1024 records (progress on stderr). */
  progress(): void;
  logger: Logger;
  /** Named in input errors (`stdin`). */
  source: string;
}

/** Handles one message; `text` is its input line. */
type Handler = (message: SingerMessage | OtherMessage, line: number, text: string) => Promise<void> | void;

/** The handler of every message; see the module comment. */
export function createRouter(d: RouterDeps): Handler {
  const skipped = new Set<string>();

  const rejectLocally = (stream: string, record: unknown, rej: Rejection): Promise<void> | void => {
    d.reject(stream, record, rej);
    // A flood of rejections must not outgrow memory: wait for the file now and then.
    return d.deadLetter.full ? d.deadLetter.flush() : undefined;
  };

  const onRecord = (m: RecordMessage, line: number, text: string): Promise<void> | void => {
    const st = d.registry.get(m.stream);
    if (!st) throw new InputError(`${d.source}:${line}: RECORD for stream "${m.stream}" arrived before its SCHEMA`, { line, source: d.source });
    const record = m.record;
    const seq = d.checkpoints.nextSeq();
    d.tally.read(m.stream);
    if ((seq & 1023) === 0) d.progress();
    if (st.validate) {
      const rej = st.validate(record);
      if (rej) return rejectLocally(m.stream, record, rej);
    }
    const mapped = st.mapper.map(record);
    if (!mapped.ok) return rejectLocally(m.stream, record, mapped);
    const full = d.batcher.add(m.stream, st.route.kind, stringifyJson(mapped.request), text, seq, mapped.uid);
    return full ? d.submit(full) : undefined;
  };

  const onSchema = async (m: SchemaMessage, line: number): Promise<void> => {
    const next = d.registry.compile(m, line);
    if (!next) return;
    // The open batch was mapped under the old SCHEMA: seal it before the new one takes effect.
    const open = d.batcher.seal(m.stream, 'schema');
    if (open) await d.submit(open);
    d.registry.activate(m.stream, next);
  };

  const onState = async (m: StateMessage): Promise<void> => {
    // A state that can never be emitted is no reason to cut batches short.
    const sealed = emittable(m.value) ? d.batcher.atState() : undefined;
    d.checkpoints.addState(m.value, sealed !== undefined);
    for (const batch of sealed ?? []) await d.submit(batch);
    await d.emitStates();
  };

  const onOther = (m: SingerMessage | OtherMessage, line: number): void => {
    if (skipped.has(m.type)) return;
    skipped.add(m.type);
    d.logger.info('message type not used by this target; skipped', { type: m.type, line });
  };

  const handlers: Record<string, Handler> = {
    RECORD: (m, line, text) => onRecord(m as RecordMessage, line, text),
    SCHEMA: (m, line) => onSchema(m as SchemaMessage, line),
    STATE: (m) => onState(m as StateMessage),
  };
  return (m, line, text) => (handlers[m.type] ?? onOther)(m, line, text);
}
