import { describe, expect, it } from '@jest/globals';
import { Redactor, REDACTED } from '@fullstory-singer/singer-core';

describe('Redactor', () => {
  it('replaces every occurrence of a registered secret', () => {
    const r = new Redactor();
    r.register('na1.abc+def/123==');
    expect(r.redact('key na1.abc+def/123== and again na1.abc+def/123==.')).toBe(`key ${REDACTED} and again ${REDACTED}.`);
  });

  it('also replaces the base64 form (Basic auth header) and the URL-encoded form', () => {
    const r = new Redactor();
    const secret = 'na1.my key/with+chars';
    r.register(secret);
    const b64 = Buffer.from(secret).toString('base64');
    expect(r.redact(`Authorization: Basic ${b64}`)).toBe(`Authorization: Basic ${REDACTED}`);
    expect(r.redact(`?key=${encodeURIComponent(secret)}`)).toBe(`?key=${REDACTED}`);
  });

  it('ignores undefined and very short values, and leaves text alone with nothing registered', () => {
    const r = new Redactor();
    expect(r.redact('abc')).toBe('abc');
    r.register(undefined);
    r.register('ab');
    expect(r.size).toBe(0);
    expect(r.redact('ab abc')).toBe('ab abc');
  });

  it('redacts the longer of two overlapping secrets whole', () => {
    const r = new Redactor();
    r.register('secret');
    r.register('secret-and-more');
    expect(r.redact('x secret-and-more y')).toBe(`x ${REDACTED} y`);
  });

  it('forgets a secret and all its forms, and redacts nothing more for it', () => {
    const r = new Redactor();
    r.register('na1.kept-key');
    const kept = r.size;
    const url = 'https://storage.example/x?Signature=abc+/=';
    r.register(url);
    r.forget(url);
    expect(r.size).toBe(kept);
    expect(r.redact(`${url} ${encodeURIComponent(url)} na1.kept-key`)).toBe(`${url} ${encodeURIComponent(url)} ${REDACTED}`);
    r.forget('never registered');
    expect(r.size).toBe(kept);
  });
});
