/**
 * Client of the central workload management service (DiracX or a service with its API).
 * Callers get results or {@link WmsError}s with a `code`; they never see HTTP statuses.
 */
export { WmsClient } from './client.js';
export type { WmsClientOptions } from './options.js';
export { ServiceClock, formatMicroseconds, hasTimezone } from './clock.js';
export { WmsErrorCode, wmsErrorAction, type WmsErrorAction } from './errors.js';
export { MAX_SANDBOX_BYTES, sha256FromPfn } from './sandbox.js';
export { readJwtExpiry, type WmsCredentials } from './tokens.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './transport.js';
export type * from './types.js';
export { WmsError } from '../errors.js';
