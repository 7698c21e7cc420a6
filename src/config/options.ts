/**
 * Every setting of `ctao-pilot run`, in one table. The same entry names the YAML key, the
 * environment variable and the flag, so the three sources and `--help` cannot drift apart.
 */

/** Kind of value an option takes; decides parsing and validation. */
export type OptionKind = 'string' | 'integer' | 'seconds' | 'boolean' | 'list';

/** One setting of the pilot. */
export interface OptionSpec {
  /** Key in the resolved configuration and in the YAML file (snake_case there). */
  key: keyof PilotConfigInput;
  kind: OptionKind;
  /** Text for `--help`: what it sets, with its unit. */
  doc: string;
  /** Environment variable; defaults to CTAO_PILOT_ + the upper-case snake_case key. */
  env?: string;
  /** Lower bound for integer and seconds options. */
  min?: number;
}

/** Settings as read from a file, the environment or flags, before defaults. */
export interface PilotConfigInput {
  serviceUrl?: string;
  pilotStamp?: string;
  secretFile?: string;
  secret?: string;
  workDir?: string;
  site?: string;
  ce?: string;
  queue?: string;
  gridType?: string;
  vo?: string;
  cores?: number;
  ramMb?: number;
  wallTime?: number;
  tags?: string[];
  idleTimeout?: number;
  matchBackoffMin?: number;
  matchBackoffMax?: number;
  maxJobs?: number;
  minFreeDiskMb?: number;
  payloadPathPrepend?: string[];
  keepJobDirs?: boolean;
  caFile?: string;
  serviceDeadline?: number;
  drainFile?: string;
  minJobWallTime?: number;
  uploadReserve?: number;
  signalBudget?: number;
  watchdogInterval?: number;
  stallWindow?: number;
  minRunningDiskMb?: number;
  maxJobDirMb?: number;
  killGrace?: number;
  blackHoleJobs?: number;
  blackHoleSeconds?: number;
  logLevel?: string;
  logFile?: string;
}

