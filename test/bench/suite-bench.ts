/**
 * The conformance suite through several runners in one run. Each worker takes the next test and
 * runs it through every runner in turn, so a change in machine load during the run affects all
 * runners alike. The runs are started and timed by a separate small process (see
 * timer-process.mjs), so that the cost of forking this larger one is not counted.
 */
import { executeTest, type TestResult } from '../conformance/execute.js';
import { selectTests } from '../conformance/select.js';
import { loadSuite } from '../conformance/suite.js';
import { summarize, type Summary } from './stats.js';
import { Timer } from './timer.js';

/** A command that runs one CWL document like cwltool: `COMMAND --outdir=DIR --quiet TOOL [JOB]`. */
export interface Runner {
  name: string;
  command: string[];
}

export interface SuiteBenchOptions {
  suiteDir: string;
  ids?: string[];
  jobs: number;
  timeoutSeconds: number;
  /** Called once per finished test and runner, for progress lines. */
  onResult?: (runner: Runner, result: TestResult, done: number, total: number) => void;
}

/** Timings and scores of one runner over the whole selection. */
export interface RunnerSummary {
  runner: Runner;
  tests: number;
  passed: number;
  failed: number;
  unsupported: number;
  /** Seconds per test. */
  seconds: Summary;
  /** Sum of the seconds of every test, which is the runner's wall time when `jobs` is 1. */
  totalSeconds: number;
  results: TestResult[];
}

/** Runs the selected tests through every runner and returns one summary per runner. */
export async function benchSuite(
  runners: Runner[],
  options: SuiteBenchOptions,
): Promise<RunnerSummary[]> {
  const selection = options.ids === undefined ? {} : { ids: options.ids };
  const tests = selectTests(loadSuite(options.suiteDir), options.suiteDir, selection);
  const results = runners.map(() => new Array<TestResult>(tests.length));
  const total = tests.length * runners.length;
  let next = 0;
  let done = 0;
  const timer = new Timer();

  const worker = async (): Promise<void> => {
    while (next < tests.length) {
      const index = next;
      next += 1;
      for (const [position, runner] of runners.entries()) {
        const result = await executeTest(tests[index]!, {
          suiteDir: options.suiteDir,
          runner: runner.command,
          timeoutSeconds: options.timeoutSeconds,
          launch: timer.launch,
        });
        results[position]![index] = result;
        done += 1;
        options.onResult?.(runner, result, done, total);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.jobs, tests.length) }, worker));
  } finally {
    timer.close();
  }

  return runners.map((runner, position) => summarizeRunner(runner, results[position]!));
}

function summarizeRunner(runner: Runner, results: TestResult[]): RunnerSummary {
  const seconds = results.map((result) => result.seconds);
  const count = (status: TestResult['status']): number =>
    results.filter((result) => result.status === status).length;
  return {
    runner,
    tests: results.length,
    passed: count('passed'),
    failed: count('failed'),
    unsupported: count('unsupported'),
    seconds: summarize(seconds),
    totalSeconds: seconds.reduce((sum, value) => sum + value, 0),
    results,
  };
}
