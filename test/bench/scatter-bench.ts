/**
 * The scaling case: fixtures/scatter-echo.cwl scatters a one-line echo tool over N numbers, and
 * every output file must hold its own number.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureCommand } from './process-tree.js';
import type { Runner } from './suite-bench.js';

const WORKFLOW = fileURLToPath(new URL('./fixtures/scatter-echo.cwl', import.meta.url));

/** Exit code by which a CWL runner reports a feature it does not support. */
const UNSUPPORTED_EXIT_CODE = 33;

/** Result of the scatter case for one runner. */
export interface ScatterResult {
  runner: Runner;
  jobs: number;
  /** `correct`: every output checked out; `unsupported`: exit 33; `failed`: anything else. */
  status: 'correct' | 'unsupported' | 'failed';
  /** Why the run is not `correct`. */
  reason?: string;
  seconds: number;
  peakRssBytes: number;
  /** Output files whose name and content were right. */
  correctOutputs: number;
}

/** Runs the scatter workflow over `jobs` numbers through `runner` and checks every output. */
export async function benchScatter(runner: Runner, jobs: number): Promise<ScatterResult> {
  const workDir = mkdtempSync(path.join(tmpdir(), 'ctao-bench-scatter-'));
  try {
    const jobFile = path.join(workDir, 'job.json');
    const numbers = Array.from({ length: jobs }, (_, index) => index);
    writeFileSync(jobFile, JSON.stringify({ numbers }));
    const outdir = path.join(workDir, 'out');
    const command = [...runner.command, `--outdir=${outdir}`, '--quiet', WORKFLOW, jobFile];

    const run = await measureCommand(command, workDir);
    const base = { runner, jobs, seconds: run.seconds, peakRssBytes: run.peakRssBytes };
    if (run.exitCode === UNSUPPORTED_EXIT_CODE) {
      return {
        ...base,
        status: 'unsupported',
        reason: lastLine(run.stderrTail),
        correctOutputs: 0,
      };
    }
    if (run.exitCode !== 0) {
      const reason = `exit code ${run.exitCode}: ${lastLine(run.stderrTail)}`;
      return { ...base, status: 'failed', reason, correctOutputs: 0 };
    }

    const check = checkOutputs(run.stdout, numbers);
    const status = check.reason === undefined ? 'correct' : 'failed';
    return { ...base, status, ...check };
  } finally {
    rmSync(workDir, { recursive: true, force: true, maxRetries: 2 });
  }
}

/**
 * Counts the outputs in `lines` that are a file named `<n>.txt` holding `<n>` and a newline, in
 * input order. Returns the first problem found as `reason`.
 */
export function checkOutputs(
  stdout: string,
  numbers: number[],
): { correctOutputs: number; reason?: string } {
  let lines: unknown;
  try {
    lines = (JSON.parse(stdout) as { lines?: unknown }).lines;
  } catch (error) {
    return { correctOutputs: 0, reason: `output is not JSON: ${(error as Error).message}` };
  }
  if (!Array.isArray(lines)) {
    return { correctOutputs: 0, reason: 'output has no "lines" list' };
  }
  if (lines.length !== numbers.length) {
    const reason = `"lines" has ${lines.length} files, expected ${numbers.length}`;
    return { correctOutputs: 0, reason };
  }

  let correctOutputs = 0;
  let reason: string | undefined;
  numbers.forEach((number, index) => {
    const problem = checkFile(lines[index], number);
    if (problem === undefined) {
      correctOutputs += 1;
    } else {
      reason ??= `lines[${index}]: ${problem}`;
    }
  });
  return reason === undefined ? { correctOutputs } : { correctOutputs, reason };
}

function checkFile(file: unknown, number: number): string | undefined {
  const { location, basename } = (file ?? {}) as { location?: unknown; basename?: unknown };
  if (typeof location !== 'string' || !location.startsWith('file://')) {
    return 'no file:// location';
  }
  if (basename !== `${number}.txt`) {
    return `basename ${String(basename)}, expected ${number}.txt`;
  }
  let content: string;
  try {
    content = readFileSync(fileURLToPath(location), 'utf8');
  } catch (error) {
    return `cannot read ${location}: ${(error as NodeJS.ErrnoException).code}`;
  }
  return content === `${number}\n` ? undefined : `content ${JSON.stringify(content)}`;
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 200);
}
