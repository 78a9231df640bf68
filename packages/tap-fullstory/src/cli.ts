/**
 * The `tap-fullstory` program (README "Usage"): parses flags, loads config, state and
 * catalog, then discovers or syncs. Streams, environment and clock are passed in, so tests can run
 * it in-process; `bin.ts` wires it to the real process.
 */
import {
  ConfigError,
  MessageWriter,
  ProgressReporter,
  aboutDocument,
  createCommand,
  parseArgs,
  readCatalogFile,
  readStateFile,
  resolveLogLevel,
} from '@fullstory-singer/singer-core';
import type { Catalog, CommonOptions, Logger, MainContext, Redactor } from '@fullstory-singer/singer-core';
import { ExportClient, SegmentExportClient, resolveHosts } from '@fullstory-singer/fullstory-client';
import type { ClientOptions } from '@fullstory-singer/fullstory-client';
import type { ProgressSink } from './body-records.js';
import { BundleSource } from './bundle-source.js';
import { checkDiscoveryConfig, loadTapConfig } from './config.js';
import { configSchema } from './config-schemas.js';
import type { TapConfig } from './config.js';
import { discoverCatalog, selectStreams } from './discovery.js';
import type { StreamSelection } from './discovery.js';
import { RecordWriter } from './record-writer.js';
import { syncWindows, type WindowSelection } from './segment-export/sync-windows.js';
import { bundleEvents } from './streams/events.js';
import type { BundleStreamDefinition } from './streams/types.js';
import { syncBundles } from './sync.js';
import { PACKAGE } from './version.js';

const DESCRIPTION = 'Singer tap for FullStory exports: events and individuals, from Segment Export or the legacy Data Export bundles';

/** Capabilities printed by `--about`. */
const CAPABILITIES = ['catalog', 'discover', 'state', 'about', 'properties'];

/** The process around the program. */
interface TapIo {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  /** Whether to draw a live progress line; default: whether the runner's logger writes to a terminal. */
  isTTY?: boolean;
  /** Aborted to stop gracefully (the first SIGINT or SIGTERM, see singer-core's installStopSignals). */
  signal?: AbortSignal;
}

interface TapOptions extends CommonOptions {
  state?: string;
  catalog?: string;
  properties?: string;
  discover?: boolean;
}

/** Runs the tap; returns the exit code (errors are thrown for the runner to report). */
export async function tapMain(ctx: MainContext, io: TapIo): Promise<number> {
  const { logger, redactor } = ctx;
  const command = createCommand({ name: PACKAGE.name, description: DESCRIPTION, version: PACKAGE.version, out: io.stdout })
    .option('-s, --state <file>', 'state file from a previous run')
    .option('--catalog <file>', 'catalog file (stream and field selection)')
    .option('-p, --properties <file>', 'legacy name of --catalog')
    .option('-d, --discover', 'print the catalog and exit');
  const opts = parseArgs<TapOptions>(command, io.argv);
  if (opts.logLevel !== undefined) logger.level = resolveLogLevel(opts.logLevel, io.env);

  if (opts.about) {
    const doc = aboutDocument(
      {
        name: PACKAGE.name,
        description: DESCRIPTION,
        version: PACKAGE.version,
        capabilities: CAPABILITIES,
        settingsSchema: configSchema(),
        envPrefix: 'TAP_FULLSTORY',
      },
      opts.format,
    );
    await writeText(io.stdout, doc.endsWith('\n') ? doc : `${doc}\n`);
    return 0;
  }
  if (opts.catalog !== undefined && opts.properties !== undefined) {
    throw new ConfigError('give --catalog or --properties, not both');
  }
  if (opts.discover && (opts.state !== undefined || opts.catalog !== undefined || opts.properties !== undefined)) {
    throw new ConfigError('--discover takes no --state, --catalog or --properties');
  }

  if (opts.discover) {
    // The catalog is the same for every account: no key is needed, but given settings are still checked.
    const source = await checkDiscoveryConfig(opts.config, io.env, redactor, logger);
    const writer = new MessageWriter(io.stdout);
    await writer.writeJson(discoverCatalog(source));
    await writer.end();
    return 0;
  }

  const config = await loadTapConfig(opts.config, io.env, redactor, logger);
  if (config.ignoredSettings.length > 0) {
    logger.warn(`source is ${config.source}: ignoring ${config.ignoredSettings.join(', ')} (read only by the other source)`);
  }
  const writer = new MessageWriter(io.stdout);
  const stateFile = opts.state;
  const state = stateFile !== undefined ? await readState(stateFile, logger) : {};
  const catalogFile = opts.catalog ?? opts.properties;
  const catalog: Catalog | undefined = catalogFile !== undefined ? await readCatalogFile(catalogFile) : undefined;
  const run: SourceRun = {
    config,
    // Resolved before anything runs: a bad base_url is a config error (exit 2), said first.
    baseUrl: resolveHosts({
      purpose: config.source === 'data_export' ? 'export' : 'api',
      ...(config.region ? { region: config.region } : {}),
      ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
    }),
    logger,
    redactor,
    writer: new RecordWriter(writer),
    progress: new ProgressReporter({ logger, ...(io.isTTY !== undefined ? { isTTY: io.isTTY } : {}) }),
    state,
    ...(stateFile !== undefined ? { stateSource: stateFile } : {}),
    selections: selectStreams(config.source, catalog),
    userAgent: config.userAgent ?? `${PACKAGE.name}/${PACKAGE.version}`,
    ...(io.signal ? { signal: io.signal } : {}),
  };
  logger.info('starting sync', {
    source: config.source,
    base_url: run.baseUrl,
    start_date: config.startDate,
    end_date: config.endDate,
    state: stateFile,
    catalog: catalogFile,
  });
  await (config.source === 'data_export' ? runDataExport(run) : runSegmentExport(run));
  await writer.end();
  return 0;
}

