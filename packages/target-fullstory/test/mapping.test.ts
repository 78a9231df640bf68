import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@fullstory-singer/singer-core';
import { compileMapper, type MapperOptions, type MapResult } from '../src/mapping/mapper.js';
import { PropertyNamer } from '../src/mapping/names.js';
import { loadSchema } from '@fullstory-singer/schemas';

const schema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    uid: { type: 'string' },
    name: { type: 'string' },
    email: { type: 'string' },
    display_name: { type: 'string' },
    plan: { type: 'string' },
    days_active: { type: 'integer' },
    total_spent: { type: 'number' },
    vip: { type: 'boolean' },
    signed_up: { type: 'string', format: 'date-time' },
    tags: { type: 'array', items: { type: 'string' } },
    address: { type: 'object', properties: { city: { type: 'string' }, 'zip:code': { type: 'integer' } } },
    orders: { type: 'array', items: { type: 'object' } },
  },
};

function mapper(over: Partial<MapperOptions> = {}, issues: string[] = []) {
  return compileMapper({
    stream: 's',
    dataType: 'users',
    declarePropertyTypes: true,
    schema,
    namer: new PropertyNamer(),
    onPropertyIssue: (kind, path) => issues.push(`${kind}:${path}`),
    ...over,
  });
}

function ok(r: MapResult): Record<string, unknown> {
  if (!r.ok) throw new Error(`rejected: ${r.message}`);
  return r.request;
}

