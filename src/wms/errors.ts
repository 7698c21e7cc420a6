/**
 * Error codes of the central-service client and the rules that sort failures at the edge.
 * Callers decide from the code alone; they never see HTTP status codes.
 */
import { WmsError } from '../errors.js';

/** Codes of the {@link WmsError}s the client raises. */
export const WmsErrorCode = {
  /** No connection, or it broke, until the call's deadline. Retry later. */
  Unreachable: 'WMS_UNREACHABLE',
  /** The service kept returning 5xx, 408 or 429 until the call's deadline. Retry later. */
  Unavailable: 'WMS_UNAVAILABLE',
  /** Credentials rejected even after a token refresh. Stop the pilot. */
  Unauthorized: 'WMS_UNAUTHORIZED',
  /** A job's token was rejected even after renewal. Give up on that job's call. */
  JobUnauthorized: 'WMS_JOB_UNAUTHORIZED',
  /** The service rejected the request (4xx). Give up on this call. */
  Rejected: 'WMS_REJECTED',
  /** The job, pilot or route does not exist on the service. Give up on this call. */
  NotFound: 'WMS_NOT_FOUND',
  /** The service rejects this pilot or client version. Stop the pilot. */
  VersionRefused: 'WMS_VERSION_REFUSED',
  /** A downloaded sandbox does not match the sha256 in its reference. */
  ChecksumMismatch: 'WMS_CHECKSUM_MISMATCH',
  /** A response body the client cannot parse. */
  InvalidResponse: 'WMS_INVALID_RESPONSE',
  /** The caller passed a value the client cannot send. A bug in the caller. */
  InvalidRequest: 'WMS_INVALID_REQUEST',
  /** The TLS handshake failed: wrong CA file or certificate. Stop the pilot. */
  TlsFailed: 'WMS_TLS_FAILED',
  /** The caller's abort signal fired. */
  Aborted: 'WMS_ABORTED',
} as const;

/** Action a caller should take after a {@link WmsError}. */
export type WmsErrorAction = 'retry-later' | 'give-up' | 'stop-pilot';

const RETRY_LATER_CODES = new Set<string>([WmsErrorCode.Unreachable, WmsErrorCode.Unavailable]);
const STOP_PILOT_CODES = new Set<string>([
  WmsErrorCode.Unauthorized,
  WmsErrorCode.VersionRefused,
  WmsErrorCode.TlsFailed,
]);

/**
 * Returns what to do after an error from the client: try the same call again later, give up
 * on this call (the job or record it concerns), or stop the pilot.
 */
export function wmsErrorAction(error: unknown): WmsErrorAction {
  if (!(error instanceof WmsError)) return 'give-up';
  if (RETRY_LATER_CODES.has(error.code)) return 'retry-later';
  if (STOP_PILOT_CODES.has(error.code)) return 'stop-pilot';
  return 'give-up';
}

/** HTTP statuses retried inside a call. 500 is retried too, except on routes that opt out. */
const RETRYABLE_STATUSES = new Set([408, 429, 502, 503, 504]);

/** Returns true when a response with this status should be retried inside the call. */
export function isRetryableStatus(status: number, retryOn500: boolean): boolean {
  if (status === 500) return retryOn500;
  return RETRYABLE_STATUSES.has(status);
}

/** Transport error codes (Node and undici) worth another attempt, with a readable cause. */
const RETRYABLE_TRANSPORT_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  EAI_AGAIN: 'temporary DNS failure',
  ENOTFOUND: 'host name not found',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response before the request timeout',
  UND_ERR_BODY_TIMEOUT: 'response body stalled past the request timeout',
  UND_ERR_SOCKET: 'connection closed by the other side',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'request body length changed while sending',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'response shorter than its Content-Length',
};

/** TLS error codes from Node: retrying cannot help, the configuration is wrong. */
const TLS_CODE_PATTERN = /CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_(GET|VERIFY)/;

/** A transport failure sorted into retryable or not, with a readable cause. */
export interface TransportFailure {
  retryable: boolean;
  tls: boolean;
  cause: string;
}

/** Sorts an error thrown by undici while sending a request or reading its response. */
export function sortTransportError(error: unknown): TransportFailure {
  const code = findErrorCode(error);
  if (code !== undefined && code in RETRYABLE_TRANSPORT_CAUSES) {
    return { retryable: true, tls: false, cause: RETRYABLE_TRANSPORT_CAUSES[code] as string };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (code !== undefined && TLS_CODE_PATTERN.test(code)) {
    return { retryable: false, tls: true, cause: `TLS check failed (${code}): ${message}` };
  }
  return {
    retryable: false,
    tls: false,
    cause: code === undefined ? message : `${code}: ${message}`,
  };
}

/** Returns the `code` of an error or of the first error in its `cause` chain. */
function findErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/** Maximum characters of an error body kept in messages and logs. */
const MAX_DETAIL_CHARS = 300;

/**
 * Returns the `detail` of an error body as text, shortened: the service returns
 * `{"detail": "text"}`, or a list of problems for validation errors (422).
 */
export function errorDetail(bodyText: string): string {
  let detail: string = bodyText;
  try {
    const parsed = JSON.parse(bodyText) as { detail?: unknown };
    if (parsed !== null && typeof parsed === 'object' && 'detail' in parsed) {
      detail = typeof parsed.detail === 'string' ? parsed.detail : JSON.stringify(parsed.detail);
    }
  } catch {
    // Not JSON: keep the raw text.
  }
  if (detail.length > MAX_DETAIL_CHARS) return `${detail.slice(0, MAX_DETAIL_CHARS)}...`;
  return detail;
}

/**
 * Returns true when a 400 response states that the `DiracX-Client-Version` header is too old.
 * NOTE: DiracX gives no stable error code for this, so the check reads the detail text.
 */
export function isVersionRejection(status: number, detail: string): boolean {
  return status === 400 && /version/i.test(detail) && /client|too old|upgrade/i.test(detail);
}
