import { describe, expect, it } from '@jest/globals';
import { PropertyNamer, rewritePropertyName, snakeCase } from '../src/mapping/names.js';

const isValidPropertyName = (name: string): boolean => /^[A-Za-z][A-Za-z0-9_]*$/.test(name);

describe('property names', () => {
  it('leaves valid names alone', () => {
    for (const n of ['plan', 'Plan2', 'days_active', 'a']) {
      expect(isValidPropertyName(n)).toBe(true);
      expect(rewritePropertyName(n)).toBe(n);
    }
  });

  it('rewrites invalid characters to _ and prefixes a leading non-letter', () => {
    expect(rewritePropertyName('agent:type')).toBe('agent_type');
    expect(rewritePropertyName('agent:os:version')).toBe('agent_os_version');
    expect(rewritePropertyName('_attribute_startswith_underscore')).toBe('p_attribute_startswith_underscore');
    expect(rewritePropertyName('2fa enabled')).toBe('p2fa_enabled');
    expect(rewritePropertyName('prix-€')).toBe('prix__');
    expect(rewritePropertyName('')).toBe('p');
    expect(isValidPropertyName(rewritePropertyName('ü'))).toBe(true);
  });

  it('reports each rewrite once', () => {
    const seen: string[] = [];
    const namer = new PropertyNamer((from, to) => seen.push(`${from}->${to}`));
    for (let i = 0; i < 3; i++) {
      expect(namer.name('a:b')).toBe('a_b');
      expect(namer.name('ok')).toBe('ok');
    }
    expect(seen).toEqual(['a:b->a_b']);
    expect(namer.rewrites).toBe(1);
  });

  it('snake-cases audience names', () => {
    expect(snakeCase('High Value Customers')).toBe('high_value_customers');
    expect(snakeCase('VIPUsers')).toBe('vip_users');
    expect(snakeCase('churnRisk-2024')).toBe('churn_risk_2024');
  });
});
