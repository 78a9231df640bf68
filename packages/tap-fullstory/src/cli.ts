/**
 * The `tap-fullstory` program (spec/tap.md "Command line"): parses flags, loads config, state and
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
import type { Catalog, CommonOptions, MainContext } from '@fullstory-singer/singer-core';
import { ExportClient, resolveHosts } from '@fullstory-singer/fullstory-client';
import { BundleSource } from './bundle-source.js';
import { configSchema, loadTapConfig } from './config.js';
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

  const config = await loadTapConfig(opts.config, io.env, redactor, logger);
  const writer = new MessageWriter(io.stdout);

  if (opts.discover) {
    await writer.writeJson(discoverCatalog());
    await writer.end();
    return 0;
  }

  const stateFile = opts.state;
  const state = stateFile !== undefined ? await readStateFile(stateFile) : {};
  const catalogFile = opts.catalog ?? opts.properties;
  const catalog: Catalog | undefined = catalogFile !== undefined ? await readCatalogFile(catalogFile) : undefined;
  const selection = resolveSelection(catalog);

  const baseUrl = resolveHosts({
    apiKey: config.apiKey,
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
  const source = new BundleSource({ client, downloadsPerMinute: config.downloadsPerMinute });
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

function writeText(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(text, (err?: Error | null) => (err ? reject(err) : resolve()));
  });
}
