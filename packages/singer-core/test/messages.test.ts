import { describe, expect, it } from '@jest/globals';
import {
  activateVersionMessage,
  isSingerMessage,
  recordMessage,
  schemaMessage,
  stateMessage,
  stringifyJson,
} from '@fullstory-singer/singer-core';

describe('message builders', () => {
  it('build the four message types in the Singer wire shape', () => {
    expect(stringifyJson(schemaMessage('events', { type: 'object' }, ['id'], ['EventStart']))).toBe(
      '{"type":"SCHEMA","stream":"events","schema":{"type":"object"},"key_properties":["id"],"bookmark_properties":["EventStart"]}',
    );
    expect(stringifyJson(recordMessage('events', { id: 1 }, '2026-01-01T00:00:00.000000Z'))).toBe(
      '{"type":"RECORD","stream":"events","record":{"id":1},"time_extracted":"2026-01-01T00:00:00.000000Z"}',
    );
    expect(stringifyJson(stateMessage({ bookmarks: {} }))).toBe('{"type":"STATE","value":{"bookmarks":{}}}');
    expect(stringifyJson(activateVersionMessage('users', 2))).toBe('{"type":"ACTIVATE_VERSION","stream":"users","version":2}');
  });

  it('leave optional keys out when not given or empty, like singer-python', () => {
    expect(schemaMessage('s', {}, [], [])).toEqual({ type: 'SCHEMA', stream: 's', schema: {}, key_properties: [] });
    expect(recordMessage('s', {})).toEqual({ type: 'RECORD', stream: 's', record: {} });
  });

  it('tell known message types from others', () => {
    expect(isSingerMessage(stateMessage({}))).toBe(true);
    expect(isSingerMessage({ type: 'BATCH', stream: 's' })).toBe(false);
  });
});
