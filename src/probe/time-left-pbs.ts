/**
 * Wall time left of a PBS Pro, OpenPBS or Torque job, from `qstat -f` or from the
 * `PBS_WALLTIME` variable that Torque sets in the job.
 */
import { findOnPath, runCommand } from './external.js';
import type { TimeBudget } from './time-budget.js';

/**
 * Parses a PBS duration `[[[days:]hours:]minutes:]seconds[.fraction]` into whole seconds, or
 * returns undefined for other text. `qstat -f` prints walltime as `hours:minutes:seconds`.
 */
export function parsePbsDuration(text: string): number | undefined {
  const match = /^(\d+(?::\d+){0,3})(?:\.\d+)?$/.exec(text.trim());
  if (match === null) return undefined;
  const fields = (match[1] as string).split(':').map(Number).reverse();
  const unitSeconds = [1, 60, 3600, 86_400];
  return fields.reduce((total, value, index) => total + value * (unitSeconds[index] as number), 0);
}

/** Returns the `name = value` attributes of `qstat -f` output, continuation lines dropped. */
function parseQstatAttributes(output: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^\s+([A-Za-z_][\w.]*) = (.*)$/.exec(line);
    if (match !== null) attributes.set(match[1] as string, (match[2] as string).trim());
  }
  return attributes;
}

/**
 * Computes the wall time left from `qstat -f` output: `Resource_List.walltime` minus
 * `resources_used.walltime`, never below 0. Returns null with the reason in `source` when the
 * job has no walltime limit. Throws when the output is not a job or a walltime is invalid.
 */
export function timeLeftFromQstat(output: string, readAt: number): TimeBudget {
  if (!/^\s*Job Id:/m.test(output)) {
    throw new Error(`qstat -f printed no "Job Id:" line: ${output.trim().slice(0, 200)}`);
  }
  const attributes = parseQstatAttributes(output);
  const limitText = attributes.get('Resource_List.walltime');
  if (limitText === undefined) {
    return { wallTimeLeftSeconds: null, source: 'pbs qstat: no walltime limit', readAt };
  }
  const limit = parsePbsDuration(limitText);
  if (limit === undefined) throw new Error(`qstat -f printed an invalid walltime: ${limitText}`);

  // NOTE: PBS updates resources_used only at intervals, and not at all before the first
  // update, so the time left is too high by up to one interval (PBS Pro polls every 2 minutes
  // by default).
  const usedText = attributes.get('resources_used.walltime') ?? '0';
  const used = parsePbsDuration(usedText);
  if (used === undefined) throw new Error(`qstat -f printed an invalid used walltime: ${usedText}`);
  return { wallTimeLeftSeconds: Math.max(0, limit - used), source: 'pbs qstat', readAt };
}

/**
 * Reads the wall time left of PBS job `jobId` with `qstat -f`, or, when qstat is not on PATH,
 * from `PBS_WALLTIME` (seconds) minus the run time of this process. Throws when qstat fails,
 * times out or prints invalid output, and when neither source exists.
 */
export async function readPbsTimeLeft(
  jobId: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<TimeBudget> {
  const qstat = await findOnPath('qstat', env);
  if (qstat === undefined) return timeLeftFromPbsWalltime(env.PBS_WALLTIME);

  // The value is stamped with the time before the command runs, so a caller that counts down
  // from readAt errs on the short side.
  const readAt = Date.now();
  const output = await runCommand(qstat, ['-f', jobId], { timeoutMs, env });
  if (output.exitCode !== 0) {
    throw new Error(`qstat -f ${jobId} failed with exit status ${output.exitCode}`);
  }
  return timeLeftFromQstat(output.stdout, readAt);
}

function timeLeftFromPbsWalltime(walltime: string | undefined): TimeBudget {
  if (walltime === undefined) throw new Error('qstat not found on PATH and PBS_WALLTIME not set');
  if (!/^\d+$/.test(walltime))
    throw new Error(`invalid PBS_WALLTIME "${walltime}", expected seconds`);
  // NOTE: the job may have run for a while before this process started, and that time is not
  // subtracted, so the value can be too high.
  const elapsedSeconds = Math.floor(process.uptime());
  const left = Math.max(0, Number(walltime) - elapsedSeconds);
  return { wallTimeLeftSeconds: left, source: 'pbs PBS_WALLTIME', readAt: Date.now() };
}
