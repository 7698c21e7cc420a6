import { findOnPath, readSystemFile, runCommand } from './external.js';
import { parseClassAd, readHtcondorTimeLeft } from './time-left-htcondor.js';
import { readLsfTimeLeft } from './time-left-lsf.js';
import { readPbsTimeLeft } from './time-left-pbs.js';

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
  /** Origin of the value, or the reason it is null. */
  source: string;
  /** Time the value was read, in epoch milliseconds, from which a caller counts down. */
  readAt: number;
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

/** Detects the batch system from the job environment `env`. */
export async function detectBatch(env: NodeJS.ProcessEnv): Promise<BatchInfo> {
  if (env.SLURM_JOB_ID) return { system: 'slurm', jobId: env.SLURM_JOB_ID };
  if (env._CONDOR_JOB_AD || env._CONDOR_SCRATCH_DIR) {
    const ad = env._CONDOR_JOB_AD ? await readSystemFile('/', env._CONDOR_JOB_AD) : undefined;
    const attributes = parseClassAd(ad ?? '');
    const cluster = attributes.get('clusterid');
    const proc = attributes.get('procid');
    const jobId = cluster !== undefined && proc !== undefined ? `${cluster}.${proc}` : undefined;
    return jobId === undefined ? { system: 'htcondor' } : { system: 'htcondor', jobId };
  }
  if (env.PBS_JOBID) return { system: 'pbs', jobId: env.PBS_JOBID };
  if (env.LSB_JOBID) return { system: 'lsf', jobId: env.LSB_JOBID };
  return { system: 'none' };
}

/**
 * Returns the wall time left: the configured value, else what the batch system reports for
 * the job. Returns null with the reason in `source` when the batch system sets no limit.
 * Throws when a batch command fails, times out or prints invalid output, and when the
 * HTCondor job ad cannot be read.
 */
export async function readTimeBudget(
  configured: number | undefined,
  batch: BatchInfo,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<TimeBudget> {
  if (configured !== undefined) {
    return { wallTimeLeftSeconds: configured, source: 'configuration', readAt: Date.now() };
  }
  if (batch.system === 'htcondor') return readHtcondorTimeLeft(env);
  if (batch.system === 'none' || batch.jobId === undefined) {
    const source = batch.system === 'none' ? 'none' : `${batch.system}: no job id`;
    return { wallTimeLeftSeconds: null, source, readAt: Date.now() };
  }
  if (batch.system === 'slurm') return readSlurmTimeLeft(batch.jobId, timeoutMs, env);
  if (batch.system === 'pbs') return readPbsTimeLeft(batch.jobId, timeoutMs, env);
  return readLsfTimeLeft(batch.jobId, timeoutMs, env);
}

async function readSlurmTimeLeft(
  jobId: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<TimeBudget> {
  const squeue = await findOnPath('squeue', env);
  if (squeue === undefined) throw new Error('squeue not found on PATH');
  // Stamped before the command runs, so a countdown from readAt errs on the short side.
  const readAt = Date.now();
  const output = await runCommand(squeue, ['-h', '-j', jobId, '-o', '%L'], { timeoutMs, env });
  if (output.exitCode !== 0) throw new Error(`squeue failed with exit status ${output.exitCode}`);
  const seconds = parseSlurmTimeLeft(output.stdout);
  if (seconds === undefined)
    throw new Error(`squeue printed an invalid time left: ${output.stdout.trim()}`);
  return { wallTimeLeftSeconds: seconds, source: 'slurm squeue', readAt };
}