export const OPTION_SPECS: readonly OptionSpec[] = [
  { key: 'serviceUrl', kind: 'string', doc: 'base URL of the central service (required)' },
  {
    key: 'pilotStamp',
    kind: 'string',
    env: 'DIRAC_PILOT_STAMP',
    doc: 'pilot stamp, 1 to 32 characters (default: random hex)',
  },
  {
    key: 'secretFile',
    kind: 'string',
    doc: 'file holding the pilot secret, mode 0600 (the secret is never taken from a flag)',
  },
  {
    key: 'secret',
    kind: 'string',
    doc: 'pilot secret itself: environment variable or file only, never a flag',
  },
  { key: 'workDir', kind: 'string', doc: 'folder for job folders and pilot state (default: .)' },
  { key: 'site', kind: 'string', doc: 'site name sent to the matcher, e.g. CTAO.CSCS.ch' },
  { key: 'ce', kind: 'string', doc: 'computing element host name' },
  { key: 'queue', kind: 'string', doc: 'batch queue name' },
  { key: 'gridType', kind: 'string', doc: 'grid type reported at registration (default: Local)' },
  { key: 'vo', kind: 'string', doc: 'virtual organisation (default: ctao)' },
  { key: 'cores', kind: 'integer', min: 1, doc: 'cores to use (default: probed)' },
  { key: 'ramMb', kind: 'integer', min: 1, doc: 'memory to use, in MiB (default: probed)' },
  {
    key: 'wallTime',
    kind: 'seconds',
    min: 1,
    doc: 'wall time left for the pilot, in seconds (default: from the batch system)',
  },
  { key: 'tags', kind: 'list', doc: 'extra tags for the match document, comma-separated' },
  {
    key: 'idleTimeout',
    kind: 'seconds',
    min: 0,
    doc: 'leave after this many seconds without a matched job (default: 600)',
  },
  {
    key: 'matchBackoffMin',
    kind: 'seconds',
    min: 0,
    doc: 'first wait after an empty match, in seconds (default: 5)',
  },
  {
    key: 'matchBackoffMax',
    kind: 'seconds',
    min: 0,
    doc: 'longest wait between empty matches, in seconds (default: 300)',
  },
  {
    key: 'maxJobs',
    kind: 'integer',
    min: 0,
    doc: 'leave after this many jobs; 0 means no limit (default: 0)',
  },
  {
    key: 'minFreeDiskMb',
    kind: 'integer',
    min: 0,
    doc: 'free disk in the work folder needed to ask for a job, in MB (default: 2500)',
  },
  {
    key: 'payloadPathPrepend',
    kind: 'list',
    doc: 'folders put before the PATH of payloads, comma-separated',
  },
  {
    key: 'drainFile',
    kind: 'string',
    doc: 'when this file exists, match no more jobs and leave once running ones end (default: WORK_DIR/DRAIN)',
  },
  {
    key: 'minJobWallTime',
    kind: 'seconds',
    min: 0,
    doc: 'stop matching when less wall time than this is left for a new job, in seconds (default: 300)',
  },
  {
    key: 'uploadReserve',
    kind: 'seconds',
    min: 0,
    doc: 'least wall time kept for output uploads, in seconds; more when bandwidth is low (default: 120)',
  },
  {
    key: 'signalBudget',
    kind: 'seconds',
    min: 1,
    doc: 'time to stop payloads, ship logs and reschedule jobs after a batch-system signal, in seconds (default: 30)',
  },
  {
    key: 'watchdogInterval',
    kind: 'seconds',
    min: 1,
    doc: 'seconds between two watchdog checks of a running payload (default: 5)',
  },
  {
    key: 'stallWindow',
    kind: 'seconds',
    min: 1,
    doc: 'a payload with no CPU, I/O, output or file progress for this many seconds is stalled (default: 1800)',
  },
  {
    key: 'minRunningDiskMb',
    kind: 'integer',
    min: 0,
    doc: 'free disk a running job needs in the work folder, in MB (default: 1000)',
  },
  {
    key: 'maxJobDirMb',
    kind: 'integer',
    min: 0,
    doc: 'largest size of a job folder, in MB; 0 means no limit (default: 0)',
  },
  {
    key: 'killGrace',
    kind: 'seconds',
    min: 0,
    doc: 'seconds between TERM and KILL when a payload is stopped (default: 10)',
  },
  {
    key: 'blackHoleJobs',
    kind: 'integer',
    min: 0,
    doc: 'stop as a black hole after this many jobs in a row fail soon after starting; 0 disables (default: 5)',
  },
  {
    key: 'blackHoleSeconds',
    kind: 'seconds',
    min: 1,
    doc: 'a failure within this many seconds of the job start counts towards the black-hole guard (default: 120)',
  },
  { key: 'keepJobDirs', kind: 'boolean', doc: 'keep job folders after upload (default: false)' },
  { key: 'caFile', kind: 'string', doc: 'PEM file of certificate authorities for https' },
  {
    key: 'serviceDeadline',
    kind: 'seconds',
    min: 1,
    doc: 'time to keep retrying one call to the central service, in seconds (default: 120)',
  },
  { key: 'logLevel', kind: 'string', doc: 'debug, info, warn or error (default: info)' },
  { key: 'logFile', kind: 'string', doc: 'also write the pilot log to this file' },
];

/** Options that must never come from a command-line flag, because `ps` shows flags. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['secret']);

/** Converts a camelCase key to snake_case, as used in YAML files. */
export function toSnakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** Converts a camelCase key to a kebab-case flag name without dashes in front. */
export function toFlagName(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** Returns the environment variable that sets an option. */
export function envName(spec: OptionSpec): string {
  return spec.env ?? `CTAO_PILOT_${toSnakeCase(spec.key).toUpperCase()}`;
}
