/** FullStory's Server API v2 as a {@link BatchApi}: fullstory-client's `ServerApiClient`, reshaped. */

import { ServerApiClient, resolveHosts } from '@fullstory-singer/fullstory-client';
import type { Logger } from '@fullstory-singer/singer-core';
import type { TargetSettings } from '../config.js';
import type { BatchApi } from './batch-api.js';

/** The calls of `client` as a {@link BatchApi}. */
export function fullStoryApi(client: ServerApiClient): BatchApi {
  return {
    createBatch: (c, signal) => client.createBatch(c.kind, c.body, c.idempotencyKeys, { signal }),
    getJob: (kind, id, signal) => client.getJob(kind, id, { signal }),
    getJobErrors: (kind, id, token, signal) => client.getJobErrors(kind, id, token, { signal }),
    getJobImports: (kind, id, token, signal) => client.getJobImports(kind, id, token, { signal }),
  };
}

/** The client the settings describe; `onThrottle` hears every 429. */
export function connectFullStory(
  settings: TargetSettings,
  o: { userAgent: string; logger: Logger; onThrottle: (retryAfterMs: number) => void },
): BatchApi {
  const apiKey = settings.apiKey!;
  const baseUrl = resolveHosts({
    purpose: 'api',
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
  });
  return fullStoryApi(
    new ServerApiClient({
      apiKey,
      baseUrl,
      userAgent: settings.userAgent ?? o.userAgent,
      timeoutMs: settings.requestTimeoutSeconds * 1000,
      maxRetries: settings.maxRetries,
      logger: o.logger,
      onThrottle: o.onThrottle,
    }),
  );
}
