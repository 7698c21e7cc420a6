/** Turns central-service responses into results or {@link WmsError}s with codes. */
import { WmsError } from '../errors.js';
import { WmsErrorCode, errorDetail, isVersionRejection } from './errors.js';
import type { HttpResponse } from './transport.js';

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
export function expectShape(condition: boolean, label: string, what: string): void {
  if (!condition) {
    throw new WmsError(
      WmsErrorCode.InvalidResponse,
      `${label} returned a response without ${what}`,
    );
  }
}
