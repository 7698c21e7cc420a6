/** Turns central-service answers into results or {@link WmsError}s with codes. */
import { WmsError } from '../errors.js';
import { WmsErrorCode, errorDetail, isVersionRejection } from './errors.js';
import type { HttpAnswer } from './transport.js';

/** Returns the WmsError for an answer the route does not treat as a result. */
export function answerError(label: string, answer: HttpAnswer): WmsError {
  const detail = errorDetail(answer.text);
  const status = answer.status;
  const message = `${label} failed with ${status}: ${detail}`;

  if (status === 404) return new WmsError(WmsErrorCode.NotFound, message, { status });
  if (isVersionRejection(status, detail)) {
    return new WmsError(WmsErrorCode.VersionRefused, message, { status });
  }
  if (status >= 500) return new WmsError(WmsErrorCode.Unavailable, message, { status });
  return new WmsError(WmsErrorCode.Rejected, message, { status });
}

/** Parses a JSON answer body, raising WMS_INVALID_RESPONSE when it is not JSON. */
export function parseJson<T>(label: string, answer: HttpAnswer): T {
  try {
    return JSON.parse(answer.text) as T;
  } catch (error) {
    throw new WmsError(
      WmsErrorCode.InvalidResponse,
      `${label} answered ${answer.status} with a body that is not JSON: ${errorDetail(answer.text)}`,
      { cause: error, status: answer.status },
    );
  }
}

/** Raises WMS_INVALID_RESPONSE unless `condition` holds for an answer's parsed body. */
export function expectShape(condition: boolean, label: string, what: string): void {
  if (!condition) {
    throw new WmsError(WmsErrorCode.InvalidResponse, `${label} answered without ${what}`);
  }
}
