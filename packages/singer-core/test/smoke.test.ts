import { describe, expect, it } from '@jest/globals';
import { loadSchema } from '@fullstory-singer/schemas';
import * as core from '@fullstory-singer/singer-core';

describe('setup', () => {
  it('resolves workspace packages', () => {
    expect(typeof loadSchema).toBe('function');
    expect(core).toBeDefined();
  });
});
