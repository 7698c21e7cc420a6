/**
 * Starts one payload process in its own process group and waits for it, killing the whole
 * group on abort or timeout.
 */
import { spawn } from 'node:child_process';
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { CwlExecutionError } from '../errors.js';

/** Seconds between SIGTERM and SIGKILL when a payload is stopped. */
const KILL_GRACE_MS = 10_000;

/** Options of {@link runPayload}. */
export interface PayloadOptions {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** File read as standard input; none means /dev/null. */
  stdinPath?: string;
  /** File that receives standard output; otherwise it goes to `stdoutSink`. */
  stdoutPath?: string;
  stderrPath?: string;
  stdoutSink?: Writable;
  stderrSink?: Writable;
  /** Wall-clock limit in seconds; 0 or undefined means none. */
  timeLimitSeconds?: number;
  signal?: AbortSignal;
  onProcessStart?: (pid: number) => void;
}

/** How a payload ended. */
export interface PayloadResult {
  exitCode: number;
  timedOut: boolean;
}

/**
 * Runs the payload and resolves with its exit code (128 + signal number when a signal ended
 * it). Throws CwlExecutionError when the command cannot be started, and `CWL_ABORTED` when
 * `signal` aborts the run.
 */
export async function runPayload(options: PayloadOptions): Promise<PayloadResult> {
  const handles: FileHandle[] = [];
  const openFile = async (file: string | undefined, flags: string): Promise<number | undefined> => {
    if (file === undefined) return undefined;
    const handle = await open(file, flags);
    handles.push(handle);
    return handle.fd;
  };

  try {
    const stdinFd = await openFile(options.stdinPath, 'r');
    const stdoutFd = await openFile(options.stdoutPath, 'w');
    const stderrFd = await openFile(options.stderrPath, 'w');
    return await waitForPayload(options, [
      stdinFd ?? 'ignore',
      stdoutFd ?? 'pipe',
      stderrFd ?? 'pipe',
    ]);
  } finally {
    await Promise.all(handles.map((handle) => handle.close()));
  }
}

type StdioEntry = number | 'ignore' | 'pipe';

function waitForPayload(options: PayloadOptions, stdio: StdioEntry[]): Promise<PayloadResult> {
  if (options.signal?.aborted) return Promise.reject(abortedError());

  return new Promise((resolve, reject) => {
    const [command, ...args] = options.argv;
    const child = spawn(command as string, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: stdio as ('pipe' | 'ignore' | number)[],
      detached: true,
    });
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;

    const killGroup = (): void => {
      if (child.pid === undefined || child.exitCode !== null) return;
      signalGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(child.pid as number, 'SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    const onAbort = (): void => {
      aborted = true;
      killGroup();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const limit = options.timeLimitSeconds ?? 0;
    const limitTimer =
      limit > 0
        ? setTimeout(() => {
            timedOut = true;
            killGroup();
          }, limit * 1000)
        : undefined;

    if (child.stdout) child.stdout.pipe(options.stdoutSink ?? process.stderr, { end: false });
    if (child.stderr) child.stderr.pipe(options.stderrSink ?? process.stderr, { end: false });

    child.once('spawn', () => {
      if (child.pid !== undefined) options.onProcessStart?.(child.pid);
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      cleanup();
      reject(
        new CwlExecutionError(
          'CWL_COMMAND_NOT_STARTED',
          `cannot start ${JSON.stringify(command)}: ${error.code ?? error.message}`,
          { cause: error },
        ),
      );
    });
    child.once('close', (code, signalName) => {
      cleanup();
      if (aborted) return reject(abortedError());
      const exitCode = code ?? 128 + signalNumber(signalName);
      resolve({ exitCode, timedOut });
    });

    function cleanup(): void {
      options.signal?.removeEventListener('abort', onAbort);
      if (limitTimer !== undefined) clearTimeout(limitTimer);
      if (killTimer !== undefined) clearTimeout(killTimer);
    }
  });
}

function signalGroup(pid: number, signalName: NodeJS.Signals): void {
  try {
    process.kill(-pid, signalName);
  } catch {
    // The group is already gone.
  }
}

function signalNumber(signalName: NodeJS.Signals | null): number {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return signalName === null ? 0 : (numbers[signalName] ?? 0);
}

function abortedError(): CwlExecutionError {
  return new CwlExecutionError('CWL_ABORTED', 'the run was aborted and its payload killed', {
    processStatus: 'permanentFail',
  });
}
