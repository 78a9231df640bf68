// Test doubles for the client's injected dependencies: a sleep that records instead of waiting, and
// a logger that records lines and metrics instead of writing to stderr.
import type { Logger } from '@fullstory-singer/singer-core';
import type { ClientOptions } from '../../src/options.js';

/** A key shaped like a real one; tests check it never shows up in an error. */
export const TEST_KEY = 'na1.S3cr3tTestKeyDoNotLeak/ABCD';

export interface RecordedLog {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields?: object;
}

export interface RecordedMetric {
  type: 'counter' | 'timer';
  metric: string;
  value: number;
  tags?: Record<string, unknown>;
}

export function recordingLogger(): Logger & { lines: RecordedLog[]; metrics: RecordedMetric[] } {
  const lines: RecordedLog[] = [];
  const metrics: RecordedMetric[] = [];
  const at =
    (level: RecordedLog['level']) =>
    (msg: string, fields?: object): void => {
      lines.push({ level, msg, fields });
    };
  return {
    lines,
    metrics,
    level: 'debug',
    enabled: () => true,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    metric: (type, metric, value, tags) => {
      metrics.push({ type, metric, value, tags });
    },
  };
}

/** Client options aimed at `baseUrl`, with a sleep that records delays and returns at once. */
export function testOptions(baseUrl: string, overrides: Partial<ClientOptions> = {}): ClientOptions & { delays: number[] } {
  const delays: number[] = [];
  return {
    apiKey: TEST_KEY,
    baseUrl,
    userAgent: 'fullstory-client-test/1.0',
    timeoutMs: 5000,
    maxRetries: 3,
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    now: () => Date.parse('2026-01-01T00:00:00Z'),
    ...overrides,
    delays,
  };
}
