/** Wall time left of an IBM Spectrum LSF job, from `bjobs -o time_left`. */
import { findOnPath, runCommand } from './external.js';
import type { TimeBudget } from './time-budget.js';

/**
 * Parses the `time_left` field of `bjobs -o`: `hours:minutes` followed by `L` (a run limit
 * exists), `E` (an estimated run time exists) or `X` (the estimate has passed), with
 * `hours:minutes:seconds` when `LSB_HMS_TIME_FORMAT` is set, or `-` without any limit.
 * Returns the seconds and the status letter, null for `-`, or undefined for other text.
 */
export function parseLsfTimeLeft(
  text: string,
): { seconds: number; status: 'L' | 'E' | 'X' } | null | undefined {
  const trimmed = text.trim();
  if (trimmed === '-') return null;
  const match = /^(\d+):(\d{1,2})(?::(\d{1,2}))?\s+([LEX])$/.exec(trimmed);
  if (match === null) return undefined;
  const [, hours, minutes, seconds, status] = match;
  const total = (Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds ?? 0);
  return { seconds: total, status: status as 'L' | 'E' | 'X' };
}

/** Returns the `bjobs` job id: `id[index]` inside an element of a job array, else `id`. */
export function lsfJobId(jobId: string, env: NodeJS.ProcessEnv): string {
  const index = env.LSB_JOBINDEX;
  return index === undefined || index === '' || index === '0' ? jobId : `${jobId}[${index}]`;
}

/**
 * Converts the `time_left` text printed at `readAt` into a budget. An estimate (`E`) counts
 * as the time left: LSF does not stop the job when it passes, but it is the only bound known,
 * so the budget errs on the short side. Returns null with the reason in `source` for `-`, and
 * for `X`, where the estimate has passed and no limit is known.
 */
export function timeLeftFromBjobs(output: string, readAt: number): TimeBudget {
  const parsed = parseLsfTimeLeft(output);
  if (parsed === undefined) {
    throw new Error(`bjobs printed an invalid time_left: ${output.trim().slice(0, 200)}`);
  }
  if (parsed === null) {
    return { wallTimeLeftSeconds: null, source: 'lsf bjobs: no run limit', readAt };
  }
  if (parsed.status === 'X') {
    return { wallTimeLeftSeconds: null, source: 'lsf bjobs: estimated run time passed', readAt };
  }
  const source = parsed.status === 'L' ? 'lsf bjobs' : 'lsf bjobs estimate';
  return { wallTimeLeftSeconds: parsed.seconds, source, readAt };
}

/**
 * Reads the wall time left of LSF job `jobId` with `bjobs -noheader -o time_left`. Throws
 * when bjobs is missing, fails, times out or prints invalid output.
 */
export async function readLsfTimeLeft(
  jobId: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<TimeBudget> {
  const bjobs = await findOnPath('bjobs', env);
  if (bjobs === undefined) throw new Error('bjobs not found on PATH');
  const id = lsfJobId(jobId, env);
  // Stamped before the command runs, so a countdown from readAt errs on the short side.
  const readAt = Date.now();
  const output = await runCommand(bjobs, ['-noheader', '-o', 'time_left', id], { timeoutMs, env });
  if (output.exitCode !== 0) {
    throw new Error(`bjobs for job ${id} failed with exit status ${output.exitCode}`);
  }
  return timeLeftFromBjobs(output.stdout, readAt);
}
