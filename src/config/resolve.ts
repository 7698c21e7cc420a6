import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import {
  OPTION_SPECS,
  SECRET_KEYS,
  envName,
  toFlagName,
  toSnakeCase,
  type OptionSpec,
  type PilotConfigInput,
} from './options.js';

/** Settings of a running pilot, with defaults applied and values checked. */
export interface PilotConfig {
  serviceUrl: string;
  pilotStamp: string;
  /** True when no stamp was configured and `pilotStamp` is a random one. */
  pilotStampGenerated: boolean;
  /** Pilot secret, trimmed; never logged. */
  secret: string;
  /** Absolute work folder. */
  workDir: string;
  site: string;
  ce: string;
  queue: string;
  gridType: string;
  vo: string;
  cores: number | undefined;
  ramMb: number | undefined;
  /** Wall time left at start, in seconds, when configured. */
  wallTime: number | undefined;
  tags: string[];
  /** Seconds without a matched job before the pilot leaves. */
  idleTimeout: number;
  matchBackoffMin: number;
  matchBackoffMax: number;
  /** Jobs to run before leaving; 0 means no limit. */
  maxJobs: number;
  minFreeDiskMb: number;
  payloadPathPrepend: string[];
  keepJobDirs: boolean;
  caFile: string | undefined;
  /** Seconds one call to the central service keeps retrying before it fails. */
  serviceDeadline: number;
  /** Absolute path of the drain file. */
  drainFile: string;
  /** Seconds of wall time a new job needs at least. */
  minJobWallTime: number;
  /** Seconds of wall time always kept for uploads. */
  uploadReserve: number;
  /** Seconds between a batch-system signal and the pilot's exit. */
  signalBudget: number;
  /** Seconds between two watchdog checks. */
  watchdogInterval: number;
  /** Seconds without any progress before a payload counts as stalled. */
  stallWindow: number;
  /** Free disk a running job needs, in MB. */
  minRunningDiskMb: number;
  /** Largest job folder in MB; 0 means no limit. */
  maxJobDirMb: number;
  /** Seconds between TERM and KILL. */
  killGrace: number;
  /** Fast failures in a row that make the pilot stop as a black hole; 0 disables. */
  blackHoleJobs: number;
  /** A failure within this many seconds of the job's start is a fast failure. */
  blackHoleSeconds: number;
  logLevel: string;
  logFile: string | undefined;
}

const DEFAULTS = {
  workDir: '.',
  site: 'Unknown',
  ce: '',
  queue: '',
  gridType: 'Local',
  vo: 'ctao',
  tags: [] as string[],
  idleTimeout: 600,
  matchBackoffMin: 5,
  matchBackoffMax: 300,
  maxJobs: 0,
  minFreeDiskMb: 2500,
  payloadPathPrepend: [] as string[],
  keepJobDirs: false,
  serviceDeadline: 120,
  minJobWallTime: 300,
  uploadReserve: 120,
  signalBudget: 30,
  watchdogInterval: 5,
  stallWindow: 1800,
  minRunningDiskMb: 1000,
  maxJobDirMb: 0,
  killGrace: 10,
  blackHoleJobs: 5,
  blackHoleSeconds: 120,
  logLevel: 'info',
};

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/** Sources of configuration given to {@link resolveConfig}. */
export interface ConfigSources {
  argv: string[];
  env: NodeJS.ProcessEnv;
}

/** Result of parsing `run`'s arguments: either a configuration or a request for help. */
export type ResolvedRun = { kind: 'help' } | { kind: 'config'; config: PilotConfig };

/**
 * Builds the pilot's configuration: defaults, then the YAML file (`--config` or
 * CTAO_PILOT_CONFIG), then environment variables, then flags; later sources win.
 */
export function resolveConfig(sources: ConfigSources): ResolvedRun {
  const flags = parseFlags(sources.argv);
  if (flags.help) return { kind: 'help' };

  const configFile = flags.values.configFile ?? sources.env.CTAO_PILOT_CONFIG;
  const fromFile = configFile ? readConfigFile(configFile) : {};
  const fromEnv = readEnvironment(sources.env);
  const merged: PilotConfigInput = { ...fromFile, ...fromEnv, ...flags.input };

  return { kind: 'config', config: applyDefaults(merged) };
}

interface ParsedFlags {
  help: boolean;
  values: { configFile?: string };
  input: PilotConfigInput;
}