/** What both sources' runs share. */
interface SourceRun {
  config: TapConfig;
  /** The export host (data_export) or API host (segment_export). */
  baseUrl: string;
  logger: Logger;
  redactor: Redactor;
  writer: RecordWriter;
  progress: ProgressSink;
  state: Record<string, unknown>;
  stateSource?: string;
  selections: StreamSelection[];
  userAgent: string;
  signal?: AbortSignal;
}

/** The settings both FullStory clients take. */
function clientOptions(run: SourceRun): ClientOptions {
  return {
    apiKey: run.config.apiKey,
    baseUrl: run.baseUrl,
    userAgent: run.userAgent,
    timeoutMs: run.config.requestTimeoutSeconds * 1000,
    maxRetries: run.config.maxRetries,
    logger: run.logger,
  };
}

/** `source: data_export`: the `events` stream from Data Export bundles. */
async function runDataExport(run: SourceRun): Promise<void> {
  const { config, logger } = run;
  const client = new ExportClient(clientOptions(run));
  const source = new BundleSource({
    client,
    downloadsPerMinute: config.downloadsPerMinute,
    onWait: (ms) => {
      // A paced wait is otherwise a silent minute at the default of 2 downloads a minute.
      if (ms >= 1000) logger.info(`next download in ${Math.round(ms / 1000)} s: downloads_per_minute=${config.downloadsPerMinute}`);
    },
  });
  const summary = await syncBundles({
    source,
    writer: run.writer,
    logger,
    progress: run.progress,
    state: run.state,
    ...(run.stateSource !== undefined ? { stateSource: run.stateSource } : {}),
    stream: bundleEvents,
    selection: run.selections.find((s): s is StreamSelection<BundleStreamDefinition> => s.stream === bundleEvents),
    startDate: config.startDate,
    ...(config.endDate !== undefined ? { endDate: config.endDate } : {}),
    stateEveryRecords: config.stateEveryRecords,
    maxRetries: config.maxRetries,
    ...(run.signal ? { signal: run.signal } : {}),
  });
  logger.info('sync complete', {
    bundles: summary.bundles,
    records: summary.records,
    mb: (summary.bytes / 1e6).toFixed(1),
    downloads: source.downloads,
  });
}

/** `source: segment_export`: the selected streams from Segment Exports, window by window. */
async function runSegmentExport(run: SourceRun): Promise<void> {
  const { config, logger } = run;
  const settings = config.segmentExport;
  // Each download location is a secret while it is valid: no log line may show it.
  const client = new SegmentExportClient({ ...clientOptions(run), secrets: run.redactor });
  logger.info('reading Segment Exports', {
    segment_id: settings.segmentId,
    export_window_seconds: settings.windowSeconds,
    export_delay_seconds: settings.delaySeconds,
  });
  const summary = await syncWindows({
    client,
    writer: run.writer,
    logger,
    progress: run.progress,
    state: run.state,
    ...(run.stateSource !== undefined ? { stateSource: run.stateSource } : {}),
    streams: run.selections.filter((s): s is WindowSelection => s.stream.source === 'segment_export'),
    segmentId: settings.segmentId,
    windowSeconds: settings.windowSeconds,
    delaySeconds: settings.delaySeconds,
    pollIntervalMs: settings.pollIntervalSeconds * 1000,
    exportTimeoutMs: settings.timeoutSeconds * 1000,
    startDate: config.startDate,
    ...(config.endDate !== undefined ? { endDate: config.endDate } : {}),
    stateEveryRecords: config.stateEveryRecords,
    maxRetries: config.maxRetries,
    ...(run.signal ? { signal: run.signal } : {}),
  });
  logger.info('sync complete', { windows: summary.windows, records: summary.records, mb: (summary.bytes / 1e6).toFixed(1) });
}

/**
 * Reads the `--state` file. A file holding a whole STATE message (`{"type":"STATE","value":{...}}`,
 * e.g. the tap's last stdout line saved as is) is unwrapped to its value, with one INFO line.
 */
async function readState(file: string, logger: Logger): Promise<Record<string, unknown>> {
  const doc = await readStateFile(file);
  const value = doc['value'];
  if (doc['type'] === 'STATE' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    logger.info(`state file ${file} holds a whole STATE message; reading its "value"`);
    return value as Record<string, unknown>;
  }
  return doc;
}

function writeText(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(text, (err?: Error | null) => (err ? reject(err) : resolve()));
  });
}
