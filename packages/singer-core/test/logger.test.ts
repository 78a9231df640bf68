import { describe, expect, it } from '@jest/globals';
import { ConfigError, createLogger, Redactor, resolveLogLevel } from '@fullstory-singer/singer-core';
import { MemoryWritable } from '@fullstory-singer/singer-core/testing';

describe('createLogger', () => {
  it('writes `LEVEL message key=value` lines', () => {
    const out = new MemoryWritable();
    const log = createLogger({ out, level: 'debug' });
    log.debug('starting', { stream: 'events', n: 3, ok: true, none: undefined, big: 9007199254740993n });
    log.info('with spaces', { path: '/tmp/a b', obj: { a: 1 } });
    log.warn('careful');
    log.error('failed', { err: new Error('boom "x"') });
    expect(out.lines()).toEqual([
      'DEBUG starting stream=events n=3 ok=true big=9007199254740993',
      'INFO with spaces path="/tmp/a b" obj={"a":1}',
      'WARNING careful',
      'ERROR failed err="boom \\"x\\""',
    ]);
  });

  it('filters by level, and the level can change after creation', () => {
    const out = new MemoryWritable();
    const log = createLogger({ out, level: 'warn' });
    log.info('hidden');
    log.metric('counter', 'record_count', 1);
    log.warn('shown');
    log.level = 'debug';
    log.debug('now shown');
    log.level = 'silent';
    log.error('hidden too');
    expect(out.lines()).toEqual(['WARNING shown', 'DEBUG now shown']);
    expect(log.enabled('error')).toBe(false);
  });

  it("writes metrics in singer-python's INFO METRIC format", () => {
    const out = new MemoryWritable();
    const log = createLogger({ out });
    log.metric('counter', 'record_count', 100, { endpoint: 'events' });
    log.metric('timer', 'http_request_duration', 1.23, { endpoint: 'export/list', http_status_code: 200, status: 'succeeded' });
    log.metric('counter', 'batch_count', 2);
    expect(out.lines()).toEqual([
      'INFO METRIC: {"type":"counter","metric":"record_count","value":100,"tags":{"endpoint":"events"}}',
      'INFO METRIC: {"type":"timer","metric":"http_request_duration","value":1.23,"tags":{"endpoint":"export/list","http_status_code":200,"status":"succeeded"}}',
      'INFO METRIC: {"type":"counter","metric":"batch_count","value":2,"tags":{}}',
    ]);
    const parsed = JSON.parse(out.lines()[0]!.replace(/^INFO METRIC: /, '')) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['type', 'metric', 'value', 'tags']);
  });

  it('redacts registered secrets in messages, fields and metric tags', () => {
    const out = new MemoryWritable();
    const redactor = new Redactor();
    redactor.register('sk-live-123456');
    const log = createLogger({ out, redactor });
    log.info('using key sk-live-123456', { header: 'Basic sk-live-123456' });
    log.metric('counter', 'x', 1, { key: 'sk-live-123456' });
    expect(out.text()).not.toContain('sk-live-123456');
    expect(out.lines()[0]).toBe('INFO using key [REDACTED] header="Basic [REDACTED]"');
  });
});

describe('resolveLogLevel', () => {
  it('lets --log-level beat LOG_LEVEL, defaulting to info', () => {
    expect(resolveLogLevel(undefined, {})).toBe('info');
    expect(resolveLogLevel(undefined, { LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(resolveLogLevel('error', { LOG_LEVEL: 'debug' })).toBe('error');
    expect(resolveLogLevel('warning', {})).toBe('warn');
    expect(resolveLogLevel('CRITICAL', {})).toBe('error');
  });

  it('names the flag or the variable with a bad value', () => {
    expect(() => resolveLogLevel('loud', {})).toThrow(ConfigError);
    expect(() => resolveLogLevel('loud', {})).toThrow('--log-level: expected one of debug, info, warn, error, silent, got "loud"');
    expect(() => resolveLogLevel(undefined, { LOG_LEVEL: 'verbose' })).toThrow(/^LOG_LEVEL: expected one of/);
  });
});
