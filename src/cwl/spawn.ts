/**
 * Starts one payload process in its own process group and waits for it, killing the whole
 * group on abort or timeout.
 */
import { spawn } from 'node:child_process';
import { close, open } from './async-fs.js';
import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import { CwlExecutionError } from '../errors.js';

/** Milliseconds between SIGTERM and SIGKILL when a payload is stopped. */
const KILL_GRACE_MS = 10_000;

/** Options of {@link runPayload}. */
export interface PayloadOptions {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** File read as standard input; none means /dev/null. */
  stdinPath?: string;
  /** File that receives standard output. Without one, standard output goes to `stdoutSink`. */
  stdoutPath?: string;
  stderrPath?: string;
  stdoutSink?: Writable;
  stderrSink?: Writable;
  /** Wall-clock limit in seconds; 0 or undefined means none. */
  timeLimitSeconds?: number;
  signal?: AbortSignal;
  onProcessStart?: (pid: number) => void;
}

/** Exit status of a finished payload. */
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
  const descriptors: number[] = [];
  const openFile = async (file: string | undefined, flags: string): Promise<number | undefined> => {
    if (file === undefined) return undefined;
    const fd = await open(file, flags);
    descriptors.push(fd);
    return fd;
  };

  try {
    const stdinFd = await openFile(options.stdinPath, 'r');
    const stdoutFd = await openFile(options.stdoutPath, 'w');
    const stderrFd = await openFile(options.stderrPath, 'w');
    return await waitForPayload(options, [
      stdinFd ?? 'ignore',
      stdoutFd ?? standardStreamFd(options.stdoutSink) ?? 'pipe',
      stderrFd ?? standardStreamFd(options.stderrSink) ?? 'pipe',
    ]);
  } finally {
    await Promise.all(descriptors.map((fd) => close(fd)));
  }
}

type StdioEntry = number | 'ignore' | 'pipe';

/**
 * Returns the descriptor of `sink` when it is this process's own standard output or error,
 * which the payload then writes to directly, with no pipe through this process. Also the
 * default sink, standard error, when there is none.
 */
function standardStreamFd(sink: Writable | undefined): number | undefined {
  if (sink === undefined || sink === process.stderr) return 2;
  if (sink === process.stdout) return 1;
  return undefined;
}

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
    const stopper = new GroupStopper(child.pid, options);

    if (child.stdout) child.stdout.pipe(options.stdoutSink ?? process.stderr, { end: false });
    if (child.stderr) child.stderr.pipe(options.stderrSink ?? process.stderr, { end: false });

    child.once('spawn', () => {
      if (child.pid !== undefined) options.onProcessStart?.(child.pid);
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      stopper.dispose();
      const message = `cannot start ${JSON.stringify(command)}: ${describeStartError(error, options)}`;
      reject(new CwlExecutionError('CWL_COMMAND_NOT_STARTED', message, { cause: error }));
    });
    // 'close' waits for the standard streams as well, so output is complete when it fires.
    child.once('close', (code, signalName) => {
      stopper.dispose();
      if (stopper.aborted) return reject(abortedError());
      const exitCode =
        code ?? 128 + (signalName === null ? 0 : (constants.signals[signalName] ?? 0));
      resolve({ exitCode, timedOut: stopper.timedOut });
    });
  });
}

/** Describes why the payload could not start, naming the PATH searched for a missing program. */
function describeStartError(error: NodeJS.ErrnoException, options: PayloadOptions): string {
  const command = options.argv[0] ?? '';
  if (error.code === 'ENOENT' && !command.includes('/')) {
    const searched = options.env.PATH ?? '(not set)';
    return `program not found on PATH (${searched}); install it or add its folder to PATH`;
  }
  if (error.code === 'ENOENT') return 'no such file; check the path';
  if (error.code === 'EACCES') return 'permission denied; check that the file is executable';
  return error.code ?? error.message;
}

/**
 * Stops a payload's process group on abort or when its time limit passes: SIGTERM first, then
 * SIGKILL after a grace period.
 */
class GroupStopper {
  timedOut = false;
  aborted = false;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly limitTimer: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => {
    this.aborted = true;
    this.stop();
  };

  constructor(
    private readonly pid: number | undefined,
    private readonly options: PayloadOptions,
  ) {
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    const limit = options.timeLimitSeconds ?? 0;
    if (limit > 0) {
      this.limitTimer = setTimeout(() => {
        this.timedOut = true;
        this.stop();
      }, limit * 1000);
    }
  }

  /** Signals the whole group, so children the payload started stop too. */
  stop(): void {
    if (this.pid === undefined || this.killTimer !== undefined) return;
    const pid = this.pid;
    signalGroup(pid, 'SIGTERM');
    this.killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
    this.killTimer.unref();
  }

  dispose(): void {
    this.options.signal?.removeEventListener('abort', this.onAbort);
    clearTimeout(this.limitTimer);
    clearTimeout(this.killTimer);
  }
}

function signalGroup(pid: number, signalName: NodeJS.Signals): void {
  try {
    process.kill(-pid, signalName);
  } catch {
    // The group is already gone.
  }
}

function abortedError(): CwlExecutionError {
  return new CwlExecutionError('CWL_ABORTED', 'the run was aborted and its payload killed', {
    processStatus: 'permanentFail',
  });
}