describe('users mapping', () => {
  it('maps uid, display_name and email from their default fields; everything else is a typed property', () => {
    const r = ok(
      mapper().map({
        uid: 'u1',
        display_name: 'Ada',
        email: 'ada@example.com',
        plan: 'paid',
        days_active: 2,
        total_spent: 14.55,
        vip: true,
        signed_up: '2024-01-01T00:00:00Z',
        tags: ['a', 'b'],
      }),
    );
    expect(r).toEqual({
      uid: 'u1',
      display_name: 'Ada',
      email: 'ada@example.com',
      properties: {
        plan: 'paid',
        days_active: 2,
        total_spent: 14.55,
        vip: true,
        signed_up: '2024-01-01T00:00:00Z',
        tags: ['a', 'b'],
      },
      schema: {
        properties: { plan: 'str', days_active: 'int', total_spent: 'real', vip: 'bool', signed_up: 'date', tags: 'strs' },
      },
    });
  });

  it('maps from configured fields, dotted paths and constants; mapped fields are not properties', () => {
    const m = mapper({ mapping: { uid: 'id', display_name: 'name', email: { value: 'fixed@example.com' } } });
    expect(ok(m.map({ id: 42, name: 'Bob', plan: 'free' }))).toEqual({
      uid: '42',
      display_name: 'Bob',
      email: 'fixed@example.com',
      properties: { plan: 'free' },
      schema: { properties: { plan: 'str' } },
    });
    const nested = mapper({ mapping: { uid: 'address.city' } });
    expect(ok(nested.map({ address: { city: 'Paris', 'zip:code': 75001 } }))).toEqual({
      uid: 'Paris',
      properties: { address: { zip_code: 75001 } },
      schema: { properties: { 'address.zip_code': 'int' } },
    });
  });

  it('sends numeric and big uids as decimal strings', () => {
    const m = mapper({ mapping: { uid: 'id' } });
    expect(ok(m.map({ id: 7 }))['uid']).toBe('7');
    expect(ok(m.map({ id: 12345678901234567890n }))['uid']).toBe('12345678901234567890');
  });

  it.each([
    [{}, 'missing_required_field', 'required_field'],
    [{ uid: null }, 'missing_required_field', 'required_field'],
    [{ uid: '' }, 'missing_required_field', 'required_field'],
    [{ uid: '   ' }, 'missing_required_field', 'required_field'],
    [{ uid: { a: 1 } }, 'invalid_value', 'invalid_uid'],
    [{ uid: true }, 'invalid_value', 'invalid_uid'],
    [{ uid: 'u', email: ['x'] }, 'invalid_value', 'invalid_email'],
    [{ uid: Infinity }, 'invalid_value', 'invalid_uid'],
    [{ uid: 'u', total_spent: -Infinity }, 'invalid_value', 'non_finite_number'],
    [{ uid: 'u', tags: [1, Infinity] }, 'invalid_value', 'non_finite_number'],
    [{ uid: 'u', address: { 'zip:code': Infinity } }, 'invalid_value', 'non_finite_number'],
    [{ uid: 'u', 'a-b': 1, a_b: 2 }, 'invalid_value', 'property_name_collision'],
    [{ uid: 'u', address: { 'zip:code': 1, zip_code: 2 } }, 'invalid_value', 'property_name_collision'],
    [{ uid: 'x'.repeat(257) }, 'invalid_value', 'uid_too_long'],
  ])('rejects %j', (record, reason, code) => {
    const r = mapper().map(record);
    expect(r).toMatchObject({ ok: false, reason, code });
  });

  it('applies include and exclude lists (dotted paths too)', () => {
    const rec = { uid: 'u', plan: 'p', vip: false, days_active: 3, address: { city: 'Oslo', 'zip:code': 1 } };
    expect(ok(mapper({ properties: { include: ['plan', 'address.city'] } }).map(rec))['properties']).toEqual({
      plan: 'p',
      address: { city: 'Oslo' },
    });
    expect(ok(mapper({ properties: { exclude: ['plan', 'address'] } }).map(rec))['properties']).toEqual({
      vip: false,
      days_active: 3,
    });
    expect(ok(mapper({ properties: { include: [] } }).map(rec))).toEqual({ uid: 'u' });
    // An ancestor of an included path is only descended into, never sent whole or as a scalar.
    expect(ok(mapper({ properties: { include: ['address.city'] } }).map({ uid: 'u', address: 'flat text' }))).toEqual({ uid: 'u' });
  });

  it('rewrites names (nested too), leaves nulls out, types undeclared fields by nothing', () => {
    const r = ok(mapper().map({ uid: 'u', 'first name': 'Ada', _x: 1, address: { 'zip:code': 5, city: null }, extra: null }));
    expect(r['properties']).toEqual({ first_name: 'Ada', p_x: 1, address: { zip_code: 5 } });
    expect(r['schema']).toEqual({ properties: { 'address.zip_code': 'int' } });
  });

  it('omits schema when declare_property_types is off', () => {
    const r = ok(mapper({ declarePropertyTypes: false }).map({ uid: 'u', plan: 'x' }));
    expect(r).toEqual({ uid: 'u', properties: { plan: 'x' } });
  });

  it('sends an array of objects as JSON text typed str, and counts it', () => {
    const issues: string[] = [];
    const m = mapper({}, issues);
    const r = ok(m.map({ uid: 'u', orders: [{ id: 1 }, { id: 2 }] }));
    expect(r['properties']).toEqual({ orders: '[{"id":1},{"id":2}]' });
    expect(r['schema']).toEqual({ properties: { orders: 'str' } });
    m.map({ uid: 'v', orders: [{ id: 3 }] });
    expect(m.counts.stringified).toBe(2);
    expect(issues).toEqual(['stringified_array_of_objects:orders']);
  });

  it('drops values over 8192 bytes and over-long dotted names, keeps the record', () => {
    const issues: string[] = [];
    const m = mapper({}, issues);
    const big = 'é'.repeat(4097); // 8194 bytes
    const r = ok(m.map({ uid: 'u', plan: big, tags: ['x'.repeat(9000)], [`k${'x'.repeat(600)}`]: 1, vip: true }));
    expect(r['properties']).toEqual({ vip: true });
    expect(m.counts.dropped).toBe(3);
    expect(issues.sort()).toEqual(
      ['dropped_long_name:k' + 'x'.repeat(600), 'dropped_oversize_value:plan', 'dropped_oversize_value:tags'].sort(),
    );
    // Exactly at the limit is fine.
    expect(ok(m.map({ uid: 'u', plan: 'a'.repeat(8192) }))['properties']).toEqual({ plan: 'a'.repeat(8192) });
  });

  it('refuses mapping keys of another data type', () => {
    expect(() => mapper({ mapping: { event_name: 'x' } })).toThrow(ConfigError);
    expect(() => mapper({ mapping: { event_name: 'x' } })).toThrow(/streams\.s\.mapping\.event_name/);
  });
});

