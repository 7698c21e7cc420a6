/**
 * Runs one conformance test as its own runner process, the way cwltest does:
 * `RUNNER --outdir=<fresh temp dir> --quiet TOOL [JOB]` with the suite folder as working
 * directory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scoreRun, type RunOutcome, type TestStatus } from './score.js';
import type { ConformanceTest } from './suite.js';

/** Time between SIGTERM and SIGKILL when a run times out, in milliseconds. */
const KILL_GRACE_MS = 5_000;

/** Bytes of standard error kept for the report. */
const STDERR_TAIL_BYTES = 4_096;

export interface ExecuteOptions {
  /** Absolute suite folder, the working directory of every run. */
  suiteDir: string;
  /** Runner program and its leading arguments. */
  runner: string[];
  /** Limit for one run, in seconds. */
  timeoutSeconds: number;
  /** Keep each run's output folder instead of deleting it after scoring. */
  keepOutdirs?: boolean;
  /** Process groups of runs in progress, so a caller can kill them on interrupt. */
  running?: Set<number>;
  /** Starts and times each run; default: a child of this process, timed here. */
  launch?: ProcessLauncher;
}

/** How a run ended, its standard error tail, and its wall time in seconds. */
export interface LaunchResult {
  outcome: RunOutcome;
  stderr: string;
  seconds: number;
}

/** Runs one runner command from the suite folder and reports how it ended. */
export type ProcessLauncher = (command: string[], options: ExecuteOptions) => Promise<LaunchResult>;

/** One test's entry in the report. */
export interface TestResult {
  id: string;
  tags: string[];
  status: TestStatus;
  /** Wall-clock time of the runner process, in seconds. */
  seconds: number;
  reason?: string;
  /** Exit code, or null when a signal ended the runner. */
  exitCode: number | null;
  /** Command line, to run the test again by hand from the suite folder. */
  command: string[];
  /** Last bytes of the runner's standard error, for tests that did not pass. */
  stderrTail?: string;
  /** Output folder, present when it was kept. */
  outdir?: string;
}

/** Runs one test, scores it, and deletes its output folder unless `keepOutdirs` is set. */
export async function executeTest(
  test: ConformanceTest,
  options: ExecuteOptions,
): Promise<TestResult> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'ctao-conformance-'));
  const command = [...options.runner, `--outdir=${outdir}`, '--quiet', test.tool];
  if (test.job !== undefined) {
    command.push(test.job);
  }

  const launch = options.launch ?? runProcess;
  const run = await launch(command, options);
  const { outcome, stderr } = run;
  const seconds = Math.round(run.seconds * 1000) / 1000;

  // Score before deleting the folder, because File outputs are checked on disk.
  const verdict = scoreRun(test, outcome);
  const result: TestResult = {
    id: test.id,
    tags: test.tags,
    status: verdict.status,
    seconds,
    exitCode: outcome.exitCode,
    command,
  };
  if (verdict.reason !== undefined) {
    result.reason = verdict.reason;
  }
  if (verdict.status !== 'passed' && stderr !== '') {
    result.stderrTail = stderr;
  }

  if (options.keepOutdirs === true) {
    result.outdir = outdir;
  } else {
    rmSync(outdir, { recursive: true, force: true, maxRetries: 2 });
  }
  return result;
}

/**
 * Starts the runner in its own process group and waits until its output streams close. On
 * timeout the whole group gets SIGTERM, then SIGKILL, so tools that the runner started die too.
 */
function runProcess(command: string[], options: ExecuteOptions): Promise<LaunchResult> {
  const started = performance.now();
  const [program, ...args] = command as [string, ...string[]];
  const child = spawn(program, args, {
    cwd: options.suiteDir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const stdoutChunks: Buffer[] = [];
  let stderrTail = Buffer.alloc(0);
  child.stdout.on('data', (chunk: Buffer) => stdoutChunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail = Buffer.concat([stderrTail, chunk]).subarray(-STDERR_TAIL_BYTES);
  });

  if (child.pid !== undefined) {
    options.running?.add(child.pid);
  }

  return new Promise((resolve) => {
    let timedOut = false;
    const timers: NodeJS.Timeout[] = [];
    timers.push(
      setTimeout(() => {
        timedOut = true;
        killGroup(child.pid, 'SIGTERM');
        timers.push(setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS));
      }, options.timeoutSeconds * 1000),
    );

    let finished = false;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      // A program that cannot start emits 'error' and may emit 'close' as well.
      if (finished) {
        return;
      }
      finished = true;
      timers.forEach(clearTimeout);
      if (child.pid !== undefined) {
        options.running?.delete(child.pid);
      }
      const outcome: RunOutcome = {
        exitCode,
        signal,
        stdout: Buffer.concat(stdoutChunks).toString('utf8'),
      };
      if (error !== undefined) {
        outcome.startError = error.message;
      }
      if (timedOut) {
        outcome.timedOutAfterSeconds = options.timeoutSeconds;
      }
      const seconds = (performance.now() - started) / 1000;
      resolve({ outcome, stderr: stderrTail.toString('utf8'), seconds });
    };

    child.on('error', (error) => finish(null, null, error));
    child.on('close', (exitCode, signal) => finish(exitCode, signal));
  });
}

/** Sends a signal to a whole process group, ignoring a group that has already gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) {
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
      throw error;
    }
  }
}
