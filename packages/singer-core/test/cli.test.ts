import { beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  aboutDocument,
  AuthError,
  ConfigError,
  createCommand,
  ExitRequest,
  parseArgs,
  ProgressReporter,
  Redactor,
  runMain,
  type RunMainOptions,
  StdoutClosedError,
  StopRequested,
  UnavailableError,
} from '@fullstory-singer/singer-core';
import { collectMessages, MemoryWritable, repoRoot, runBin } from '@fullstory-singer/singer-core/testing';

const SECRET = 'na1.TopSecretApiKey987654';
const AT = '2026-12-01T09:00:00.000Z';
/** The time prefix of a log line when stderr is not a terminal. */
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

async function run(main: Parameters<typeof runMain>[0], options: Partial<RunMainOptions> = {}): Promise<{ code: number; lines: string[] }> {
  const out = new MemoryWritable();
  let code = -1;
  await runMain(main, { name: 'tool', out, env: {}, exit: (c) => void (code = c), clock: () => Date.parse(AT), ...options });
  return { code, lines: out.lines() };
}

/** stderr with each line's time prefix replaced by `<time> `. */
function untimed(text: string): string {
  return text.replace(new RegExp(TIME.source, 'gm'), '<time> ');
}

describe('runMain', () => {
  it('exits with the code the program returns (0 for nothing)', async () => {
    expect((await run(async () => undefined)).code).toBe(0);
    expect((await run(async () => 6)).code).toBe(6);
  });

  it('prints one line for a SingerError and exits with its code', async () => {
    const result = await run(async () => {
      throw new AuthError('FullStory refused the API key (401): it needs the Admin or Architect role');
    });
    expect(result).toEqual({ code: 4, lines: ['tool: error: FullStory refused the API key (401): it needs the Admin or Architect role'] });
  });

  it('on a terminal: names the program, stamps no time, and ends the live line before the error line', async () => {
    const out = new MemoryWritable({ isTTY: true });
    let code = -1;
    await runMain(
      async ({ logger }) => {
        new ProgressReporter({ logger }).update('events: bundle 1 of 2');
        logger.warn('slow');
        throw new UnavailableError('FullStory unavailable');
      },
      { name: 'tool', out, env: {}, exit: (c) => void (code = c) },
    );
    expect(code).toBe(5);
    expect(out.text()).toBe(
      '\rtool events: bundle 1 of 2\u001b[K' +
        '\r\u001b[Ktool WARNING slow\ntool events: bundle 1 of 2\u001b[K' +
        '\r\u001b[K\r\u001b[Ktool: error: FullStory unavailable\n',
    );
  });

  it('redacts a registered secret from the error line and from log lines', async () => {
    const result = await run(async ({ logger, redactor }) => {
      redactor.register(SECRET);
      logger.info(`connecting with ${SECRET}`);
      throw new ConfigError(`key ${SECRET} (base64 ${Buffer.from(SECRET).toString('base64')}) is not valid`);
    });
    expect(result.code).toBe(2);
    expect(result.lines.join('\n')).not.toContain(SECRET);
    expect(result.lines.join('\n')).not.toContain(Buffer.from(SECRET).toString('base64'));
    expect(result.lines).toEqual([`${AT} tool INFO connecting with [REDACTED]`, 'tool: error: key [REDACTED] (base64 [REDACTED]) is not valid']);
  });

  it('reports an unexpected error as internal (exit 1) with a hint, and the stack only at debug', async () => {
    const crash = async (): Promise<void> => {
      throw new TypeError(`x is undefined\nsecond line ${SECRET}`);
    };
    const redactor = new Redactor();
    redactor.register(SECRET);
    const plain = await run(crash, { redactor });
    expect(plain).toEqual({
      code: 1,
      lines: ['tool: error: internal error: x is undefined second line [REDACTED] (rerun with --log-level debug for details)'],
    });
    const debug = await run(crash, { redactor, logLevel: 'debug' });
    expect(debug.code).toBe(1);
    expect(debug.lines[0]).toBe('tool: error: internal error: x is undefined second line [REDACTED]');
    expect(debug.lines.some((l) => /^\s+at /.test(l))).toBe(true);
    expect(debug.lines.join('\n')).not.toContain(SECRET);
  });

  it('says plainly when the reader of stdout went away (EPIPE), with its own exit code 141', async () => {
    const line = 'tool: stdout was closed by the reading process (EPIPE); stopping';
    const raw = await run(async () => {
      throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    });
    expect(raw).toEqual({ code: 141, lines: [line] });
    const ours = await run(async () => {
      throw new StdoutClosedError();
    });
    expect(ours).toEqual({ code: 141, lines: [line] });
  });

  it('ends a graceful stop with one line and 130 (SIGINT) or 143 (SIGTERM)', async () => {
    const sigint = await run(async () => {
      throw new StopRequested('SIGINT', 'interrupted by SIGINT; the last state printed is safe');
    });
    expect(sigint).toEqual({ code: 130, lines: ['tool: interrupted by SIGINT; the last state printed is safe'] });
    const sigterm = await run(async () => {
      throw new StopRequested('SIGTERM');
    });
    expect(sigterm).toEqual({ code: 143, lines: ['tool: interrupted by SIGTERM'] });
  });

  it('exits quietly for an ExitRequest', async () => {
    expect(
      await run(async () => {
        throw new ExitRequest(0);
      }),
    ).toEqual({ code: 0, lines: [] });
  });

  it('turns a bad LOG_LEVEL into a config error', async () => {
    const result = await run(async () => 0, { env: { LOG_LEVEL: 'chatty' } });
    expect(result.code).toBe(2);
    expect(result.lines).toEqual(['tool: error: LOG_LEVEL: expected one of debug, info, warn, error, silent, got "chatty"']);
  });
});