function parseFlags(argv: string[]): ParsedFlags {
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    help: { type: 'boolean' },
    config: { type: 'string' },
  };
  for (const spec of OPTION_SPECS) {
    if (SECRET_KEYS.has(spec.key)) continue;
    options[toFlagName(spec.key)] = { type: spec.kind === 'boolean' ? 'boolean' : 'string' };
  }

  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (error) {
    const hint = argv.some((arg) => arg === '--secret' || arg.startsWith('--secret='))
      ? ' The pilot secret is read from --secret-file or CTAO_PILOT_SECRET, never a flag.'
      : '';
    throw new ConfigError('CONFIG_BAD_FLAG', `${(error as Error).message}.${hint}`, {
      cause: error,
    });
  }

  const input: PilotConfigInput = {};
  for (const spec of OPTION_SPECS) {
    const raw = parsed.values[toFlagName(spec.key)];
    if (raw === undefined) continue;
    setValue(input, spec, raw, `flag --${toFlagName(spec.key)}`);
  }
  return {
    help: parsed.values.help === true,
    values: { configFile: parsed.values.config as string | undefined },
    input,
  };
}

function readConfigFile(path: string): PilotConfigInput {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      'CONFIG_FILE_UNREADABLE',
      `cannot read configuration file ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(
      'CONFIG_FILE_INVALID',
      `configuration file ${path} must contain a YAML mapping of option names to values`,
    );
  }

  const bySnakeName = new Map(OPTION_SPECS.map((spec) => [toSnakeCase(spec.key), spec]));
  const input: PilotConfigInput = {};
  for (const [name, value] of Object.entries(document)) {
    const spec = bySnakeName.get(name);
    if (!spec) {
      const known = [...bySnakeName.keys()].join(', ');
      throw new ConfigError(
        'CONFIG_UNKNOWN_KEY',
        `unknown key "${name}" in configuration file ${path}; known keys: ${known}`,
      );
    }
    setValue(input, spec, value, `key ${name} in ${path}`);
  }
  return input;
}

function readEnvironment(env: NodeJS.ProcessEnv): PilotConfigInput {
  const input: PilotConfigInput = {};
  for (const spec of OPTION_SPECS) {
    const raw = env[envName(spec)];
    if (raw === undefined || raw === '') continue;
    setValue(input, spec, raw, `environment variable ${envName(spec)}`);
  }
  return input;
}

/** Parses one raw value by the option's kind and stores it; `origin` names it in errors. */
function setValue(input: PilotConfigInput, spec: OptionSpec, raw: unknown, origin: string): void {
  const target = input as Record<string, unknown>;
  switch (spec.kind) {
    case 'string':
      target[spec.key] = String(raw);
      return;
    case 'boolean':
      target[spec.key] = parseBoolean(raw, origin);
      return;
    case 'list':
      target[spec.key] = Array.isArray(raw)
        ? raw.map(String)
        : String(raw)
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item !== '');
      return;
    case 'integer':
    case 'seconds':
      target[spec.key] = parseCount(raw, spec, origin);
      return;
  }
}

function parseBoolean(raw: unknown, origin: string): boolean {
  if (typeof raw === 'boolean') return raw;
  const text = String(raw).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  throw new ConfigError(
    'CONFIG_BAD_VALUE',
    `invalid boolean "${String(raw)}" for ${origin}; use true or false`,
  );
}

function parseCount(raw: unknown, spec: OptionSpec, origin: string): number {
  const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
  const min = spec.min ?? 0;
  if (!Number.isInteger(value) || value < min) {
    const unit = spec.kind === 'seconds' ? 'a whole number of seconds' : 'a whole number';
    throw new ConfigError(
      'CONFIG_BAD_VALUE',
      `invalid value "${String(raw)}" for ${origin}; use ${unit} of at least ${min}`,
    );
  }
  return value;
}

function applyDefaults(input: PilotConfigInput): PilotConfig {
  if (!input.serviceUrl) {
    throw new ConfigError(
      'CONFIG_MISSING_SERVICE_URL',
      'no central service URL: set --service-url, CTAO_PILOT_SERVICE_URL or service_url',
    );
  }
  const serviceUrl = checkServiceUrl(input.serviceUrl);
  const pilotStamp = input.pilotStamp ?? randomBytes(8).toString('hex');
  if (!/^[A-Za-z0-9._-]{1,32}$/.test(pilotStamp)) {
    throw new ConfigError(
      'CONFIG_BAD_VALUE',
      `invalid pilot stamp "${pilotStamp}": use 1 to 32 letters, digits, dots, dashes or underscores`,
    );
  }
  const logLevel = input.logLevel ?? DEFAULTS.logLevel;
  if (!LOG_LEVELS.has(logLevel)) {
    throw new ConfigError(
      'CONFIG_BAD_VALUE',
      `invalid log level "${logLevel}"; use one of ${[...LOG_LEVELS].join(', ')}`,
    );
  }

  const workDir = resolvePath(input.workDir ?? DEFAULTS.workDir);
  return {
    ...DEFAULTS,
    ...input,
    serviceUrl,
    pilotStamp,
    pilotStampGenerated: input.pilotStamp === undefined,
    logLevel,
    secret: readSecret(input),
    workDir,
    drainFile: resolvePath(input.drainFile ?? join(workDir, 'DRAIN')),
    // Payloads run in their own job folders, where a relative folder would name nothing.
    payloadPathPrepend: (input.payloadPathPrepend ?? []).map((folder) => resolvePath(folder)),
    cores: input.cores,
    ramMb: input.ramMb,
    wallTime: input.wallTime,
    caFile: input.caFile,
    logFile: input.logFile,
  };
}

function checkServiceUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(
      'CONFIG_BAD_VALUE',
      `invalid central service URL "${text}"; use https://host[:port]`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(
      'CONFIG_BAD_VALUE',
      `invalid central service URL "${text}": the scheme must be https (or http for tests)`,
    );
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** Reads the pilot secret from its file (mode 0600 checked) or from the environment. */
function readSecret(input: PilotConfigInput): string {
  if (input.secretFile) {
    const mode = statSecretFile(input.secretFile);
    if ((mode & 0o077) !== 0) {
      throw new ConfigError(
        'CONFIG_SECRET_FILE_MODE',
        `secret file ${input.secretFile} is readable by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
    const secret = readFileSync(input.secretFile, 'utf8').trim();
    if (secret === '') {
      throw new ConfigError('CONFIG_SECRET_EMPTY', `secret file ${input.secretFile} is empty`);
    }
    return secret;
  }
  if (input.secret && input.secret.trim() !== '') return input.secret.trim();
  throw new ConfigError(
    'CONFIG_MISSING_SECRET',
    'no pilot secret: set --secret-file FILE (mode 0600) or CTAO_PILOT_SECRET',
  );
}

function statSecretFile(path: string): number {
  try {
    return statSync(path).mode;
  } catch (error) {
    throw new ConfigError(
      'CONFIG_SECRET_FILE_MISSING',
      `cannot read secret file ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Formats `ctao-pilot run --help` from the option table. */
export function formatRunHelp(): string {
  const lines = [
    'Usage: ctao-pilot run [--config FILE] [options]',
    '',
    'Starts the pilot: logs in to the central service, asks for jobs that fit this node, runs',
    'them and uploads their outputs, and leaves when it has been idle for --idle-timeout.',
    '',
    'Each option can be set in a YAML file (key in snake_case), in an environment variable or',
    'as a flag; flags win over the environment, which wins over the file.',
    '',
    '  --config FILE                        YAML configuration file (env CTAO_PILOT_CONFIG)',
  ];
  for (const spec of OPTION_SPECS) {
    const flag = SECRET_KEYS.has(spec.key)
      ? '(no flag)'
      : `--${toFlagName(spec.key)}${valuePlaceholder(spec)}`;
    const left = `  ${flag}`.padEnd(38);
    lines.push(`${left} ${spec.doc}`);
    lines.push(`${''.padEnd(38)} file: ${toSnakeCase(spec.key)}, env: ${envName(spec)}`);
  }
  lines.push('', 'Exit codes:', ...EXIT_CODE_HELP, '');
  return lines.join('\n');
}

/** Returns the value a flag takes as the help shows it, such as ` S` for seconds. */
function valuePlaceholder(spec: OptionSpec): string {
  if (spec.kind === 'boolean') return '';
  if (spec.kind === 'seconds') return ' S';
  if (spec.kind === 'integer') return ' N';
  if (spec.kind === 'list') return ' A,B';
  if (spec.key.endsWith('File')) return ' FILE';
  if (spec.key.endsWith('Dir')) return ' DIR';
  if (spec.key.endsWith('Url')) return ' URL';
  return ' TEXT';
}

/** Exit codes of `ctao-pilot run`, as listed by `--help`. */
export const EXIT_CODE_HELP = [
  '  0  no more work, idle time reached or job limit reached',
  '  1  the pilot failed (see the log)',
  '  2  invalid configuration or flags',
  '  3  the central service was unreachable or refused the credentials',
  '  4  the central service refused this pilot version',
  '  5  stopped by a signal (TERM, INT, HUP, USR1, USR2, XCPU); unfinished jobs rescheduled',
  '  6  stopped as a black hole: jobs kept failing soon after they started',
];
