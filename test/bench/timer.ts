/**
 * The benchmark's side of timer-process.mjs: starts it once and sends it the commands to time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LaunchResult, ProcessLauncher } from '../conformance/execute.js';

const SCRIPT = fileURLToPath(new URL('./timer-process.mjs', import.meta.url));

interface TimerResult {
  id: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
  timedOut: boolean;
  startError?: string;
}

/** A running timer process. */
export class Timer {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, (result: TimerResult) => void>();
  private nextId = 1;

  constructor() {
    // Plain Node: the loader flags of this process are in its execArgv, which spawn does not
    // pass on, so the timer process stays small.
    this.child = spawn(process.execPath, [SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const result = JSON.parse(line) as TimerResult;
      this.waiting.get(result.id)?.(result);
      this.waiting.delete(result.id);
    });
  }

  /** A launcher for executeTest that runs each command in the timer process. */
  readonly launch: ProcessLauncher = async (command, options) => {
    const id = this.nextId++;
    const request = {
      id,
      command,
      cwd: options.suiteDir,
      timeoutSeconds: options.timeoutSeconds,
      stderrBytes: 4_096,
    };
    const result = await new Promise<TimerResult>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify(request)}\n`);
    });
    return toLaunchResult(result, options.timeoutSeconds);
  };

  /** Ends the timer process; commands still running are killed. */
  close(): void {
    this.child.stdin!.end();
  }
}

function toLaunchResult(result: TimerResult, timeoutSeconds: number): LaunchResult {
  const outcome: LaunchResult['outcome'] = {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: result.stdout,
  };
  if (result.startError !== undefined) outcome.startError = result.startError;
  if (result.timedOut) outcome.timedOutAfterSeconds = timeoutSeconds;
  return { outcome, stderr: result.stderr, seconds: result.seconds };
}
