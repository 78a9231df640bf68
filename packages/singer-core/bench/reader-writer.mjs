#!/usr/bin/env node
// Throughput of the Singer reader and writer (figures, not pass/fail).
// Usage: npx tsc -b packages/singer-core && node packages/singer-core/bench/reader-writer.mjs [lines]
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { MessageWriter, readMessageBatches, readMessages, recordMessage } from '../dist/src/index.js';

const n = Number(process.argv[2] ?? 1_000_000);

function buildInput(makeLine) {
  const chunks = [];
  let text = '';
  for (let i = 0; i < n; i++) {
    text += `${makeLine(i)}\n`;
    if (text.length >= 64 * 1024) {
      chunks.push(Buffer.from(text));
      text = '';
    }
  }
  if (text) chunks.push(Buffer.from(text));
  return chunks;
}

async function time(fn) {
  const started = process.hrtime.bigint();
  const count = await fn();
  return { count, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

function report(name, { count, seconds }, unit) {
  console.log(`${name.padEnd(48)} ${String(Math.round(count / seconds)).padStart(9)} ${unit}/s  (${count} in ${seconds.toFixed(2)} s)`);
}

const small = buildInput((i) => `{"type":"RECORD","stream":"users","record":{"uid":"u${i}","email":"u${i}@example.com","n":${i}}}`);
const bigIds = buildInput(
  (i) => `{"type":"RECORD","stream":"events","record":{"IndvId":${9007199254740993n + BigInt(i)},"UserId":5189870820212736,"EventType":"click","n":${i}}}`,
);

report('readMessages, small lines', await time(async () => {
  let c = 0;
  for await (const _ of readMessages(Readable.from(small))) c++;
  return c;
}), 'lines');
report('readMessageBatches, small lines', await time(async () => {
  let c = 0;
  for await (const batch of readMessageBatches(Readable.from(small))) c += batch.length;
  return c;
}), 'lines');
report('readMessages, lines with an id > 2^53 (lossless)', await time(async () => {
  let c = 0;
  for await (const _ of readMessages(Readable.from(bigIds))) c++;
  return c;
}), 'lines');

// Writer into a real pipe (another process reading and discarding), as `tap | target` runs.
const sink = spawn(process.execPath, ['-e', 'process.stdin.resume()'], { stdio: ['pipe', 'ignore', 'inherit'] });
report('MessageWriter into a pipe', await time(async () => {
  const writer = new MessageWriter(sink.stdin);
  for (let i = 0; i < n; i++) await writer.write(recordMessage('users', { uid: `u${i}`, email: `u${i}@example.com`, n: i }));
  await writer.end();
  return n;
}), 'msgs');
await new Promise((resolve) => sink.on('close', resolve));
