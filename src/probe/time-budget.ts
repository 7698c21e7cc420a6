import { findOnPath, readSystemFile, runCommand } from './external.js';

/** Batch system the pilot runs under, from the variables each one sets in a job. */
export type BatchSystem = 'slurm' | 'htcondor' | 'pbs' | 'lsf' | 'none';

/** The batch system and the pilot's job id in it. */
export interface BatchInfo {
  system: BatchSystem;
  jobId?: string;
}

/** Wall time the pilot has left, in seconds (null when unknown or unlimited), and its origin. */
export interface TimeBudget {
  wallTimeLeftSeconds: number | null;
  source: string;
}

/**
 * Parses the time left that `squeue -o %L` prints: `days-hours:minutes:seconds`,
 * `hours:minutes:seconds` or `minutes:seconds`. Returns null for `UNLIMITED` and `NOT_SET`,
 * 0 for `INVALID` (Slurm prints it once the limit has passed) and undefined for other text.
 */
export function parseSlurmTimeLeft(text: string): number | null | undefined {
  const trimmed = text.trim();
  if (trimmed === 'UNLIMITED' || trimmed === 'NOT_SET') return null;
  if (trimmed === 'INVALID') return 0;

  const match = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(trimmed);
  if (match === null) return undefined;
  const [, daysText, first, second, third] = match;
  const days = Number(daysText ?? 0);
  const numbers = [first, second, third].filter((part) => part !== undefined).map(Number);
  let hours = 0;
  let minutes = 0;
  let seconds = 0;
  if (daysText !== undefined) {
    // With days, the fields are hours[:minutes[:seconds]].
    [hours = 0, minutes = 0, seconds = 0] = numbers;
  } else if (numbers.length === 3) {
    [hours = 0, minutes = 0, seconds = 0] = numbers;
  } else if (numbers.length === 2) {
    [minutes = 0, seconds = 0] = numbers;
  } else {
    [minutes = 0] = numbers;
  }
  return ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
}

/** Returns `Attribute = value` pairs of an HTCondor ClassAd file, values unquoted. */
function parseClassAd(text: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match !== null)
      attributes.set(match[1] as string, (match[2] as string).replace(/^"|"$/g, ''));
  }
  return attributes;
}

/** Detects the batch system from the job environment `env`. */
export async function detectBatch(env: NodeJS.ProcessEnv): Promise<BatchInfo> {
  if (env.SLURM_JOB_ID) return { system: 'slurm', jobId: env.SLURM_JOB_ID };
  if (env._CONDOR_JOB_AD || env._CONDOR_SCRATCH_DIR) {
    const ad = env._CONDOR_JOB_AD ? await readSystemFile('/', env._CONDOR_JOB_AD) : undefined;
    const attributes = parseClassAd(ad ?? '');
    const cluster = attributes.get('ClusterId');
    const proc = attributes.get('ProcId');
    const jobId = cluster !== undefined && proc !== undefined ? `${cluster}.${proc}` : undefined;
    return jobId === undefined ? { system: 'htcondor' } : { system: 'htcondor', jobId };
  }
  if (env.PBS_JOBID) return { system: 'pbs', jobId: env.PBS_JOBID };
  if (env.LSB_JOBID) return { system: 'lsf', jobId: env.LSB_JOBID };
  return { system: 'none' };
}

/**
 * Returns the wall time left: the configured value, else what Slurm reports for the job.
 * Throws when `squeue` fails, times out or prints text that is not a time.
 */
export async function readTimeBudget(
  configured: number | undefined,
  batch: BatchInfo,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<TimeBudget> {
  if (configured !== undefined) {
    return { wallTimeLeftSeconds: configured, source: 'configuration' };
  }
  if (batch.system === 'slurm' && batch.jobId !== undefined) {
    return readSlurmTimeLeft(batch.jobId, timeoutMs, env);
  }
  // TODO: HTCondor, PBS and LSF have no time-left reader yet; such pilots need a
  // configured wall time to get a budget.
  return { wallTimeLeftSeconds: null, source: batch.system === 'none' ? 'none' : batch.system };
}

async function readSlurmTimeLeft(
  jobId: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<TimeBudget> {
  const squeue = await findOnPath('squeue', env);
  if (squeue === undefined) throw new Error('squeue not found on PATH');
  const output = await runCommand(squeue, ['-h', '-j', jobId, '-o', '%L'], { timeoutMs, env });
  if (output.exitCode !== 0) throw new Error(`squeue failed with exit status ${output.exitCode}`);
  const seconds = parseSlurmTimeLeft(output.stdout);
  if (seconds === undefined)
    throw new Error(`squeue printed an invalid time left: ${output.stdout.trim()}`);
  return { wallTimeLeftSeconds: seconds, source: 'slurm squeue' };
}
