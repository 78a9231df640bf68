// Spawning the built bin (dist/src/bin.js) for the bin and memory tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'bin.js');

/** Spawns the bin and resolves with its URL once the first stdout line arrives. */
export function spawnSandbox(args: string[]): Promise<{ child: ChildProcess; url: string; firstLine: string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer): void => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        child.stdout!.off('data', onData);
        const firstLine = out.slice(0, nl);
        const m = /listening on (http:\/\/\S+)$/.exec(firstLine);
        if (m) resolve({ child, url: m[1]!, firstLine, stderr: () => err });
        else reject(new Error(`unexpected first line: ${firstLine}`));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening: ${err}`)));
  });
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

