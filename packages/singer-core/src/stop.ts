/**
 * How a CLI stops early, in one place for both programs: the first SIGINT or SIGTERM asks for a
 * graceful stop (an `AbortSignal` the program's loops watch), a second one exits at once, and a
 * reader that closed stdout (EPIPE) is its own error with its own exit code, never taken for a
 * network failure and never retried.
 *
 * Exit codes follow the shell's convention for a process ended by a signal (128 + signal number):
 * 130 for SIGINT, 143 for SIGTERM, 141 for SIGPIPE.
 */
import { ExitCode, SingerError } from './errors.js';

/** The signals that ask for a graceful stop. */
type StopSignalName = 'SIGINT' | 'SIGTERM';

const SIGNAL_EXIT_CODE: Record<StopSignalName, number> = {
  SIGINT: ExitCode.INTERRUPTED_SIGINT,
  SIGTERM: ExitCode.INTERRUPTED_SIGTERM,
};

/**
 * The reason a graceful stop was asked for; also what a program throws (or whose `exitCode` it
 * returns) once it has stopped. {@link runMain} prints its message as the program's last line.
 */
export class StopRequested extends SingerError {
  /** The signal that asked for the stop. */
  readonly signal: StopSignalName;

  constructor(signal: StopSignalName, message = `interrupted by ${signal}`) {
    super(message, undefined, 'INTERRUPTED', SIGNAL_EXIT_CODE[signal]);
    this.signal = signal;
  }
}

/**
 * stdout was closed by the process reading it (EPIPE: `| head`, a target that died). Not a
 * failure of the export or of FullStory: nothing is retried, the program stops with exit 141.
 */
export class StdoutClosedError extends SingerError {
  constructor(options?: { cause?: unknown }) {
    super('stdout was closed by the reading process (EPIPE); stopping', options, 'STDOUT_CLOSED', ExitCode.STDOUT_CLOSED);
  }
}

/** True for an EPIPE from a write, or our own {@link StdoutClosedError}. */
export function isStdoutClosed(err: unknown): boolean {
  return err instanceof StdoutClosedError || (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/** What {@link installStopSignals} returns. */
interface StopSignals {
  /** Aborted at the first signal; its `reason` is a {@link StopRequested}. */
  readonly signal: AbortSignal;
  /** The {@link StopRequested} of the first signal, once one arrived. */
  readonly requested: StopRequested | undefined;
  /** Removes the handlers (the process's default behaviour returns). */
  dispose(): void;
}

/** The parts of `process` that {@link installStopSignals} uses (injectable for tests). */
export interface SignalSource {
  on(event: StopSignalName, listener: () => void): unknown;
  off(event: StopSignalName, listener: () => void): unknown;
}

/** Options of {@link installStopSignals}. */
interface StopSignalsOptions {
  /** Default `process`. */
  source?: SignalSource;
  /** Called at the first signal (e.g. to log "stopping after the current record"). */
  onFirst?: (stop: StopRequested) => void;
  /** Called at the second signal, before exiting (e.g. to log "exiting at once"). */
  onSecond?: (signal: StopSignalName) => void;
  /** How the second signal exits. Default `process.exit`. */
  exit?: (code: number) => void;
}

/**
 * Installs SIGINT and SIGTERM handlers. The first signal aborts {@link StopSignals.signal}; the
 * program stops reading, finishes what is safe to finish, prints its last safe state and exits
 * with the {@link StopRequested}'s exit code. A second signal (of either kind) exits at once with
 * the code of that signal.
 */
export function installStopSignals(options: StopSignalsOptions = {}): StopSignals {
  const source = options.source ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const controller = new AbortController();
  let requested: StopRequested | undefined;
  const handlers = new Map<StopSignalName, () => void>();
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    const handler = (): void => {
      if (requested === undefined) {
        requested = new StopRequested(name);
        controller.abort(requested);
        options.onFirst?.(requested);
        return;
      }
      options.onSecond?.(name);
      exit(SIGNAL_EXIT_CODE[name]);
    };
    handlers.set(name, handler);
    source.on(name, handler);
  }
  return {
    signal: controller.signal,
    get requested() {
      return requested;
    },
    dispose() {
      for (const [name, handler] of handlers) source.off(name, handler);
      handlers.clear();
    },
  };
}