describe('createCommand / parseArgs', () => {
  const command = (out = new MemoryWritable()) =>
    createCommand({ name: 'tool', description: 'a tool', version: '9.9.9', out }).option('--discover', 'discovery');

  it('collects repeated --config in order and parses the shared flags', () => {
    const options = parseArgs(command(), ['--config', 'a.json', '-c', 'b.json', '--log-level', 'debug', '--discover']);
    expect(options).toEqual({ config: ['a.json', 'b.json'], logLevel: 'debug', format: 'json', discover: true });
  });

  it('turns usage errors into a ConfigError (exit 2), printing nothing itself', () => {
    const out = new MemoryWritable();
    expect(() => parseArgs(command(out), ['--nope'])).toThrow(ConfigError);
    expect(() => parseArgs(command(out), ['--nope'])).toThrow("unknown option '--nope'");
    expect(() => parseArgs(command(out), ['--about', '--format', 'yaml'])).toThrow(/--format <format>.*yaml.*json, markdown/);
    expect(out.text()).toBe('');
  });

  it('prints --version and --help to its output and asks for exit 0', () => {
    const out = new MemoryWritable();
    expect(() => parseArgs(command(out), ['--version'])).toThrow(ExitRequest);
    expect(out.text()).toBe('9.9.9\n');
    const help = new MemoryWritable();
    expect(() => parseArgs(command(help), ['--help'])).toThrow(ExitRequest);
    expect(help.text()).toContain('--config <file>');
    expect(help.text()).toContain('--discover');
  });
});

describe('aboutDocument', () => {
  const info = {
    name: 'tap-x',
    description: 'Reads X',
    version: '1.0.0',
    capabilities: ['catalog', 'discover', 'state', 'about'],
    settingsSchema: {
      type: 'object',
      required: ['api_key'],
      properties: {
        api_key: { type: 'string', description: 'the key | secret' },
        max_retries: { type: 'integer', default: 8, description: 'retries' },
        end_date: { type: ['string', 'null'], format: 'date-time' },
      },
    },
    envPrefix: 'TAP_X',
  };

  it('renders JSON with name, description, version, capabilities and settings', () => {
    expect(JSON.parse(aboutDocument(info, 'json'))).toEqual({
      name: 'tap-x',
      description: 'Reads X',
      version: '1.0.0',
      capabilities: ['catalog', 'discover', 'state', 'about'],
      settings: info.settingsSchema,
    });
  });

  it('renders markdown with a settings table', () => {
    const md = aboutDocument(info, 'markdown');
    expect(md).toContain('# `tap-x`');
    expect(md).toContain('* `discover`');
    expect(md).toContain('| `api_key` | string | yes |  | `TAP_X_API_KEY` | the key \\| secret |');
    expect(md).toContain('| `max_retries` | integer | no | `8` | `TAP_X_MAX_RETRIES` | retries |');
    expect(md).toContain('| `end_date` | string \\| null (date-time) | no |');
  });
});