describe('events mapping', () => {
  const eventSchema = {
    type: 'object',
    properties: { user_id: { type: 'string' }, event: { type: 'string' }, at: {}, price: { type: 'number' }, sid: { type: 'string' } },
  };
  const ev = (over: Partial<MapperOptions> = {}) =>
    mapper({ dataType: 'events', schema: eventSchema, mapping: { uid: 'user_id', event_name: 'event', timestamp: 'at' }, ...over });

  it('maps user.uid, name, normalised timestamp and properties', () => {
    expect(ok(ev().map({ user_id: 'u1', event: 'Order Completed', at: 1_700_000_000, price: 12.5 }))).toEqual({
      user: { uid: 'u1' },
      name: 'Order Completed',
      timestamp: '2023-11-14T22:13:20.000Z',
      properties: { price: 12.5 },
      schema: { properties: { price: 'real' } },
    });
  });

  it('uses default fields and a constant event name', () => {
    const m = mapper({ dataType: 'events', schema: eventSchema, mapping: { event_name: { value: 'Signed Up' } } });
    expect(ok(m.map({ uid: 9, timestamp: '2024-01-02' }))).toEqual({
      user: { uid: '9' },
      name: 'Signed Up',
      timestamp: '2024-01-02T00:00:00.000Z',
    });
  });

  it('leaves the timestamp out when absent, rejects one that is not a timestamp', () => {
    expect(ok(ev().map({ user_id: 'u', event: 'e' }))).toEqual({ user: { uid: 'u' }, name: 'e' });
    expect(ev().map({ user_id: 'u', event: 'e', at: '2024-01-02T03:04:05' })).toMatchObject({
      ok: false,
      reason: 'invalid_value',
      code: 'invalid_timestamp',
    });
  });

  it('identifies by session id alone when one is mapped, or asks for the most recent session', () => {
    const bySession = ev({ mapping: { uid: 'user_id', event_name: 'event', timestamp: 'at', session_id: 'sid' } });
    expect(ok(bySession.map({ event: 'e', sid: '123:456' }))).toEqual({ session: { id: '123:456' }, name: 'e' });
    expect(bySession.map({ event: 'e' })).toMatchObject({ ok: false, code: 'required_field' });
    const recent = ev({ mapping: { uid: 'user_id', event_name: 'event', use_most_recent_session: { value: true } } });
    expect(ok(recent.map({ user_id: 'u', event: 'e' }))).toEqual({ user: { uid: 'u' }, session: { use_most_recent: true }, name: 'e' });
  });

  it('requires uid and event name', () => {
    expect(ev().map({ event: 'e' })).toMatchObject({ ok: false, reason: 'missing_required_field', message: /uid is missing/ });
    expect(ev().map({ user_id: 'u', event: '' })).toMatchObject({ ok: false, reason: 'missing_required_field', message: /event name/ });
  });
});

describe('audience mapping', () => {
  it('add mode sends only the uid and the membership flag', () => {
    const m = mapper({ dataType: 'audience', audience: { property: 'high_value', mode: 'add' } });
    expect(ok(m.map({ uid: 'u', plan: 'x', email: 'e@x' }))).toEqual({
      uid: 'u',
      properties: { high_value: true },
      schema: { properties: { high_value: 'bool' } },
    });
  });

  it('upsert mode sends the mapped fields, properties and the flag', () => {
    const m = mapper({ dataType: 'audience', audience: { property: 'high_value', mode: 'upsert' } });
    expect(ok(m.map({ uid: 'u', plan: 'x', email: 'e@x' }))).toEqual({
      uid: 'u',
      email: 'e@x',
      properties: { plan: 'x', high_value: true },
      schema: { properties: { plan: 'str', high_value: 'bool' } },
    });
  });
});

