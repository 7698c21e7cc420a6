/** Turns central-service responses into results or {@link WmsError}s with codes. */
import { WmsError } from '../errors.js';
import { WmsErrorCode, errorDetail, isVersionRejection } from './errors.js';
import type { HttpResponse } from './transport.js';
import type { MatchedJob } from './types.js';

/** Returns the WmsError for a response the route does not treat as a result. */
export function responseError(label: string, response: HttpResponse): WmsError {
  const detail = errorDetail(response.text);
  const status = response.status;
  const message = `${label} failed with ${status}: ${detail}`;

  if (status === 404) return new WmsError(WmsErrorCode.NotFound, message, { status });
  if (isVersionRejection(status, detail)) {
    return new WmsError(WmsErrorCode.VersionRefused, message, { status });
  }
  if (status >= 500) return new WmsError(WmsErrorCode.Unavailable, message, { status });
  return new WmsError(WmsErrorCode.Rejected, message, { status });
}

/** Parses a JSON response body, raising WMS_INVALID_RESPONSE when it is not JSON. */
export function parseJson<T>(label: string, response: HttpResponse): T {
  try {
    return JSON.parse(response.text) as T;
  } catch (error) {
    throw new WmsError(
      WmsErrorCode.InvalidResponse,
      `${label} returned ${response.status} with a body that is not JSON: ${errorDetail(response.text)}`,
      { cause: error, status: response.status },
    );
  }
}

/** Raises WMS_INVALID_RESPONSE unless `condition` is true for a response's parsed body. */
export function expectShape(condition: boolean, label: string, expected: string): void {
  if (!condition) {
    throw new WmsError(
      WmsErrorCode.InvalidResponse,
      `${label} returned a response without ${expected}`,
    );
  }
}

/** Raises WMS_INVALID_RESPONSE unless a match response carries the fields the pilot needs. */
export function checkMatchedJob(label: string, job: MatchedJob): void {
  expectShape(typeof job === 'object' && job !== null, label, 'a job object');
  expectShape(Number.isInteger(job.job_id), label, 'a numeric job_id');
  expectShape(typeof job.workflow === 'string', label, 'the workflow text');
  expectShape(
    typeof job.credentials?.access_token === 'string' &&
      typeof job.credentials?.expires_in === 'number',
    label,
    'job credentials',
  );
}

/** Parses an absolute URL from a response, raising WMS_INVALID_RESPONSE when it is invalid. */
export function parseResponseUrl(label: string, value: string): URL {
  try {
    return new URL(value);
  } catch (error) {
    throw new WmsError(
      WmsErrorCode.InvalidResponse,
      `${label} returned an invalid url ${JSON.stringify(value.slice(0, 100))}`,
      { cause: error },
    );
  }
}