describe('a real process built on runMain (dist/test/fixtures/cli-fixture.js)', () => {
  let bin: string;
  beforeAll(() => {
    bin = join(repoRoot(), 'packages', 'singer-core', 'dist', 'test', 'fixtures', 'cli-fixture.js');
    if (!existsSync(bin)) throw new Error(`build first: npx tsc -b packages/singer-core (missing ${bin})`);
  });

  it('echoes stdin messages to stdout through real pipes, big integers intact', async () => {
    const input = [
      '{"type":"SCHEMA","stream":"events","schema":{"type":"object"},"key_properties":["id"]}',
      '{"type":"RECORD","stream":"events","record":{"id":9007199254740993}}',
      '{"type":"STATE","value":{"bookmarks":{"events":{"last_bundle_id":12345678901234567890}}}}',
    ];
    const result = await runBin(bin, ['echo'], { input: `${input.join('\n')}\n` });
    expect(result).toMatchObject({ code: 0, stdout: `${input.join('\n')}\n` });
    expect(untimed(result.stderr)).toBe('<time> cli-fixture INFO METRIC: {"type":"counter","metric":"record_count","value":3,"tags":{}}\n');
    expect(collectMessages(result.stdout).map((m) => m.type)).toEqual(['SCHEMA', 'RECORD', 'STATE']);
  });

  it('exits 3 on a bad line, naming it, after passing on the lines before it', async () => {
    const good = '{"type":"RECORD","stream":"s","record":{"n":1}}';
    const input = `${[good, good, good, good, good, good, '{not json}', good].join('\n')}\n`;
    const result = await runBin(bin, ['echo'], { input });
    expect(result.code).toBe(3);
    expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(6);
    expect(result.stderr).toMatch(/^cli-fixture: error: stdin:7: not valid JSON \(.*\)\n$/);
  });

  it('never prints a secret from the environment, in logs or in the error', async () => {
    const result = await runBin(bin, ['secret'], { env: { TAP_FULLSTORY_API_KEY: SECRET } });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain(SECRET);
    expect(untimed(result.stderr)).toBe('<time> cli-fixture INFO calling with [REDACTED]\ncli-fixture: error: the key [REDACTED] was refused\n');
    expect(result.stdout).toBe('');
  });

  it('exits 1 with a hint on a crash, and with the code a program returns', async () => {
    const crash = await runBin(bin, ['crash']);
    expect(crash.code).toBe(1);
    expect(crash.stderr).toBe(
      'cli-fixture: error: internal error: cannot read properties of undefined (rerun with --log-level debug for details)\n',
    );
    expect((await runBin(bin, ['exit', '5'])).code).toBe(5);
  });

  it('handles the shared flags: options, --version, --about, usage errors', async () => {
    const parsed = await runBin(bin, ['args', '--config', 'a.json', '--config', 'b.json', '--discover']);
    expect(parsed.code).toBe(0);
    expect(JSON.parse(parsed.stdout)).toEqual({ config: ['a.json', 'b.json'], format: 'json', discover: true });
    const version = await runBin(bin, ['args', '--version']);
    expect(version).toMatchObject({ code: 0, stdout: '1.2.3\n', stderr: '' });
    const about = await runBin(bin, ['args', '--about', '--format', 'markdown']);
    expect(about.stdout).toContain('# `cli-fixture`');
    const usage = await runBin(bin, ['args', '--bogus']);
    expect(usage).toMatchObject({ code: 2, stdout: '', stderr: "cli-fixture: error: unknown option '--bogus'\n" });
    const level = await runBin(bin, ['args', '--log-level', 'debug']);
    expect(untimed(level.stderr)).toBe('<time> cli-fixture DEBUG parsed\n');
  });
});
