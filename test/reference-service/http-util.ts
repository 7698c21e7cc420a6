import type { IncomingMessage } from 'node:http';

/** One entry of a 422 response, in the shape FastAPI gives to validation errors. */
export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input?: unknown;
}

/**
 * An error response. `detail` becomes the JSON body `{"detail": ...}`, unless `bare` is set,
 * which sends a plain-text body the way an unhandled server exception does.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly detail: unknown;
  readonly bare: boolean;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    detail: unknown,
    options: { bare?: boolean; headers?: Record<string, string> } = {},
  ) {
    super(typeof detail === 'string' ? detail : `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
    this.bare = options.bare ?? false;
    this.headers = options.headers ?? {};
  }
}

/** Creates the 422 error for one or more invalid values of a request. */
export function validationError(...issues: ValidationIssue[]): HttpError {
  return new HttpError(422, issues);
}

/** Creates one validation issue located in the request body. */
export function bodyIssue(loc: (string | number)[], msg: string, input?: unknown): ValidationIssue {
  return { type: 'value_error', loc: ['body', ...loc], msg, input };
}

/**
 * Reads a request body into memory. Rejects with 413 once more than `maxBytes` arrived, so a
 * runaway client cannot exhaust the test process.
 */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > maxBytes) {
      request.resume();
      throw new HttpError(413, `Request body larger than ${maxBytes} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON request body; invalid JSON is a 422, as in FastAPI. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) {
    throw validationError({ type: 'missing', loc: ['body'], msg: 'Field required' });
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw validationError({
      type: 'json_invalid',
      loc: ['body'],
      msg: `JSON decode error: ${(error as Error).message}`,
    });
  }
}

/** True when `value` is a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a JSON body that must be an object. */
export function parseObjectBody(body: Buffer): Record<string, unknown> {
  const value = parseJsonBody(body);
  if (!isObject(value)) {
    throw validationError(bodyIssue([], 'Input should be a valid dictionary', value));
  }
  return value;
}

/** Parses a map keyed by job id, whose keys must be decimal integers. */
export function parseJobIdKey(key: string, loc: (string | number)[]): number {
  if (!/^\d{1,18}$/.test(key)) {
    throw validationError(bodyIssue([...loc, key], 'Input should be a valid integer', key));
  }
  return Number(key);
}

const TIMESTAMP_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** A parsed timestamp: microseconds since the Unix epoch, or `naive` without a timezone. */
export type ParsedTimestamp = { micros: number } | { naive: true } | { invalid: true };

/**
 * Parses an ISO 8601 timestamp to microseconds since the epoch. JavaScript's `Date` keeps only
 * milliseconds, so the fraction is handled here to order records that differ by microseconds.
 */
export function parseTimestamp(text: string): ParsedTimestamp {
  const match = TIMESTAMP_PATTERN.exec(text);
  if (!match) {
    return { invalid: true };
  }
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  if (zone === undefined) {
    return { naive: true };
  }
  const utcMillis = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  );
  // Date.UTC rolls 31 February over into March, so a round trip finds impossible dates.
  const check = new Date(utcMillis);
  const isRealDate =
    check.getUTCFullYear() === Number(year) &&
    check.getUTCMonth() === Number(month) - 1 &&
    check.getUTCDate() === Number(day) &&
    check.getUTCHours() === Number(hour) &&
    check.getUTCMinutes() === Number(minute) &&
    check.getUTCSeconds() === Number(second);
  if (!isRealDate) {
    return { invalid: true };
  }
  const offsetMinutes = zone === 'Z' ? 0 : parseZoneOffset(zone);
  const micros = (fraction ?? '').padEnd(6, '0');
  return { micros: (utcMillis - offsetMinutes * 60_000) * 1000 + Number(micros) };
}

function parseZoneOffset(zone: string): number {
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
  return zone.startsWith('-') ? -minutes : minutes;
}

/** Formats microseconds since the epoch as `2026-12-04T15:00:00.123456+00:00`. */
export function formatTimestamp(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const iso = new Date(millis).toISOString();
  const fraction = String(micros % 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 19)}.${fraction}+00:00`;
}
