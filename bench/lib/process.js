// Running a bin under measurement: wall time, peak RSS (VmHWM from /proc/<pid>/status, the kernel's
// own high-water mark of resident memory) and CPU time (utime + stime from /proc/<pid>/stat).
// Both are sampled while the process runs; VmHWM only ever grows, so the last sample before exit
// is the peak up to that moment (sampled every 50 ms).
import { spawn } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ on every mainstream kernel build

/** Reads VmHWM (kB) and CPU seconds of a live process; undefined once it is gone. */
function sampleProcess(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return {
      peakRssKb: hwm ? Number(hwm[1]) : undefined,
      cpuSeconds: (utime + stime) / CLOCK_TICKS_PER_SECOND,
    };
  } catch {
    return undefined;
  }
}

/**
 * Spawns `node <bin> ...args`. stderr goes to `logPath`; stdout is a pipe (`child.stdout`) unless
 * `stdout` is `'null'`, which sends it to /dev/null so that no reader shares the cores with the
 * bin. Returns the child and a promise of { code, signal, wallSeconds, peakRssMb, cpuSeconds }.
 */
export function runMeasured(bin, args, { env, stdin = 'pipe', stdout = 'pipe', logPath, sampleMs = 50 }) {
  const started = process.hrtime.bigint();
  const out = stdout === 'null' ? openSync('/dev/null', 'w') : 'pipe';
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: [stdin, out, 'pipe'] });
  if (typeof out === 'number') closeSync(out);
  const log = createWriteStream(logPath);
  child.stderr.pipe(log);
  let last = { peakRssKb: 0, cpuSeconds: 0 };
  const timer = setInterval(() => {
    const sample = sampleProcess(child.pid);
    if (sample?.peakRssKb !== undefined) last = sample;
  }, sampleMs);
  const done = new Promise((resolveDone, rejectDone) => {
    child.once('error', (error) => {
      clearInterval(timer);
      rejectDone(error);
    });
    child.once('exit', () => clearInterval(timer));
    child.once('close', (code, signal) => {
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      log.end();
      resolveDone({
        code,
        signal,
        wallSeconds,
        peakRssMb: Math.round((last.peakRssKb / 1024) * 10) / 10,
        cpuSeconds: last.cpuSeconds,
      });
    });
  });
  return { child, done };
}

/**
 * Consumes a stream as fast as it comes and counts its lines, and the lines that start with
 * `prefix` (cheap: no parsing, so the harness does not compete with the process it measures).
 */
export function countLines(readable, prefix) {
  const wanted = Buffer.from(prefix);
  let lines = 0;
  let matching = 0;
  let bytes = 0;
  // Bytes of the current line's start seen so far, when a line starts near a chunk's end.
  let head = Buffer.alloc(0);
  let atLineStart = true;
  readable.on('data', (chunk) => {
    bytes += chunk.length;
    let position = 0;
    while (position < chunk.length) {
      if (atLineStart) {
        const need = wanted.length - head.length;
        const piece = chunk.subarray(position, position + need);
        head = Buffer.concat([head, piece]);
        if (head.length === wanted.length || piece.includes(10)) {
          if (head.equals(wanted)) matching += 1;
          head = Buffer.alloc(0);
          atLineStart = false;
        } else {
          break; // the line start continues in the next chunk
        }
      }
      const newline = chunk.indexOf(10, position);
      if (newline === -1) break;
      lines += 1;
      position = newline + 1;
      atLineStart = true;
    }
  });
  return new Promise((resolveCount) => readable.once('end', () => resolveCount({ lines, matching, bytes })));
}
