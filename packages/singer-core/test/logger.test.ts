import { describe, expect, it } from '@jest/globals';
import { ConfigError, createLogger, Redactor, resolveLogLevel } from '@fullstory-singer/singer-core';
import { MemoryWritable, screenRows } from '@fullstory-singer/singer-core/testing';

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

describe('createLogger on a terminal', () => {
  it('clears the live status line before any other line and draws it again after', () => {
    const out = new MemoryWritable({ isTTY: true });
    const log = createLogger({ out, program: 'tap-x' });
    log.status('bundle 1 of 3, 1.9 MB/s');
    log.warn('retrying');
    log.status('bundle 2 of 3, 2.0 MB/s');
    log.clearStatus();
    log.info('done');
    expect(out.text()).toBe(
      '\rtap-x bundle 1 of 3, 1.9 MB/s\u001b[K' +
        '\r\u001b[Ktap-x WARNING retrying\ntap-x bundle 1 of 3, 1.9 MB/s\u001b[K' +
        '\rtap-x bundle 2 of 3, 2.0 MB/s\u001b[K' +
        '\r\u001b[K' +
        '\r\u001b[Ktap-x INFO done\n',
    );
    // What the screen shows: every log line whole on a row of its own, the live line last.
    expect(screenRows(out.text())).toEqual(['tap-x WARNING retrying', 'tap-x INFO done']);
  });

  it('keeps METRIC lines for --log-level debug, and never stamps the time', () => {
    const out = new MemoryWritable({ isTTY: true });
    const log = createLogger({ out, program: 'tap-x', timestamps: true });
    log.metric('counter', 'record_count', 5);
    log.info('shown');
    log.level = 'debug';
    log.metric('counter', 'record_count', 6);
    expect(screenRows(out.text())).toEqual(['tap-x INFO shown', 'tap-x DEBUG METRIC: {"type":"counter","metric":"record_count","value":6,"tags":{}}']);
  });

  it('cuts the status line to the width of the terminal, so it never wraps', () => {
    const out = new MemoryWritable({ isTTY: true });
    (out as unknown as { columns: number }).columns = 20;
    const log = createLogger({ out });
    log.status('x'.repeat(50));
    expect(out.text()).toBe(`\r${'x'.repeat(18)}…\u001b[K`);
  });

  it("erases the row before each line, where another program's live line may be (tap | target)", () => {
    const out = new MemoryWritable({ isTTY: true });
    out.write('\rtap-x bundle 1 of 3');
    createLogger({ out, program: 'target-x' }).info('batch job created');
    expect(screenRows(out.text())).toEqual(['target-x INFO batch job created']);
  });

  it('draws no status line off a terminal, nor at a level above info', () => {
    const plain = new MemoryWritable();
    createLogger({ out: plain }).status('working');
    const quiet = new MemoryWritable({ isTTY: true });
    createLogger({ out: quiet, level: 'warn' }).status('working');
    expect(plain.text() + quiet.text()).toBe('');
  });
});

describe('createLogger off a terminal, as the CLIs set it up', () => {
  const at = Date.parse('2026-12-01T09:00:00.000Z');

  it('starts each line with the time and the program', () => {
    const out = new MemoryWritable();
    const log = createLogger({ out, program: 'target-x', timestamps: true, clock: () => at });
    log.info('finished', { records_read: 3 });
    log.metric('counter', 'record_count', 3, { status: 'read' });
    expect(out.lines()).toEqual([
      '2026-12-01T09:00:00.000Z target-x INFO finished records_read=3',
      '2026-12-01T09:00:00.000Z target-x INFO METRIC: {"type":"counter","metric":"record_count","value":3,"tags":{"status":"read"}}',
    ]);
  });

  it('writes METRIC lines that Meltano-style and singer-python-style parsers still read', () => {
    const out = new MemoryWritable();
    const log = createLogger({ out, program: 'tap-x', timestamps: true });
    log.info('not a metric');
    log.metric('timer', 'http_request_duration', 0.25, { endpoint: 'export/list' });
    const expected = { type: 'timer', metric: 'http_request_duration', value: 0.25, tags: { endpoint: 'export/list' } };
    // Parsers of Meltano SDK logs search for `METRIC: ` anywhere in the line (the SDK puts a time
    // and a logger name before it) and read the JSON after it.
    const searched = out.lines().flatMap((line) => {
      const m = /METRIC: (\{.*\})$/.exec(line);
      return m ? [JSON.parse(m[1]!) as unknown] : [];
    });
    expect(searched).toEqual([expected]);
    // singer-python's metrics.parse anchors `^INFO METRIC: (.*)$`: it reads the line once the time
    // and program (two space-separated fields) are cut off, as `cut -d' ' -f3-` does.
    const anchored = out.lines().flatMap((line) => {
      const m = /^INFO METRIC: (.*)$/.exec(line.split(' ').slice(2).join(' '));
      return m ? [JSON.parse(m[1]!) as unknown] : [];
    });
    expect(anchored).toEqual([expected]);
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
