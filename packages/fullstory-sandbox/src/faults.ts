/**
 * Scripted faults. Rules are tried in the order they were armed; the first one that matches a
 * request (method, path prefix, and for probabilistic rules a seeded draw) fires and counts one
 * of its `times`. A rule with no `times` left is disarmed.
 */
import { mulberry32, type Random } from './prng.js';
import type { FaultAction, FaultRule } from './types.js';

interface ArmedRule {
  rule: FaultRule;
  action: FaultAction;
  /** Remaining applications; Infinity for an unlimited probabilistic rule. */
  left: number;
  random?: Random;
}

const ACTIONS: FaultAction[] = ['status', 'reset', 'stall', 'truncate', 'reject_items', 'drop_items', 'stale_list', 'string_ids', 'bad_event', 'trailing_bytes', 'fail', 'pending'];

/** Validates a rule and fills in its action; throws an Error naming the problem. */
function normaliseRule(input: unknown): { rule: FaultRule; action: FaultAction } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('a fault rule must be a JSON object');
  const rule = input as FaultRule;
  const known = new Set(['method', 'path', 'times', 'action', 'status', 'endpoint', 'match', 'headers', 'body', 'ms', 'after_bytes', 'index', 'text', 'probability', 'seed']);
  for (const key of Object.keys(rule)) if (!known.has(key)) throw new Error(`unknown fault rule field "${key}"`);
  const action: FaultAction | undefined = rule.action ?? (rule.status !== undefined ? 'status' : undefined);
  if (action === undefined) throw new Error(`a fault rule needs "action" (${ACTIONS.join(', ')}) or "status"`);
  if (!ACTIONS.includes(action)) throw new Error(`unknown fault action "${String(action)}"`);
  if (rule.endpoint !== undefined && (typeof rule.endpoint !== 'boolean' || action !== 'status')) throw new Error('"endpoint" is a boolean of action "status"');
  if ((action === 'reject_items' || action === 'drop_items') !== (rule.match !== undefined)) {
    throw new Error('actions "reject_items" and "drop_items" need "match" (and only they take it)');
  }
  if (rule.match !== undefined && (typeof rule.match !== 'string' || rule.match === '')) throw new Error('"match" must be a non-empty string');
  if (rule.method !== undefined && typeof rule.method !== 'string') throw new Error('"method" must be a string');
  if (rule.path !== undefined && typeof rule.path !== 'string') throw new Error('"path" must be a string');
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) throw new Error('"times" must be a positive integer');
  if (action === 'status' && !(Number.isInteger(rule.status) && rule.status! >= 100 && rule.status! <= 599)) {
    throw new Error('action "status" needs an integer "status" between 100 and 599');
  }
  if (rule.headers !== undefined && (typeof rule.headers !== 'object' || rule.headers === null)) throw new Error('"headers" must be an object');
  if ((action === 'stall' || action === 'pending') && !(typeof rule.ms === 'number' && rule.ms >= 0)) throw new Error(`action "${action}" needs "ms" >= 0`);
  if (action === 'truncate' && !(Number.isInteger(rule.after_bytes) && rule.after_bytes! >= 0)) {
    throw new Error('action "truncate" needs an integer "after_bytes" >= 0');
  }
  if (rule.after_bytes !== undefined && !(Number.isInteger(rule.after_bytes) && rule.after_bytes >= 0)) {
    throw new Error('"after_bytes" must be a non-negative integer');
  }
  if (action === 'bad_event' && !(Number.isInteger(rule.index) && rule.index! >= 0)) throw new Error('action "bad_event" needs an integer "index" >= 0');
  if ((action === 'bad_event' || action === 'trailing_bytes') && !(typeof rule.text === 'string' && /^[\u0000-\u00ff]*$/.test(rule.text))) {
    throw new Error(`action "${action}" needs "text", a string of characters U+0000 to U+00FF (one byte each)`);
  }
  if (rule.probability !== undefined && !(typeof rule.probability === 'number' && rule.probability >= 0 && rule.probability <= 1)) {
    throw new Error('"probability" must be a number between 0 and 1');
  }
  if (rule.seed !== undefined && !Number.isInteger(rule.seed)) throw new Error('"seed" must be an integer');
  return { rule, action };
}

/** The armed fault rules. */
export class FaultBook {
  private armed: ArmedRule[] = [];

  /** Arms rules (all validated first, so a bad array arms nothing). */
  add(rules: unknown): void {
    const list = Array.isArray(rules) ? rules : [rules];
    const checked = list.map(normaliseRule);
    for (const { rule, action } of checked) {
      const probabilistic = rule.probability !== undefined;
      this.armed.push({
        rule, action,
        left: rule.times ?? (probabilistic ? Infinity : 1),
        random: probabilistic ? mulberry32(rule.seed ?? 1) : undefined,
      });
    }
  }

  /** The rules still armed, with `times` showing what is left (absent when unlimited). */
  list(): FaultRule[] {
    return this.armed.map(({ rule, left }) => {
      const { times: _times, ...rest } = rule;
      return Number.isFinite(left) ? { ...rest, times: left } : rest;
    });
  }

  clear(): void {
    this.armed = [];
  }

  /** The rule that fires for this request, if any (its count is used up). */
  take(method: string, path: string): { rule: FaultRule; action: FaultAction } | undefined {
    for (let i = 0; i < this.armed.length; i++) {
      const a = this.armed[i]!;
      if (a.rule.method !== undefined && a.rule.method.toUpperCase() !== method) continue;
      if (a.rule.path !== undefined && !path.startsWith(a.rule.path)) continue;
      // Every matching request draws, hit or miss, so a storm is the same for the same request sequence.
      if (a.random !== undefined && a.random() >= a.rule.probability!) continue;
      a.left--;
      if (a.left <= 0) this.armed.splice(i, 1);
      return { rule: a.rule, action: a.action };
    }
    return undefined;
  }
}
