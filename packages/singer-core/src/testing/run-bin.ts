import { spawn, type ChildProcess } from 'node:child_process';

/** Options of {@link runBin}. */
interface RunBinOptions {
  /** Written to the child's stdin (which is then closed); a stream is piped. Default: empty stdin. */
  input?: string | Buffer | NodeJS.ReadableStream;
  /** Extra environment, on top of a cleaned copy of `process.env`. */
  env?: Record<string, string>;
  /** Kill (SIGKILL) after this long. Default 60 s. */
  timeoutMs?: number;
  cwd?: string;
  /** Called with each complete stdout line as it arrives, e.g. to kill the child mid-run. */
  onStdoutLine?: (line: string, child: ChildProcess) => void;
}

/** How a child ended and what it printed. */
export interface RunBinResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

// Variables from the developer's shell that would change a bin's behaviour under test. NODE_OPTIONS
// is jest's `--experimental-vm-modules`, which makes every child print a warning on stderr.
const STRIPPED_ENV = /^(TAP_FULLSTORY_|TARGET_FULLSTORY_|LOG_LEVEL$|NODE_OPTIONS$)/;

/**
 * Runs a built bin (`node <binPath> ...args`) to completion and collects its output.
 * The environment is `process.env` without `TAP_FULLSTORY_*`, `TARGET_FULLSTORY_*`, `LOG_LEVEL`
 * and `NODE_OPTIONS`, plus `opts.env`.
 */
export function runBin(binPath: string, args: string[], opts: RunBinOptions = {}): Promise<RunBinResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !STRIPPED_ENV.test(k)) env[k] = v;
  Object.assign(env, opts.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      if (opts.onStdoutLine) {
        const parts = (partial + chunk.toString('utf8')).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) opts.onStdoutLine(line, child);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    // The child may exit before reading its input: that EPIPE is not the test's failure.
    child.stdin.on('error', () => {});
    const input = opts.input;
    if (input === undefined) child.stdin.end();
    else if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
    else input.pipe(child.stdin);
  });
}
