/**
 * Reliability: the dead-letter file's disk fills mid-run (the real target bin under `ulimit -f`: writes
 * past the limit fail with EFBIG, as on a full disk they fail with ENOSPC), then the run is resumed
 * from the last state it printed, with room to write.
 *
 * Proven: the filled run stops with exit 2 and one line naming dead_letter_path; the file ends in a
 * whole line; every state it printed covers only records whose dead-letter lines are on disk; the rerun
 * appends whole lines after it; in the end every good record is in the sandbox and every bad one has its
 * line; the key is in no output.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sandbox } from 'fullstory-sandbox';
import { builtBin, check, childEnv, expectNoSecret, makeTemp, seeded, spawnBin } from './helpers.js';
import { fastTargetConfig, startSecretSandbox, targetEnv, usersByUid, writeConfig } from './sandbox-helpers.js';

const RECORDS = 90;
const STATE_EVERY = 6;
/** Every third record has no uid: a dead-letter line each (about 330 bytes). */
const bad = (i: number): boolean => i % 3 === 1;

let sandbox: Sandbox;
let temp: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  sandbox = await startSecretSandbox({ bundles: 0, jobLatencyMs: 20 });
  temp = await makeTemp('target-disk-full');
});
afterAll(async () => {
  await sandbox.close();
  await temp.remove();
});

function sourceFrom(offset: number): string {
  const lines = [JSON.stringify({ type: 'SCHEMA', stream: 'users', schema: { type: 'object', properties: {} }, key_properties: [] })];
  for (let i = offset; i < RECORDS; i++) {
    const rec = bad(i) ? { n: i, note: 'x'.repeat(200) } : { uid: `disk-${i}`, n: i };
    lines.push(JSON.stringify({ type: 'RECORD', stream: 'users', record: rec }));
    if ((i + 1) % STATE_EVERY === 0) lines.push(JSON.stringify({ type: 'STATE', value: { offset: i + 1 } }));
  }
  return `${lines.join('\n')}\n`;
}

/** The bin under `bash -c 'ulimit -f <kib>; exec node bin ...'`. */
function runLimited(args: string[], env: Record<string, string>, input: string, kib: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `ulimit -f ${kib}; exec "$@"`, 'bash', process.execPath, builtBin('target-fullstory'), ...args], {
      env: childEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(input);
  });
}

/** The `n` of every dead-letter line; throws if the file does not end in a whole line. */
function deadLettered(text: string): number[] {
  check(text === '' || text.endsWith('\n'), `the dead-letter file ends in a torn line: ...${JSON.stringify(text.slice(-60))}`);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { record: { n: number } }).record.n);
}

describe('target-fullstory when the dead-letter disk fills', () => {
  it(
    'stops with exit 2 on whole lines, printed only safe states, and a rerun from its last state loses nothing',
    seeded(async () => {
      const deadLetter = join(temp.dir, 'rejected.ndjson');
      const config = await writeConfig(temp.dir, 'target.json', fastTargetConfig(deadLetter, { batch_size: 4 }));
      const args = ['--config', config];

      const full = await runLimited(args, targetEnv(sandbox), sourceFrom(0), 4);
      expectNoSecret({ 'run 1 stdout': full.stdout, 'run 1 stderr': full.stderr });
      check(full.code === 2, `run 1: expected exit 2, got ${full.code}: ${full.stderr.slice(-800)}`);
      expect(full.stderr).toMatch(/^target-fullstory: error: dead_letter_path: cannot write ".*rejected\.ndjson": EFBIG/m);
      const afterFull = deadLettered(await readFile(deadLetter, 'utf8'));
      const states = full.stdout.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { offset: number }).offset);
      const offset = states.length > 0 ? states[states.length - 1]! : 0;
      check(offset < RECORDS, 'run 1 printed its last state: the disk never filled, the scenario proves nothing');
      // Every bad record the last state covers has its line on disk.
      const missing = Array.from({ length: offset }, (_, i) => i).filter((i) => bad(i) && !afterFull.includes(i));
      check(missing.length === 0, `run 1 printed state ${offset}, yet records ${missing.join(',')} have no dead-letter line`);

      const rerun = await spawnBin('target-fullstory', { args, env: targetEnv(sandbox), input: sourceFrom(offset), timeoutMs: 60_000 });
      const text = existsSync(deadLetter) ? await readFile(deadLetter) : Buffer.alloc(0);
      expectNoSecret({ 'run 2 stdout': rerun.stdout, 'run 2 stderr': rerun.stderr, 'dead-letter file': text });
      check(rerun.code === 0, `run 2: expected exit 0, got ${rerun.code}: ${rerun.stderr.toString('utf8').slice(-800)}`);
      const all = deadLettered(text.toString('utf8'));
      expect(all.slice(0, afterFull.length)).toEqual(afterFull);
      const badOnes = Array.from({ length: RECORDS }, (_, i) => i).filter(bad);
      expect([...new Set(all)].sort((a, b) => a - b)).toEqual(badOnes);
      const landed = usersByUid(sandbox);
      const good = Array.from({ length: RECORDS }, (_, i) => i).filter((i) => !bad(i));
      expect(good.filter((i) => landed.get(`disk-${i}`)?.properties['n'] !== i)).toEqual([]);
    }),
    60_000,
  );
});
