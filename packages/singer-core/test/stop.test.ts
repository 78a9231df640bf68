import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { installStopSignals, isStdoutClosed, StdoutClosedError, StopRequested, type SignalSource } from '@fullstory-singer/singer-core';

function fakeProcess(): SignalSource & { emit(name: string): boolean; listenerCount(name: string): number } {
  return new EventEmitter() as unknown as SignalSource & { emit(name: string): boolean; listenerCount(name: string): number };
}

describe('installStopSignals', () => {
  it('aborts at the first signal with a StopRequested carrying its exit code, and exits at once at the second', () => {
    const source = fakeProcess();
    const exits: number[] = [];
    const seen: string[] = [];
    const stop = installStopSignals({
      source,
      exit: (code) => exits.push(code),
      onFirst: (s) => seen.push(`first ${s.signal}`),
      onSecond: (name) => seen.push(`second ${name}`),
    });
    expect(stop.signal.aborted).toBe(false);
    expect(stop.requested).toBeUndefined();

    source.emit('SIGTERM');
    expect(stop.signal.aborted).toBe(true);
    expect(stop.signal.reason).toBeInstanceOf(StopRequested);
    expect(stop.requested).toMatchObject({ signal: 'SIGTERM', exitCode: 143, code: 'INTERRUPTED' });
    expect(exits).toEqual([]);

    source.emit('SIGINT');
    expect(exits).toEqual([130]);
    expect(seen).toEqual(['first SIGTERM', 'second SIGINT']);
    // The first stop is kept: the second signal does not replace its reason.
    expect(stop.requested?.signal).toBe('SIGTERM');
  });

  it('gives SIGINT exit code 130 and removes its handlers on dispose', () => {
    const source = fakeProcess();
    const stop = installStopSignals({ source, exit: () => {} });
    expect(source.listenerCount('SIGINT')).toBe(1);
    source.emit('SIGINT');
    expect(stop.requested?.exitCode).toBe(130);
    stop.dispose();
    expect(source.listenerCount('SIGINT')).toBe(0);
    expect(source.listenerCount('SIGTERM')).toBe(0);
  });
});

describe('isStdoutClosed', () => {
  it('knows a raw EPIPE and our own error, and nothing else', () => {
    expect(isStdoutClosed(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBe(true);
    expect(isStdoutClosed(new StdoutClosedError())).toBe(true);
    expect(isStdoutClosed(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isStdoutClosed(undefined)).toBe(false);
    expect(new StdoutClosedError().exitCode).toBe(141);
  });
});
