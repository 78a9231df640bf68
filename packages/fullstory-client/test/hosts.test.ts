import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@fullstory-singer/singer-core';
import { isLoopbackHost, resolveHosts } from '../src/hosts.js';

describe('resolveHosts', () => {
  it('sends every export call to export.fullstory.com, whatever the region', () => {
    expect(resolveHosts({ purpose: 'export' })).toBe('https://export.fullstory.com');
    expect(resolveHosts({ region: 'eu1', purpose: 'export' })).toBe('https://export.fullstory.com');
    expect(resolveHosts({ region: 'na1', purpose: 'export' })).toBe('https://export.fullstory.com');
  });

  it('sends Server API calls to api.fullstory.com, and to api.eu1.fullstory.com only for an explicit region eu1', () => {
    expect(resolveHosts({ purpose: 'api' })).toBe('https://api.fullstory.com');
    expect(resolveHosts({ region: 'na1', purpose: 'api' })).toBe('https://api.fullstory.com');
    expect(resolveHosts({ region: 'eu1', purpose: 'api' })).toBe('https://api.eu1.fullstory.com');
  });

  it('lets base_url override everything, without a trailing slash', () => {
    expect(resolveHosts({ region: 'eu1', baseUrl: 'https://proxy.example.com/fs/', purpose: 'api' })).toBe(
      'https://proxy.example.com/fs',
    );
    expect(resolveHosts({ baseUrl: 'https://proxy.example.com', purpose: 'export' })).toBe('https://proxy.example.com');
  });

  it('accepts http:// for loopback hosts', () => {
    expect(resolveHosts({ baseUrl: 'http://127.0.0.1:8080', purpose: 'api' })).toBe('http://127.0.0.1:8080');
    expect(resolveHosts({ baseUrl: 'http://127.3.4.5:9/', purpose: 'api' })).toBe('http://127.3.4.5:9');
    expect(resolveHosts({ baseUrl: 'http://localhost:8080/', purpose: 'export' })).toBe('http://localhost:8080');
    expect(resolveHosts({ baseUrl: 'http://[::1]:8080', purpose: 'api' })).toBe('http://[::1]:8080');
  });

  it('refuses http:// for any other host with a ConfigError naming base_url', () => {
    for (const baseUrl of ['http://example.com', 'http://10.0.0.5:8080', 'http://128.0.0.1', 'http://localhost.evil.com', 'http://[::2]']) {
      let caught: unknown;
      try {
        resolveHosts({ baseUrl, purpose: 'api' });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).exitCode).toBe(2);
      expect((caught as ConfigError).message).toMatch(/^base_url: http:\/\/ is only allowed for loopback/);
    }
  });

  it('refuses a base_url that is not an http(s) URL, or that carries credentials', () => {
    expect(() => resolveHosts({ baseUrl: 'not a url', purpose: 'api' })).toThrow(/^base_url: expected an absolute/);
    expect(() => resolveHosts({ baseUrl: 'ftp://example.com', purpose: 'api' })).toThrow(/^base_url: expected an http\(s\) URL/);
    expect(() => resolveHosts({ baseUrl: 'https://u:p@example.com', purpose: 'api' })).toThrow(/^base_url: must not contain a user/);
    expect(() => resolveHosts({ baseUrl: 'https://example.com/?a=1', purpose: 'api' })).toThrow(ConfigError);
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback hosts as URL.hostname spells them', () => {
    expect(['localhost', 'LOCALHOST', '127.0.0.1', '127.255.255.254', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['example.com', '10.0.0.1', '127.0.0.256', '0.0.0.0', '[::]'].some(isLoopbackHost)).toBe(false);
  });
});
