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
import type { Catalog, CommonOptions, Logger, MainContext } from '@fullstory-singer/singer-core';
import { ExportClient, resolveHosts } from '@fullstory-singer/fullstory-client';
import { BundleSource } from './bundle-source.js';
import { checkDiscoveryConfig, configSchema, loadTapConfig } from './config.js';
import { discoverCatalog, resolveSelection } from './discovery.js';
import { RecordWriter } from './record-writer.js';
import { syncEvents } from './sync.js';
import { PACKAGE } from './version.js';

const DESCRIPTION = 'Singer tap for FullStory Data Export bundles (events)';

/** Capabilities printed by `--about`. */
export const CAPABILITIES = ['catalog', 'discover', 'state', 'about', 'properties'];

/** The process around the program. */
export interface TapIo {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Whether stderr is a terminal (live progress line); default from `stderr.isTTY`. */
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
    await checkDiscoveryConfig(opts.config, io.env, redactor, logger);
    const writer = new MessageWriter(io.stdout);
    await writer.writeJson(discoverCatalog());
    await writer.end();
    return 0;
  }

  const config = await loadTapConfig(opts.config, io.env, redactor);
  const writer = new MessageWriter(io.stdout);
  const stateFile = opts.state;
  const state = stateFile !== undefined ? await readState(stateFile, logger) : {};
  const catalogFile = opts.catalog ?? opts.properties;
  const catalog: Catalog | undefined = catalogFile !== undefined ? await readCatalogFile(catalogFile) : undefined;
  const selection = resolveSelection(catalog);

  const baseUrl = resolveHosts({
    purpose: 'export',
    ...(config.region ? { region: config.region } : {}),
    ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
  });
  const client = new ExportClient({
    apiKey: config.apiKey,
    baseUrl,
    userAgent: config.userAgent ?? `${PACKAGE.name}/${PACKAGE.version}`,
    timeoutMs: config.requestTimeoutSeconds * 1000,
    maxRetries: config.maxRetries,
    logger,
  });
  const source = new BundleSource({
    client,
    downloadsPerMinute: config.downloadsPerMinute,
    onWait: (ms) => {
      // A paced wait is otherwise a silent minute at the default of 2 downloads a minute.
      if (ms >= 1000) logger.info(`next download in ${Math.round(ms / 1000)} s: downloads_per_minute=${config.downloadsPerMinute}`);
    },
  });
  const progress = new ProgressReporter({ logger, ...(io.isTTY !== undefined ? { isTTY: io.isTTY } : {}) });
  logger.info('starting sync', {
    base_url: baseUrl,
    start_date: config.startDate,
    end_date: config.endDate,
    state: stateFile,
    catalog: catalogFile,
  });
  const summary = await syncEvents({
    source,
    writer: new RecordWriter(writer),
    logger,
    progress,
    state,
    ...(stateFile !== undefined ? { stateSource: stateFile } : {}),
    startDate: config.startDate,
    ...(config.endDate !== undefined ? { endDate: config.endDate } : {}),
    stateEveryRecords: config.stateEveryRecords,
    maxRetries: config.maxRetries,
    selected: selection.selected,
    schema: selection.schema,
    dropFields: selection.dropFields,
    ...(io.signal ? { signal: io.signal } : {}),
  });
  await writer.end();
  logger.info('sync complete', {
    bundles: summary.bundles,
    records: summary.records,
    mb: (summary.bytes / 1e6).toFixed(1),
    downloads: source.downloads,
  });
  return 0;
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
