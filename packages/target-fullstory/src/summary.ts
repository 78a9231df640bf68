/**
 * The closing summary on stderr (target.md, "Command line"): records read, sent, imported, rejected,
 * and the dead-letter path — one log line, plus `INFO METRIC` counters for tools that scrape them.
 */

import type { Logger } from '@fullstory-singer/singer-core';

/** What a run did, as counts. */
export interface RunSummary {
  recordsRead: number;
  /** Records sent to FullStory in created jobs (or written to the dry-run file). */
  sent: number;
  imported: number;
  /** Records rejected by the target before sending (validation, mapping). */
  rejectedLocally: number;
  /** Records FullStory rejected in failed jobs. */
  rejectedByFullStory: number;
  /** Records of failed jobs FullStory neither imported nor listed as errors. */
  unaccounted: number;
  jobs: number;
  statesEmitted: number;
  propertyNamesRewritten: number;
  propertiesStringified: number;
  propertiesDropped: number;
  /** Dead-letter lines written this run. */
  deadLettered: number;
  deadLetterPath: string;
  dryRun: boolean;
}

/** Write the summary line and its metrics. */
export function logSummary(logger: Logger, s: RunSummary): void {
  logger.info(s.dryRun ? 'dry run finished (nothing was sent)' : 'finished', {
    records_read: s.recordsRead,
    sent: s.sent,
    imported: s.imported,
    rejected: s.rejectedLocally + s.rejectedByFullStory,
    rejected_by_target: s.rejectedLocally,
    rejected_by_fullstory: s.rejectedByFullStory,
    unaccounted: s.unaccounted || undefined,
    jobs: s.jobs,
    states_emitted: s.statesEmitted,
    property_names_rewritten: s.propertyNamesRewritten,
    properties_stringified: s.propertiesStringified,
    properties_dropped: s.propertiesDropped,
    dead_letter: s.deadLettered > 0 ? s.deadLetterPath : 'none',
  });
  logger.metric('counter', 'record_count', s.recordsRead, { status: 'read' });
  logger.metric('counter', 'record_count', s.imported, { status: 'imported' });
  logger.metric('counter', 'record_count', s.rejectedLocally + s.rejectedByFullStory, { status: 'rejected' });
  logger.metric('counter', 'batch_count', s.jobs, {});
}
