// Shared by the Segment Export tests: what the sandbox's timeline holds, and checks on what the tap emitted.
import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { expect } from '@jest/globals';
import { generateEventJson, parseJsonLossless } from 'fullstory-sandbox';
import type { Sandbox } from 'fullstory-sandbox';

/** The Segment Export rows of the sandbox's generated events with `from ≤ EventStart < to`, as the sandbox writes them. */
export function servedEvents(sandbox: Sandbox, seed: number, from: string, to: string): string[] {
  const low = Date.parse(from);
  const high = Date.parse(to);
  return sandbox
    .bundles()
    .flatMap((b) => [...generateEventJson(seed, b.id, b.events!, { start: b.start, stop: b.stop })])
    .filter((text) => {
      const at = Date.parse((parseJsonLossless(text) as { EventStart: string }).EventStart);
      return at >= low && at < high;
    })
    .map((text) => text.replace('"PageAgent":', '"PageUserAgent":').replace('"EventTargetSelectorTok":', '"EventTargetSelector":'));
}

/** A record's row as served: the record without the tap's key fields and `time_extracted`, re-serialised as the line had it. */
export function rowBytes(line: string): { windowStart: string; index: number; row: string } {
  const m = /^\{"type":"RECORD","stream":"[a-z]+","record":\{"_sdc_window_start":"([^"]+)","_sdc_window_index":(\d+),(.*),"time_extracted":"[^"]+"\}$/.exec(line);
  expect(m).not.toBeNull();
  return { windowStart: m![1]!, index: Number(m![2]), row: `{${m![3]!}` };
}

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import may be the module object.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsImport as unknown as { default?: FormatsPlugin }).default ?? addFormatsImport) as unknown as FormatsPlugin;

/**
 * Checks every RECORD against the SCHEMA of its stream emitted before it, with ajv (as
 * singer-check-tap does): records are parsed with JSON.parse here, which is enough to check types.
 */
export function expectRecordsMatchSchemas(stdout: string): number {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validators = new Map<string, ReturnType<Ajv['compile']>>();
  let checked = 0;
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const message = JSON.parse(line) as { type: string; stream?: string; schema?: object; record?: unknown };
    if (message.type === 'SCHEMA') validators.set(message.stream!, ajv.compile(message.schema!));
    if (message.type !== 'RECORD') continue;
    const validate = validators.get(message.stream!);
    expect(validate).toBeDefined();
    if (!validate!(message.record)) throw new Error(`record of ${message.stream} does not match its SCHEMA: ${ajv.errorsText(validate!.errors)}: ${line.slice(0, 300)}`);
    checked++;
  }
  return checked;
}
