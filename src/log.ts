import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Field paths whose values are replaced before a line is written. Tokens, secrets and
 * passwords never reach a log, whatever object carries them.
 */
const REDACTED_PATHS = [
  'token',
  'accessToken',
  'access_token',
  'refresh_token',
  'refreshToken',
  'secret',
  'pilotSecret',
  'pilot_secret',
  'password',
  'authorization',
  'credentials',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.secret',
  '*.pilot_secret',
  '*.password',
  '*.authorization',
  '*.Authorization',
  '*.credentials',
  'headers.authorization',
];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level written: `debug`, `info`, `warn` or `error`. Default `info`. */
  level?: string;
  /** Where lines go. Default: standard error, so standard output stays free for results. */
  destination?: NodeJS.WritableStream;
}

/** Creates the pilot's logger: JSON lines with secrets redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stderr;
  return pino(loggerOptions(options.level ?? 'info'), destination as pino.DestinationStream);
}

function loggerOptions(level: string): pino.LoggerOptions {
  return {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
}

/**
 * Creates a logger that writes each line both where `parent` writes and to `extra`, with the
 * same level, redaction and bound fields. Used for a job's own log file.
 */
export function createTeeLogger(
  parent: Logger,
  extra: NodeJS.WritableStream,
  bindings: Record<string, unknown>,
): Logger {
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: extra }];
  // Child loggers share their root's destination under pino's stream symbol.
  const parentDestination = (parent as unknown as Record<symbol, unknown>)[
    pino.symbols.streamSym
  ] as NodeJS.WritableStream | undefined;
  if (parentDestination) streams.push({ level: 'trace', stream: parentDestination });
  const logger = pino(loggerOptions(parent.level), pino.multistream(streams));
  return logger.child({ ...parent.bindings(), ...bindings });
}

/** A logger that writes nothing, for library calls made without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
