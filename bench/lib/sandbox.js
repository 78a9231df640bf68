// Starts the fullstory-sandbox bin for a benchmark and reads its URL from the `listening on` line.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { bins } from './paths.js';

/** The key the benchmarks' sandbox accepts (it means nothing outside the sandbox). */
export const BENCH_KEY = 'bench-sandbox-key';

/** Starts the sandbox with extra CLI flags; resolves { url, pid, stop() }. */
export async function startSandbox(flags, { logPath }) {
  const child = spawn(process.execPath, [bins.sandbox, '--port', '0', '--api-key', BENCH_KEY, ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.pipe(createWriteStream(logPath));
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolveUrl, rejectUrl) => {
    const timer = setTimeout(() => rejectUrl(new Error(`the sandbox did not start within 60 s (log: ${logPath})`)), 60_000);
    lines.on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1].replace(/\/$/, ''));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rejectUrl(new Error(`the sandbox exited with ${code} (log: ${logPath})`));
    });
  });
  const exited = new Promise((resolveExit) => child.once('close', resolveExit));
  return {
    url,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** GET a sandbox route as JSON. */
export async function getJson(url, headers = {}) {
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}
