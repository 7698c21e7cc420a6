/**
 * Verdict of one conformance test from its runner's exit and output, by cwltest's rules.
 */
import { compareOutputs } from './compare.js';
import type { ConformanceTest } from './suite.js';

/** Exit code by which a CWL runner reports a feature it does not support. */
export const UNSUPPORTED_EXIT_CODE = 33;

export type TestStatus = 'passed' | 'failed' | 'unsupported';

/** How one runner process ended. */
export interface RunOutcome {
  /** Exit code, or null when a signal ended the process. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** Set to the limit in seconds when the run was killed for taking too long. */
  timedOutAfterSeconds?: number;
  /** Set when the runner program could not be started at all. */
  startError?: string;
}

export interface Verdict {
  status: TestStatus;
  /** Why the test did not pass. */
  reason?: string;
}

/**
 * Scores a finished run. A runner that could not start or timed out fails. Exit 33 on a test not tagged `required` is unsupported, even for
 * `should_fail` tests. Any other non-zero exit passes a `should_fail` test and fails the rest. A
 * zero exit fails a `should_fail` test, and otherwise its stdout (empty means `{}`) must be JSON
 * that matches the expected output.
 */
export function scoreRun(test: ConformanceTest, outcome: RunOutcome): Verdict {
  if (outcome.startError !== undefined) {
    return { status: 'failed', reason: `runner failed to start: ${outcome.startError}` };
  }
  if (outcome.timedOutAfterSeconds !== undefined) {
    return { status: 'failed', reason: `timed out after ${outcome.timedOutAfterSeconds} s` };
  }

  if (outcome.exitCode !== 0) {
    return scoreNonZeroExit(test, outcome);
  }
  if (test.should_fail === true) {
    return { status: 'failed', reason: 'exited with code 0, but the test expects a failure' };
  }

  let actual: unknown;
  try {
    actual = outcome.stdout.trim() === '' ? {} : JSON.parse(outcome.stdout);
  } catch {
    const start = JSON.stringify(outcome.stdout.slice(0, 80));
    return { status: 'failed', reason: `stdout is not valid JSON, it starts with ${start}` };
  }

  const comparison = compareOutputs(test.output, actual);
  return comparison.ok ? { status: 'passed' } : { status: 'failed', reason: comparison.reason };
}

function scoreNonZeroExit(test: ConformanceTest, outcome: RunOutcome): Verdict {
  const isRequired = test.tags.includes('required');
  if (outcome.exitCode === UNSUPPORTED_EXIT_CODE && !isRequired) {
    return { status: 'unsupported', reason: 'runner exited with code 33 (unsupported feature)' };
  }
  if (test.should_fail === true) {
    return { status: 'passed' };
  }

  const ending =
    outcome.exitCode === null
      ? `was killed by ${outcome.signal}`
      : `exited with code ${outcome.exitCode}`;
  const suffix =
    outcome.exitCode === UNSUPPORTED_EXIT_CODE ? ' (unsupported) on a test tagged required' : '';
  return { status: 'failed', reason: `runner ${ending}${suffix}` };
}
