/**
 * The streams the target knows: for each, what its latest SCHEMA compiled to — the route (data type,
 * batch endpoint, settings), the record validator and the mapper.
 *
 * Routing: a stream named in `streams` uses its entry (its `data_type`, else the top-level one); any
 * other stream uses the top-level `data_type`. A stream with neither is a config error at its SCHEMA
 * message. A SCHEMA must have `properties` and compile; a repeated identical SCHEMA changes nothing.
 */

import { ConfigError, InputError, stringifyJson, type Logger, type SchemaMessage } from '@fullstory-singer/singer-core';
import type { StreamSettings, TargetSettings } from './config.js';
import type { BatchKind } from './load/batch.js';
import { compileMapper, type DataType, type RecordMapper } from './mapping/mapper.js';
import { rewritePropertyName, snakeCase, type PropertyNamer } from './mapping/names.js';
import { compileValidator, type RecordValidator } from './mapping/validation.js';

/** Everything the target needs to load one stream. */
interface StreamRoute {
  dataType: DataType;
  /** FullStory batch endpoint family: audiences are users requests. */
  kind: BatchKind;
  settings: StreamSettings;
  /** Audience streams: the membership property (FullStory-safe) and mode. */
  audience?: { name: string; property: string; mode: 'add' | 'upsert' };
}

/** What one SCHEMA compiled to. */
interface StreamState {
  route: StreamRoute;
  mapper: RecordMapper;
  /** Absent when `validate_records` is false. */
  validate?: RecordValidator;
  /** Serialised schema + key properties, to tell a changed SCHEMA from a repeated one. */
  signature: string;
}

/**
 * Resolve a stream's route.
 * @throws ConfigError naming the stream when it has no data type, or an audience stream lacks `audience_name`.
 */
export function routeStream(settings: TargetSettings, stream: string): StreamRoute {
  const own = Object.hasOwn(settings.streams, stream) ? settings.streams[stream] : undefined;
  const dataType = own?.dataType ?? settings.dataType;
  if (!dataType) {
    throw new ConfigError(
      `stream "${stream}": no data type — add streams.${JSON.stringify(stream)}.data_type or a top-level data_type (users, events or audience)`,
    );
  }
  const streamSettings: StreamSettings = own ?? {};
  const route: StreamRoute = { dataType, kind: dataType === 'events' ? 'events' : 'users', settings: streamSettings };
  if (dataType === 'audience') {
    const name = streamSettings.audienceName;
    if (!name) throw new ConfigError(`streams.${stream}.audience_name: required for data_type "audience"`);
    const property = rewritePropertyName(streamSettings.audienceProperty ?? (snakeCase(name) || 'audience'));
    // An audience stream has a `streams` entry (it names the audience), whose `audience_mode` the
    // JSON Schema's default always fills.
    route.audience = { name, property, mode: streamSettings.audienceMode! };
  }
  return route;
}

/** Options of {@link StreamRegistry}. */
interface StreamRegistryOptions {
  settings: TargetSettings;
  namer: PropertyNamer;
  logger: Logger;
  /** Named in input errors (`stdin`). */
  source: string;
}

/** Compiles SCHEMA messages and keeps the current state of every stream. */
export class StreamRegistry {
  private readonly streams = new Map<string, StreamState>();
  // Property counts of mappers replaced by a newer SCHEMA.
  private readonly retired = { stringified: 0, dropped: 0 };

  constructor(private readonly o: StreamRegistryOptions) {}

  /** The stream's current state, if a SCHEMA was seen. */
  get(stream: string): StreamState | undefined {
    return this.streams.get(stream);
  }

  /**
   * Compile a SCHEMA. Returns `undefined` when it repeats the stream's current one (nothing changes);
   * otherwise the new state, to {@link activate} once the stream's open batch is sealed.
   * @throws InputError naming the line for a SCHEMA without `properties` or one ajv cannot compile;
   *   ConfigError when the stream has no data type.
   */
  compile(message: SchemaMessage, line: number): StreamState | undefined {
    const { stream, schema } = message;
    const { settings, source } = this.o;
    const props = schema['properties'];
    if (props === null || typeof props !== 'object' || Array.isArray(props)) {
      throw new InputError(`${source}:${line}: SCHEMA for stream "${stream}" has no "properties"`, { line, source });
    }
    const signature = stringifyJson([schema, message.key_properties]);
    if (this.streams.get(stream)?.signature === signature) return undefined;
    const route = routeStream(settings, stream);
    let validate: RecordValidator | undefined;
    if (settings.validateRecords) {
      try {
        validate = compileValidator(schema);
      } catch (err) {
        throw new InputError(`${source}:${line}: SCHEMA for stream "${stream}" is not a valid JSON Schema (${(err as Error).message})`, {
          line,
          source,
          cause: err,
        });
      }
    }
    const mapper = compileMapper({
      stream,
      dataType: route.dataType,
      ...(route.settings.mapping ? { mapping: route.settings.mapping } : {}),
      ...(route.settings.properties ? { properties: route.settings.properties } : {}),
      ...(route.audience ? { audience: { property: route.audience.property, mode: route.audience.mode } } : {}),
      declarePropertyTypes: settings.declarePropertyTypes,
      schema,
      namer: this.o.namer,
      onPropertyIssue: (issue, path) => this.o.logger.warn(`property not sent as is: ${issue.replace(/_/g, ' ')}`, { stream, property: path }),
    });
    return { route, mapper, ...(validate ? { validate } : {}), signature };
  }

  /** Make `state` the stream's current one. */
  activate(stream: string, state: StreamState): void {
    const old = this.streams.get(stream);
    if (old) {
      this.retired.stringified += old.mapper.counts.stringified;
      this.retired.dropped += old.mapper.counts.dropped;
    }
    this.streams.set(stream, state);
    this.o.logger.debug('stream ready', { stream, data_type: state.route.dataType });
  }

  /** Properties stringified / dropped so far, over every mapper of the run. */
  propertyCounts(): { stringified: number; dropped: number } {
    const out = { ...this.retired };
    for (const s of this.streams.values()) {
      out.stringified += s.mapper.counts.stringified;
      out.dropped += s.mapper.counts.dropped;
    }
    return out;
  }
}
