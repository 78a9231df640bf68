/**
 * What a run did, counted as it happens ({@link Tally}), and the closing report on stderr: one summary
 * line (records read, imported, rejected, unsettled, the dead-letter path) with `INFO METRIC` counters,
 * and, whenever anything was rejected, a WARNING with the rejected count by code and the dead-letter
 * path — printed at `--log-level warn` too — and a hint when every record of a stream failed the same way.
 *
 * The figures add up: records read = imported + rejected + unsettled, where unsettled records are those
 * a stopped run neither imported nor dead-lettered (they come after the last state printed).
 */

import type { Logger } from '@fullstory-singer/singer-core';
import type { Rejection, RejectionReason } from './rejection.js';

interface StreamTally {
  read: number;
  rejected: number;
  /** Rejections by code, with the first one's message and record fields (for a hint). */
  codes: Map<string, { count: number; reason: RejectionReason; message: string; fields: string[] }>;
}

/** Most codes remembered per stream (codes come from FullStory and schemas: bounded). */
const MAX_CODES = 50;

/** Running counts of a run. */
export class Tally {
  imported = 0;
  rejectedByTarget = 0;
  rejectedByFullStory = 0;
  unaccounted = 0;
  /** FullStory error items that matched no record (written with `record: null`). */
  unmatchedErrors = 0;
  jobs = 0;
  /** Requests sent in created jobs. */
  sent = 0;
  private readonly streams = new Map<string, StreamTally>();
  private readonly byCode = new Map<string, number>();

  /** A record of `stream` was read. */
  read(stream: string): void {
    this.stream(stream).read++;
  }

  /** A record was rejected (its dead-letter line is written by the caller). `record` null: an unmatched error item. */
  rejected(stream: string, record: unknown, r: Omit<Rejection, 'ok'>): void {
    if (record === null) {
      this.unmatchedErrors++;
      return;
    }
    if (r.reason === 'rejected_by_fullstory') this.rejectedByFullStory++;
    else if (r.reason === 'unaccounted') this.unaccounted++;
    else this.rejectedByTarget++;
    this.byCode.set(r.code, (this.byCode.get(r.code) ?? 0) + 1);
    const s = this.stream(stream);
    s.rejected++;
    const seen = s.codes.get(r.code);
    if (seen) seen.count++;
    else if (s.codes.size < MAX_CODES) {
      const fields = record !== null && typeof record === 'object' ? Object.keys(record).slice(0, 50) : [];
      s.codes.set(r.code, { count: 1, reason: r.reason, message: r.message, fields });
    }
  }

  /** Records dead-lettered (not counting unmatched error items). */
  get rejectedTotal(): number {
    return this.rejectedByTarget + this.rejectedByFullStory + this.unaccounted;
  }

  /** Rejected records by code, most frequent first. */
  codes(): Array<[string, number]> {
    return [...this.byCode].sort((a, b) => b[1] - a[1]);
  }

  /** Hints for streams whose every record was rejected with one code. */
  hints(): string[] {
    const out: string[] = [];
    for (const [stream, s] of this.streams) {
      if (s.read === 0 || s.rejected !== s.read || s.codes.size !== 1) continue;
      const [code, first] = [...s.codes][0]!;
      out.push(hint(stream, code, first));
    }
    return out;
  }

  private stream(name: string): StreamTally {
    let s = this.streams.get(name);
    if (!s) this.streams.set(name, (s = { read: 0, rejected: 0, codes: new Map() }));
    return s;
  }
}

/** What a run did, as counts. */
export interface RunSummary {
  recordsRead: number;
  /** Records sent to FullStory in created jobs (a dry run: in the jobs it would have created). */
  sent: number;
  imported: number;
  /** Records dead-lettered: by the target, by FullStory, and unaccounted for. */
  rejected: number;
  rejectedByTarget: number;
  rejectedByFullStory: number;
  unaccounted: number;
  /** Records neither imported nor dead-lettered: the run stopped before they settled. */
  unsettled: number;
  unmatchedErrors: number;
  jobs: number;
  statesEmitted: number;
  propertyNamesRewritten: number;
  propertiesStringified: number;
  propertiesDropped: number;
  deadLetterPath: string;
  dryRun: boolean;
}

/** Write the summary line, its metrics, and the warnings about rejected and unsettled records. */
export function logSummary(logger: Logger, s: RunSummary, tally: Tally): void {
  logger.info(s.dryRun ? 'dry run finished (nothing was sent)' : 'finished', {
    records_read: s.recordsRead,
    sent: s.sent,
    imported: s.imported,
    rejected: s.rejected,
    rejected_by_target: s.rejectedByTarget,
    rejected_by_fullstory: s.rejectedByFullStory,
    unaccounted: s.unaccounted || undefined,
    unsettled: s.unsettled || undefined,
    unmatched_errors: s.unmatchedErrors || undefined,
    jobs: s.jobs,
    states_emitted: s.statesEmitted,
    property_names_rewritten: s.propertyNamesRewritten,
    properties_stringified: s.propertiesStringified,
    properties_dropped: s.propertiesDropped,
    dead_letter: s.rejected + s.unmatchedErrors > 0 ? s.deadLetterPath : 'none',
  });
  logger.metric('counter', 'record_count', s.recordsRead, { status: 'read' });
  logger.metric('counter', 'record_count', s.imported, { status: 'imported' });
  logger.metric('counter', 'record_count', s.rejected, { status: 'rejected' });
  logger.metric('counter', 'batch_count', s.jobs, {});
  if (s.rejected > 0) {
    const codes = tally
      .codes()
      .map(([code, n]) => `${code}:${n}`)
      .join(',');
    logger.warn(`${s.rejected} of ${s.recordsRead} record(s) rejected; see ${s.deadLetterPath}`, { by_code: codes });
    for (const h of tally.hints()) logger.warn(`hint: ${h}`);
  }
  if (s.unsettled > 0) {
    logger.warn(`${s.unsettled} record(s) read were neither imported nor rejected before the run stopped; they come after the last state printed, so a run from it sends them again`);
  }
}

/** Candidate record fields for a missing mapped field. */
const CANDIDATES: Record<string, RegExp> = {
  uid: /^(id|user_?id|userid|uuid|customer_?id|account_?id|contact_?id|person_?id|external_?id|email)$/i,
  event_name: /^(event|event_?name|event_?type|type|name|action)$/i,
};

function hint(stream: string, code: string, first: { reason: RejectionReason; message: string; fields: string[] }): string {
  const all = `every record of stream "${stream}" was rejected`;
  if (code === 'required_field') {
    const field = first.message.startsWith('event name') ? 'event_name' : 'uid';
    const found = first.fields.find((f) => CANDIDATES[field]!.test(f));
    const setting = `streams.${/^[A-Za-z_]\w*$/.test(stream) ? stream : JSON.stringify(stream)}.mapping.${field}`;
    return found !== undefined
      ? `${all} for a missing ${field} (${first.message}); records have "${found}": set ${setting} to "${found}"`
      : `${all} for a missing ${field} (${first.message}); set ${setting} to the record field that holds it (fields: ${first.fields.slice(0, 10).join(', ')})`;
  }
  if (code === 'job_results_forbidden') return `${all} as ${code}: the API key may not read job results; an Admin or Architect key lets the target tell which records FullStory rejected`;
  if (first.reason === 'schema_validation') return `${all}: they fail the stream's SCHEMA (${code}: ${first.message}); fix the schema or the records upstream, or set validate_records to false`;
  return `${all} with ${code}: ${first.message}`;
}
