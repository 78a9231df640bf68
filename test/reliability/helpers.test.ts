/**
 * The suite's own checks must be able to fail: the secret search finds every form of the key, and a
 * failure message carries the seed.
 */
import { describe, expect, it } from '@jest/globals';
import { SECRET, SEED, expectNoSecret, prng, secretForms, seeded } from './helpers.js';

describe('reliability helpers', () => {
  it('expectNoSecret finds the key raw, in base64, base64 of "key:", and in part', () => {
    const leaks = [...secretForms(SECRET), 'Basic RELIABILITY-SECRET-7f3a9c1e5b2d8064'];
    for (const leak of leaks) {
      expect(() => expectNoSecret({ stderr: `INFO request header=${leak} done` })).toThrow(/appears in stderr/);
      expect(() => expectNoSecret({ stdout: Buffer.from(`\xff${leak}`, 'latin1') })).toThrow(/appears in stdout/);
    }
    const other = `${SECRET}-other`;
    expect(() => expectNoSecret({ log: Buffer.from(other).toString('base64') }, [other])).toThrow(/appears in log/);
    expect(() => expectNoSecret({ stdout: 'api_key=[REDACTED]', stderr: undefined })).not.toThrow();
  });

  it('seeded puts the seed in front of a failure message', async () => {
    const failing = seeded(async () => {
      throw new Error('boom');
    });
    await expect(failing()).rejects.toThrow(`[RELIABILITY_SEED=${SEED}] boom`);
  });

  it('prng is repeatable for a seed and differs between seeds', () => {
    const a = prng(7);
    const b = prng(7);
    const c = prng(8);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect([c(), c(), c()]).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});
