/**
 * Error classes of ctao-pilot. Every error carries a stable string `code`; callers decide
 * retries, exit codes and a job's minor status from the code, never from message text.
 */

/** Base class of every error the pilot raises on purpose. */
export class PilotError extends Error {
  /** Stable identifier, such as `CWL_INVALID_DOCUMENT` or `WMS_UNREACHABLE`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Invalid or missing configuration: a value in a file, the environment or a flag. */
export class ConfigError extends PilotError {}

/** Failure talking to the central service. */
export class WmsError extends PilotError {
  /** HTTP status of the answer, when there was one. */
  readonly status: number | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; status?: number }) {
    super(code, message, options);
    this.status = options?.status;
  }
}

/** Failure packing, unpacking, downloading or uploading a sandbox archive. */
export class SandboxError extends PilotError {}

/** A CWL document or input object that is invalid. */
export class CwlValidationError extends PilotError {}

/** A CWL document that needs a feature this version does not support. */
export class CwlUnsupportedError extends PilotError {}

/** A CWL run that started but failed: a tool exit code, a missing output, an expression error. */
export class CwlExecutionError extends PilotError {
  /** CWL process status the failure maps to. */
  readonly processStatus: 'permanentFail' | 'temporaryFail';

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; processStatus?: 'permanentFail' | 'temporaryFail' },
  ) {
    super(code, message, options);
    this.processStatus = options?.processStatus ?? 'permanentFail';
  }
}

/** A job stopped by the watchdog for exceeding a limit. */
export class WatchdogError extends PilotError {}

/** Returns the message of any thrown value, for logs and status records. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
