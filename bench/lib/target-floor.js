// The target's floor (the quality bar's "a script that only parses each line, builds the request and
// stringifies batches of 5000"): the bench's Singer input on stdin, each line split off and
// JSON.parse'd, each RECORD turned into the request target-fullstory would send for it (the same fields,
// properties and schema declaration: bench/target.js's two streams), and each batch of 5000 requests per
// stream JSON.stringify'd into a `{"requests":[...]}` body and dropped. Nothing is validated, mapped by
// config, kept, sent or accounted for. Run as a bin: `node bench/lib/target-floor.js < input.singer`.
//
// `forEachBody` builds the same bodies for bench/target.js's hash measurement.
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The `schema` declaration target-fullstory derives from each bench stream's SCHEMA. */
const DECLARED = {
  bench_users: { properties: { plan: 'str', seats: 'int', monthly_revenue: 'real', on_trial: 'bool', signed_up_at: 'date' } },
  bench_events: { properties: { order_id: 'str', amount: 'real', items: 'int', coupon: 'bool' } },
};

/** The request of one bench record, shaped as target-fullstory sends it. */
function request(stream, record) {
  if (stream === 'bench_users') {
    const { uid, display_name, email, ...properties } = record;
    return { uid, display_name, email, properties, schema: DECLARED.bench_users };
  }
  const { uid, event_name, timestamp, ...properties } = record;
  return { user: { uid }, name: event_name, timestamp, properties, schema: DECLARED.bench_events };
}

/**
 * Reads Singer lines from `input` and calls `onBody(stream, body)` with each batch of `batchSize`
 * requests of a stream as a stringified body (and the rest of each stream at the end).
 */
export async function forEachBody(input, batchSize, onBody) {
  const open = new Map();
  const add = (stream, req) => {
    let list = open.get(stream);
    if (!list) open.set(stream, (list = []));
    list.push(req);
    if (list.length >= batchSize) {
      onBody(stream, JSON.stringify({ requests: list }));
      open.set(stream, []);
    }
  };
  // Decoded by the stream, so a character split between two chunks stays whole.
  input.setEncoding('utf8');
  let rest = '';
  for await (const chunk of input) {
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const message = JSON.parse(text.slice(start, nl));
      start = nl + 1;
      if (message.type === 'RECORD') add(message.stream, request(message.stream, message.record));
    }
    rest = text.slice(start);
  }
  for (const [stream, list] of open) if (list.length > 0) onBody(stream, JSON.stringify({ requests: list }));
}

/** The bench input's bodies from a file. */
export function forEachBodyOf(path, batchSize, onBody) {
  return forEachBody(createReadStream(path, { highWaterMark: 1 << 16 }), batchSize, onBody);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let bodies = 0;
  await forEachBody(process.stdin, 5000, () => {
    bodies += 1;
  });
  process.stdout.write(`${bodies}\n`);
}
