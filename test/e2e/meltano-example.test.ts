/**
 * examples/meltano.yml stays true to the CLIs and runs as written.
 *
 * 1. Each plugin declares exactly the capabilities its `--about --format json` reports, lists every
 *    setting of its config schema with the matching kind, and points `executable` at the installed bin.
 * 2. The sandbox flow of the file's header (one sandbox command, one `meltano run` line) works. Meltano
 *    itself is a Python tool that cannot be installed here, so this test plays what Meltano does for
 *    `meltano run <tap> <target>` (meltano/core/plugin/singer/{base,tap,target}.py), with the file's own
 *    values: it writes each plugin's config.json from its `config` (an inherited plugin's settings
 *    override its parent's one by one; unset settings are left out), with the keys from the header's
 *    environment; runs `<tap> --config config.json --discover`, applies `select`, runs
 *    `<tap> --config config.json --catalog catalog.json [--state state.json] | <target> --config
 *    target.json` from the project folder through the plugins' `executable` paths, and stores the
 *    target's last stdout line as the state for the next run. The one liberty: the sandbox listens on
 *    a free port rather than 8910, and `base_url` is pointed at it.
 * 3. The CRM users pipeline's target config maps the sample CSV: its rows, as tap-csv emits them
 *    (every column a string, `keys` as key properties), land as FullStory users.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'yaml';
import { cleanEnv, makeTempDir, removeDir, repoRoot, run, type RunResult } from './helpers.js';

interface Setting {
  name: string;
  kind?: string;
  sensitive?: boolean;
}
interface Plugin {
  name: string;
  inherit_from?: string;
  executable?: string;
  capabilities?: string[];
  settings?: Setting[];
  config?: Record<string, unknown>;
  select?: string[];
}
interface PropSchema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  $ref?: string;
}
interface About {
  capabilities: string[];
  settings: { properties: Record<string, PropSchema>; definitions?: Record<string, PropSchema> };
}

const exampleDir = join(repoRoot, 'examples');
const text = await readFile(join(exampleDir, 'meltano.yml'), 'utf8');
const project = parse(text) as { plugins: { extractors: Plugin[]; loaders: Plugin[] } };
const plugins = [...project.plugins.extractors, ...project.plugins.loaders];
const plugin = (name: string): Plugin => {
  const found = plugins.find((p) => p.name === name);
  if (!found) throw new Error(`meltano.yml has no plugin ${name}`);
  return found;
};

/** The header's sandbox command and `meltano run` line, as a reader would copy them. */
const header = text.split('\n').filter((line) => line.startsWith('#')).map((line) => line.replace(/^#\s*/, ''));
const sandboxLine = header.find((line) => line.startsWith('npx fullstory-sandbox '))!;
const runLine = header.find((line) => / meltano run \S+--sandbox /.test(` ${line} `))!;

async function about(bin: string): Promise<About> {
  const result = await run(process.execPath, [join(repoRoot, 'packages', bin, 'bin', `${bin}.js`), '--about', '--format', 'json'], {
    cwd: repoRoot,
    timeoutMs: 30_000,
  });
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as About;
}

/** The Meltano kind for a JSON Schema property, as `--about` describes it (`$ref`s followed). */
function kindFor(ref: PropSchema, settings: About['settings']): string {
  const prop = ref.$ref ? settings.definitions![ref.$ref.replace('#/definitions/', '')]! : ref;
  const types = (Array.isArray(prop.type) ? prop.type : [prop.type]).filter((t) => t !== 'null');
  if (prop.enum) return 'options';
  if (prop.format === 'date-time') return 'date_iso8601';
  const kinds: Record<string, string> = { integer: 'integer', number: 'decimal', boolean: 'boolean', object: 'object', array: 'array', string: 'string' };
  return kinds[types[0] ?? 'string'] ?? 'string';
}

describe('examples/meltano.yml', () => {
  it.each(['tap-fullstory', 'target-fullstory'])('%s declares what the CLI reports, each setting with its kind', async (name) => {
    const block = plugin(name);
    const reported = await about(name);
    expect([...block.capabilities!].sort()).toEqual([...reported.capabilities].sort());
    expect(block.settings!.map((s) => s.name).sort()).toEqual(Object.keys(reported.settings.properties).sort());
    for (const setting of block.settings!) {
      const expected = kindFor(reported.settings.properties[setting.name]!, reported.settings);
      expect({ setting: setting.name, kind: setting.kind ?? 'string' }).toEqual({ setting: setting.name, kind: expected });
    }
    expect(block.settings!.find((s) => s.name === 'api_key')!.sensitive).toBe(true);
    expect(block.executable).toBe(`./node_modules/.bin/${name}`);
  });

  it('has one sandbox command and one meltano run line in its header', () => {
    expect(sandboxLine).toBe('npx fullstory-sandbox --port 8910 --api-key sandbox-key --downloads-per-minute 0 &');
    expect(runLine).toMatch(/^(\w+=\S+ )+meltano run tap-fullstory--sandbox target-fullstory--sandbox$/);
  });
});

describe('the sandbox flow of examples/meltano.yml, played the way Meltano runs it', () => {
  let work: string | undefined;
  let sandbox: ReturnType<typeof spawn> | undefined;
  let url = '';
  const env: Record<string, string> = {};
  const [tapName, targetName] = /meltano run (\S+) (\S+)$/.exec(runLine ?? '')!.slice(1) as [string, string];

  /** A plugin's config.json: its parent's config overridden setting by setting, nulls left out, keys from the environment. */
  function configOf(name: string): Record<string, unknown> {
    const own = plugin(name);
    const parent = own.inherit_from ? plugin(own.inherit_from) : undefined;
    const config: Record<string, unknown> = { ...parent?.config, ...own.config };
    const base = parent ?? own;
    const namespace = base.name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    for (const setting of base.settings ?? []) {
      const value = env[`${namespace}_${setting.name.toUpperCase()}`];
      if (value !== undefined) config[setting.name] = value;
    }
    if (typeof config.base_url === 'string') config.base_url = url;
    return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== null && v !== undefined));
  }

  /** Meltano's `select: [events.*]`: the stream and all its properties selected. */
  function applySelect(catalog: { streams: Array<{ tap_stream_id: string; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }> }, select: string[]): void {
    for (const stream of catalog.streams) {
      const chosen = select.some((pattern) => pattern === `${stream.tap_stream_id}.*`);
      for (const entry of stream.metadata) entry.metadata.selected = chosen;
    }
  }

  function executable(name: string): string {
    const own = plugin(name);
    return join(work!, (own.executable ?? plugin(own.inherit_from!).executable)!);
  }

  /** `<tap> ... | <target> ...` from the project folder; resolves with both runs and the target's stdout lines. */
  function pipe(tapArgs: string[], targetArgs: string[]): Promise<{ tap: number | null; target: number | null; lines: string[]; stderr: string }> {
    return new Promise((resolve, reject) => {
      const childEnv = cleanEnv(env);
      const tap = spawn(executable(tapName), tapArgs, { cwd: work!, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      const target = spawn(executable(targetName), targetArgs, { cwd: work!, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      tap.stdout.pipe(target.stdin);
      let stderr = '';
      tap.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      target.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const lines: string[] = [];
      createInterface({ input: target.stdout }).on('line', (line) => lines.push(line));
      const closed = (child: ChildProcess): Promise<number | null> =>
        new Promise((resolveClose, rejectClose) => {
          child.once('error', rejectClose);
          child.once('close', resolveClose);
        });
      Promise.all([closed(tap), closed(target)]).then(([tapCode, targetCode]) => resolve({ tap: tapCode, target: targetCode, lines, stderr }), reject);
    });
  }

  beforeAll(async () => {
    work = await makeTempDir('fullstory-meltano-');
    // The project folder after the header's install: the bins in node_modules/.bin.
    await mkdir(join(work, 'node_modules', '.bin'), { recursive: true });
    for (const bin of ['tap-fullstory', 'target-fullstory', 'fullstory-sandbox']) {
      await symlink(join(repoRoot, 'packages', bin, 'bin', `${bin}.js`), join(work, 'node_modules', '.bin', bin));
    }
    for (const assignment of runLine.split(' meltano run ')[0]!.split(' ')) {
      const [key, value] = assignment.split('=') as [string, string];
      env[key] = value;
    }
    // The header's sandbox command, on a free port.
    const args = sandboxLine.replace(/^npx fullstory-sandbox /, '').replace(/ &$/, '').replace('--port 8910', '--port 0').split(' ');
    sandbox = spawn(join(work, 'node_modules', '.bin', 'fullstory-sandbox'), args, { cwd: work, env: cleanEnv(), stdio: ['ignore', 'pipe', 'ignore'] });
    url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: sandbox!.stdout! }).once('line', (line) => {
        const match = /listening on (\S+)$/.exec(line);
        if (match) resolve(match[1]!.replace(/\/$/, ''));
        else reject(new Error(`unexpected sandbox line: ${line}`));
      });
      sandbox!.once('exit', (code) => reject(new Error(`the sandbox exited (${code})`)));
    });
  }, 60_000);

  afterAll(async () => {
    sandbox?.kill('SIGTERM');
    await removeDir(work);
  });

  it('discovers, syncs into the target, and resumes from the state Meltano stored', async () => {
    await writeFile(join(work!, 'tap.config.json'), JSON.stringify(configOf(tapName)));
    await writeFile(join(work!, 'target.config.json'), JSON.stringify(configOf(targetName)));

    const discovered: RunResult = await run(executable(tapName), ['--config', 'tap.config.json', '--discover'], { cwd: work!, env: cleanEnv(env), timeoutMs: 30_000 });
    expect({ code: discovered.code, stderr: discovered.stderr.slice(-500) }).toEqual({ code: 0, stderr: expect.any(String) });
    const catalog = JSON.parse(discovered.stdout) as Parameters<typeof applySelect>[0];
    applySelect(catalog, plugin(tapName).select ?? plugin(plugin(tapName).inherit_from!).select ?? []);
    await writeFile(join(work!, 'catalog.json'), JSON.stringify(catalog));

    const first = await pipe(['--config', 'tap.config.json', '--catalog', 'catalog.json'], ['--config', 'target.config.json']);
    expect({ tap: first.tap, target: first.target, stderr: first.tap === 0 && first.target === 0 ? '' : first.stderr.slice(-1500) }).toEqual({
      tap: 0,
      target: 0,
      stderr: '',
    });
    const stats = (await (await fetch(`${url}/__sandbox/stats`)).json()) as { events: number };
    expect(stats.events).toBeGreaterThan(0);
    // Meltano keeps the target's last stdout line as the state.
    const state = first.lines.at(-1)!;
    expect(JSON.parse(state)).toEqual({ bookmarks: { events: { last_bundle_stop: '2024-01-04T00:00:00Z', last_bundle_id: 1000002 } } });
    await writeFile(join(work!, 'state.json'), state);

    const second = await pipe(['--config', 'tap.config.json', '--catalog', 'catalog.json', '--state', 'state.json'], ['--config', 'target.config.json']);
    expect([second.tap, second.target]).toEqual([0, 0]);
    expect(second.lines.at(-1)).toBe(state);
    expect(((await (await fetch(`${url}/__sandbox/stats`)).json()) as { events: number }).events).toBe(stats.events);
  }, 120_000);

  it("the CRM users pipeline's target config lands the sample CSV as users", async () => {
    const csv = (await readFile(join(exampleDir, 'data', 'crm_users.csv'), 'utf8')).trim().split('\n');
    const columns = csv[0]!.split(',');
    const csvTap = plugin('tap-csv');
    const file = (csvTap.config!.files as Array<{ entity: string; path: string; keys: string[] }>)[0]!;
    // What tap-csv prints for the file: every column a string, `keys` as the key properties.
    const messages = [
      { type: 'SCHEMA', stream: file.entity, schema: { type: 'object', properties: Object.fromEntries(columns.map((c) => [c, { type: ['string', 'null'] }])) }, key_properties: file.keys },
      ...csv.slice(1).map((row) => ({ type: 'RECORD', stream: file.entity, record: Object.fromEntries(row.split(',').map((v, i) => [columns[i]!, v])) })),
      { type: 'STATE', value: { bookmarks: { [file.entity]: { rows: csv.length - 1 } } } },
    ];
    await writeFile(join(work!, 'csv-target.config.json'), JSON.stringify({ ...configOf('target-fullstory'), base_url: url, job_poll_interval_seconds: 0.1 }));
    const target = await run(executable('target-fullstory'), ['--config', 'csv-target.config.json'], {
      cwd: work!,
      env: cleanEnv(env),
      input: `${messages.map((m) => JSON.stringify(m)).join('\n')}\n`,
      timeoutMs: 60_000,
    });
    expect({ code: target.code, stderr: target.code === 0 ? '' : target.stderr.slice(-1000) }).toEqual({ code: 0, stderr: '' });
    expect(target.stdout.trim()).toBe(JSON.stringify({ bookmarks: { crm_users: { rows: 5 } } }));
    const users = (await (await fetch(`${url}/__sandbox/users`)).json()) as Array<{ uid?: string; display_name?: string; email?: string; properties: Record<string, unknown> }>;
    const ada = users.find((u) => u.uid === 'crm-001');
    expect(ada).toMatchObject({ display_name: 'Ada Lovelace', email: 'ada@example.com', properties: { plan: 'enterprise', seats: '25' } });
  }, 90_000);
});
