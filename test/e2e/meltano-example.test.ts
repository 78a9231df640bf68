/**
 * examples/meltano.yml stays true to the CLIs: each plugin declares exactly the capabilities its
 * `--about --format json` reports and lists every setting of its config schema, and points its
 * `executable` at the installed bin. (Meltano itself is a Python tool and is not run here.)
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, run } from './helpers.js';

interface PluginBlock {
  name: string;
  executable?: string;
  capabilities: string[];
  settings: string[];
}

/**
 * Reads the plugin entries of meltano.yml: just enough YAML for this file's shape (block lists under
 * `extractors:` / `loaders:`, keys at fixed indents), without a YAML dependency.
 */
function pluginBlocks(text: string): PluginBlock[] {
  const blocks: PluginBlock[] = [];
  let current: PluginBlock | undefined;
  let list: 'capabilities' | 'settings' | undefined;
  for (const line of text.split('\n')) {
    const plugin = /^ {4}- name: (\S+)/.exec(line);
    if (plugin) {
      current = { name: plugin[1]!, capabilities: [], settings: [] };
      blocks.push(current);
      list = undefined;
      continue;
    }
    if (!current) continue;
    const key = /^ {6}(\w+):\s*(.*)$/.exec(line);
    if (key) {
      list = key[1] === 'capabilities' || key[1] === 'settings' ? key[1] : undefined;
      if (key[1] === 'executable') current.executable = key[2]!.trim();
      continue;
    }
    const capability = /^ {8}- ([\w-]+)\s*$/.exec(line);
    if (list === 'capabilities' && capability) current.capabilities.push(capability[1]!);
    const setting = /^ {8}- name: (\w+)/.exec(line);
    if (list === 'settings' && setting) current.settings.push(setting[1]!);
  }
  return blocks;
}

async function about(bin: string): Promise<{ capabilities: string[]; settings: { properties: Record<string, unknown> } }> {
  const result = await run(process.execPath, [join(repoRoot, 'packages', bin, 'dist', 'src', 'bin.js'), '--about', '--format', 'json'], {
    cwd: repoRoot,
    timeoutMs: 30_000,
  });
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as { capabilities: string[]; settings: { properties: Record<string, unknown> } };
}

describe('examples/meltano.yml', () => {
  const blocks = pluginBlocks(readFileSync(join(repoRoot, 'examples', 'meltano.yml'), 'utf8'));

  it.each(['tap-fullstory', 'target-fullstory'])('%s declares what the CLI reports', async (name) => {
    const block = blocks.find((b) => b.name === name);
    expect(block).toBeDefined();
    const reported = await about(name);
    expect([...block!.capabilities].sort()).toEqual([...reported.capabilities].sort());
    expect([...block!.settings].sort()).toEqual(Object.keys(reported.settings.properties).sort());
    expect(block!.executable).toBe(`./node_modules/.bin/${name}`);
  });
});
