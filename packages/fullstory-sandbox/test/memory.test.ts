// Streams a generated bundle of more than 2 GB (uncompressed) from the bin and checks that the
// sandbox process's memory stays flat: its peak RSS (VmHWM) stays under 150 MB.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createGunzip } from 'node:zlib';
import { KEY } from './helpers.js';
import { exitOf, spawnSandbox } from './spawn.js';

const EVENTS = 2_300_000; // ~960 bytes each: about 2.2 GB of JSON
const MB = 1024 * 1024;

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('memory', () => {
  it('serves a bundle over 2 GB with the sandbox peak RSS under 150 MB', async () => {
    const s = await spawnSandbox(['--bundles', '1', '--events-per-bundle', String(EVENTS), '--downloads-per-minute', '0', '--quiet']);
    child = s.child;
    const pid = s.child.pid!;
    let sampledPeakKb = 0;
    const sampler = setInterval(() => { sampledPeakKb = Math.max(sampledPeakKb, statusKb(pid, 'VmRSS')); }, 100);
    const t0 = Date.now();
    const { bytes, gzBytes, events } = await new Promise<{ bytes: number; gzBytes: number; events: number }>((resolve, reject) => {
      const req = request(`${s.url}/api/v1/export/get?id=1000000`, { headers: { authorization: `Basic ${KEY}` } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        let gz = 0;
        let raw = 0;
        let commas = 0;
        let last = 0;
        res.on('data', (c: Buffer) => { gz += c.length; });
        const gunzip = createGunzip({ chunkSize: 256 * 1024 });
        // Count bytes and the `},{` separators without keeping anything.
        gunzip.on('data', (c: Buffer) => {
          raw += c.length;
          for (let i = c.indexOf(0x2c); i !== -1; i = c.indexOf(0x2c, i + 1)) {
            const prev = i > 0 ? c[i - 1] : last;
            if (prev === 0x7d && (i + 1 < c.length ? c[i + 1] === 0x7b : true)) commas++;
          }
          last = c[c.length - 1]!;
        });
        gunzip.on('end', () => resolve({ bytes: raw, gzBytes: gz, events: commas + 1 }));
        gunzip.on('error', reject);
        res.pipe(gunzip);
      });
      req.on('error', reject);
      req.end();
    });
    const seconds = (Date.now() - t0) / 1000;
    clearInterval(sampler);
    const hwmKb = statusKb(pid, 'VmHWM');
    s.child.kill('SIGTERM');
    await exitOf(s.child);
    const peakMb = Math.max(hwmKb, sampledPeakKb) / 1024;
    // Tests may not print; set SANDBOX_MEMORY_REPORT=<file> to get the figures (README quotes them).
    const report = process.env.SANDBOX_MEMORY_REPORT;
    if (report) writeFileSync(report, `${JSON.stringify({ events, bytes, gzBytes, seconds, peakMb, mbPerSecond: bytes / MB / seconds })}\n`);
    expect(bytes).toBeGreaterThan(2 * 1000 * MB);
    // Within a few of the event count: a `},{` split across chunks is counted approximately.
    expect(Math.abs(events - EVENTS)).toBeLessThan(EVENTS * 0.001);
    expect(peakMb).toBeLessThan(150);
  }, 90_000);
});
