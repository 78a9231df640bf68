/**
 * Routing: which data type, mapping and property filter apply to a stream (target.md, "Config"). A
 * stream named in `streams` uses its entry (its `data_type`, else the top-level one); any other stream
 * uses the top-level `data_type`. A stream with neither is a config error at its SCHEMA message.
 */

import { ConfigError } from '@fullstory-singer/singer-core';
import type { StreamSettings, TargetSettings } from './config.js';
import type { DataType } from './mapping.js';
import { rewritePropertyName, snakeCase } from './property-names.js';

/** Everything the target needs to load one stream. */
export interface StreamRoute {
  stream: string;
  dataType: DataType;
  /** FullStory batch endpoint family. */
  kind: 'users' | 'events';
  settings: StreamSettings;
  /** Audience streams: the membership property (FullStory-safe) and mode. */
  audience?: { name: string; property: string; mode: 'add' | 'upsert' };
}

/**
 * Resolve a stream's route.
 * @throws ConfigError naming the stream when it has no data type, or an audience stream lacks
 *   `audience_name`.
 */
export function routeStream(settings: TargetSettings, stream: string): StreamRoute {
  const own = Object.prototype.hasOwnProperty.call(settings.streams, stream) ? settings.streams[stream] : undefined;
  const dataType = own?.dataType ?? settings.dataType;
  if (!dataType) {
    throw new ConfigError(
      `stream "${stream}": no data type — add streams.${JSON.stringify(stream)}.data_type or a top-level data_type (users, events or audience)`,
    );
  }
  const streamSettings: StreamSettings = own ?? { audienceMode: 'add' };
  const route: StreamRoute = { stream, dataType, kind: dataType === 'events' ? 'events' : 'users', settings: streamSettings };
  if (dataType === 'audience') {
    const name = streamSettings.audienceName;
    if (!name) {
      throw new ConfigError(`streams.${stream}.audience_name: required for data_type "audience"`);
    }
    const property = rewritePropertyName(streamSettings.audienceProperty ?? (snakeCase(name) || 'audience'));
    route.audience = { name, property, mode: streamSettings.audienceMode };
  }
  return route;
}
