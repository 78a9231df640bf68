import { describe, expect, it } from '@jest/globals';
import {
  AuthError,
  ConfigError,
  ExitCode,
  InputError,
  InternalError,
  isSingerError,
  RejectedRecordsError,
  SingerError,
  UnavailableError,
} from '@fullstory-singer/singer-core';

describe('errors', () => {
  it('uses the documented exit codes (README, "Exit codes")', () => {
    expect(ExitCode).toEqual({
      OK: 0,
      INTERNAL: 1,
      CONFIG: 2,
      BAD_INPUT: 3,
      AUTH: 4,
      UNAVAILABLE: 5,
      REJECTED: 6,
      INTERRUPTED_SIGINT: 130,
      STDOUT_CLOSED: 141,
      INTERRUPTED_SIGTERM: 143,
    });
  });

  it.each([
    [ConfigError, 'CONFIG', 2],
    [InputError, 'BAD_INPUT', 3],
    [AuthError, 'AUTH', 4],
    [UnavailableError, 'UNAVAILABLE', 5],
    [RejectedRecordsError, 'REJECTED', 6],
    [InternalError, 'INTERNAL', 1],
  ] as const)('%p has a stable code and exit code', (Class, code, exitCode) => {
    const err = new Class('something failed');
    expect(err).toBeInstanceOf(SingerError);
    expect(err).toBeInstanceOf(Error);
    expect(isSingerError(err)).toBe(true);
    expect(err.code).toBe(code);
    expect(err.exitCode).toBe(exitCode);
    expect(err.name).toBe(Class.name);
    expect(err.message).toBe('something failed');
  });

  it('keeps cause non-enumerable, so serialising an error never includes it', () => {
    const cause = { request: { headers: { authorization: 'Basic secret-key' } } };
    const err = new UnavailableError('gave up', { cause });
    expect((err as { cause?: unknown }).cause).toBe(cause);
    expect(Object.keys(err)).not.toContain('cause');
    expect(JSON.stringify(err)).not.toContain('secret-key');
  });

  it('carries line and source on InputError', () => {
    const err = new InputError('stdin:4: bad', { line: 4, source: 'stdin' });
    expect([err.line, err.source]).toEqual([4, 'stdin']);
    expect(isSingerError(new Error('plain'))).toBe(false);
  });
});