describe('patternProperties', () => {
  it('types fields matched by a pattern, nested ones too', () => {
    const m = mapper({
      schema: {
        type: 'object',
        properties: { uid: { type: 'string' }, meta: { type: 'object', patternProperties: { '^n_': { type: 'integer' } } } },
        patternProperties: { '_count$': { type: ['null', 'integer'] }, '^when_': { type: 'string', format: 'date-time' }, '(': { type: 'string' } },
      },
    });
    const r = ok(m.map({ uid: 'u', login_count: 3, when_seen: '2024-01-01T00:00:00Z', other: 'x', meta: { n_a: 1, b: 2 } }));
    expect(r['schema']).toEqual({ properties: { login_count: 'int', when_seen: 'date', 'meta.n_a': 'int' } });
  });

  it('types the custom variables of tap-fullstory events by their suffix', () => {
    const m = mapper({
      dataType: 'events',
      schema: loadSchema('streams/events.json') as Record<string, unknown>,
      mapping: { uid: 'UserAppKey', event_name: 'EventCustomName', timestamp: 'EventStart' },
      properties: { include: ['PageUrl', 'PageDuration', 'evt_price_real', 'evt_qty_int', 'user_plan_str', 'page_tags_strs', 'evt_when_date'] },
    });
    const r = ok(
      m.map({
        UserAppKey: 'u1',
        EventCustomName: 'Product Added',
        EventStart: '2020-08-27T06:20:42.178Z',
        PageUrl: 'https://example.com/',
        PageDuration: 51439,
        evt_price_real: 6.75,
        evt_qty_int: 2,
        user_plan_str: 'pro',
        page_tags_strs: ['a'],
        evt_when_date: '2020-08-27T06:20:42Z',
        IndvId: 12345678901234567890n,
      }),
    );
    expect(r).toMatchObject({ user: { uid: 'u1' }, name: 'Product Added', timestamp: '2020-08-27T06:20:42.178Z' });
    expect(r['schema']).toEqual({
      properties: {
        PageUrl: 'str',
        PageDuration: 'int',
        evt_price_real: 'real',
        evt_qty_int: 'int',
        user_plan_str: 'str',
        page_tags_strs: 'strs',
        evt_when_date: 'date',
      },
    });
  });
});

describe('what FullStory cannot take', () => {
  it('names the two colliding fields and the property they would both be', () => {
    const r = mapper().map({ uid: 'u', address: { 'zip:code': 1, zip_code: 2 } });
    expect(r).toMatchObject({ ok: false, message: expect.stringMatching(/"address\.zip:code" and "address\.zip_code" are both sent as property "address\.zip_code"/) });
  });

  it('a null beside a colliding name is not a collision (nulls are not sent)', () => {
    expect(ok(mapper().map({ uid: 'u', 'a-b': null, a_b: 2 }))['properties']).toEqual({ a_b: 2 });
  });

  it('a record property named like the audience flag is a collision, not overwritten', () => {
    const m = mapper({ dataType: 'audience', audience: { property: 'vip', mode: 'upsert' } });
    expect(m.map({ uid: 'u', vip: false })).toMatchObject({ ok: false, code: 'property_name_collision' });
  });

  it('a literal dotted key is a property; the mapped nested path is not', () => {
    const m = mapper({ mapping: { uid: 'address.city' } });
    expect(ok(m.map({ address: { city: 'Oslo' }, 'address.city': 'literal' }))).toEqual({
      uid: 'Oslo',
      properties: { address_city: 'literal' },
    });
  });

  it('counts properties across nesting: 500 pass, 501 reject', () => {
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i]));
    expect(ok(mapper().map({ uid: 'u', ...many(499), nested: { a: 1 } }))).toBeDefined();
    expect(mapper().map({ uid: 'u', ...many(500), nested: { a: 1 } })).toMatchObject({ ok: false, code: 'too_many_properties' });
  });

  it('checks the event name length (250 characters) and session id length', () => {
    const m = mapper({ dataType: 'events', schema: { type: 'object', properties: {} }, mapping: { session_id: 'sid' } });
    expect(m.map({ uid: 'u', event_name: 'e'.repeat(251) })).toMatchObject({ ok: false, code: 'event_name_too_long' });
    expect(ok(m.map({ uid: 'u', event_name: 'e'.repeat(250) }))).toBeDefined();
    expect(m.map({ sid: '1'.repeat(257), event_name: 'e' })).toMatchObject({ ok: false, code: 'session_id_too_long' });
  });
});
