/**
 * One conformance run: select tests, run them a few at a time, print the results and write
 * the report.
 */
import { existsSync } from 'node:fs';
import { executeTest, type TestResult } from './execute.js';
import { USAGE, type RunnerOptions } from './options.js';
import {
  checkFloor,
  countTotals,
  formatTagTable,
  formatTotalsLine,
  readFloor,
  writeReport,
  type Floor,
} from './report.js';
import { selectTests, type Selection } from './select.js';
import { loadSuite, type ConformanceTest } from './suite.js';

/** Where {@link runConformance} prints, and the process groups it has running. */
export interface RunContext {
  print: (line: string) => void;
  running?: Set<number>;
}

/**
 * Runs the selected conformance tests and returns the exit code for the command: 0 when the run
 * finished and met the floor (if any), 1 when it missed the floor. Throws on invalid options,
 * a suite that cannot be read, or a missing runner bundle.
 */
export async function runConformance(options: RunnerOptions, context: RunContext): Promise<number> {
  const { print } = context;
  if (options.help) {
    print(USAGE);
    return 0;
  }

  const floor = options.floorFile === undefined ? undefined : readFloor(options.floorFile);
  const selection = chooseSelection(options, floor);
  const tests = selectTests(loadSuite(options.suiteDir), options.suiteDir, selection);
  if (options.list) {
    tests.forEach((test) => print(test.id));
    return 0;
  }
  checkRunnerExists(options.runner);

  const started = new Date().toISOString();
  const results = await runAll(tests, options, context);
  const totals = countTotals(results);

  print('');
  print(formatTagTable(results));
  writeReport(options.reportFile, {
    suite: options.suiteDir,
    runner: options.runner,
    started,
    totals,
    tests: results,
  });
  print(`Report: ${options.reportFile}`);

  // Like cwltest, a run with a failed test exits 1; with a floor, the floor decides.
  let exitCode = totals.failed > 0 ? 1 : 0;
  if (floor !== undefined) {
    const verdict = checkFloor(floor, totals);
    print(verdict.message);
    exitCode = verdict.ok ? 0 : 1;
  }
  print(formatTotalsLine(totals));
  return exitCode;
}

function chooseSelection(options: RunnerOptions, floor: Floor | undefined): Selection {
  if (floor === undefined || options.hasExplicitSelection) {
    return options.selection;
  }
  const selection: Selection = {};
  if (floor.tags !== undefined) {
    selection.tags = floor.tags;
  }
  if (floor.select !== undefined) {
    selection.filters = floor.select;
  }
  return selection;
}

/** Fails early when the runner is a script file that does not exist, such as an unbuilt bundle. */
function checkRunnerExists(runner: string[]): void {
  const script = runner[1];
  if (runner[0] === process.execPath && script !== undefined && !existsSync(script)) {
    throw new Error(`Runner script ${script} not found. Run "npm run build" first.`);
  }
}

/** Runs the tests with at most `options.jobs` at once and returns results in suite order. */
async function runAll(
  tests: ConformanceTest[],
  options: RunnerOptions,
  context: RunContext,
): Promise<TestResult[]> {
  const results: TestResult[] = new Array(tests.length);
  const width = String(tests.length).length;
  let next = 0;
  let done = 0;

  const worker = async () => {
    while (next < tests.length) {
      const index = next;
      next += 1;
      const test = tests[index] as ConformanceTest;
      const result = await executeTest(test, {
        suiteDir: options.suiteDir,
        runner: options.runner,
        timeoutSeconds: options.timeoutSeconds,
        keepOutdirs: options.keepOutdirs,
        running: context.running,
      });
      results[index] = result;
      done += 1;
      context.print(formatProgress(result, done, tests.length, width));
    }
  };

  const workerCount = Math.min(options.jobs, tests.length);
  await Promise.all(Array.from({ length: workerCount }, worker));
  return results;
}

function formatProgress(result: TestResult, done: number, total: number, width: number): string {
  const counter = `[${String(done).padStart(width)}/${total}]`;
  const line = `${counter} ${result.status.padEnd(11)} ${result.id} (${result.seconds.toFixed(2)} s)`;
  return result.reason === undefined ? line : `${line}: ${result.reason}`;
}
