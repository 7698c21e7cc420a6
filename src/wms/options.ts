/** Options of the central-service client and their checks. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { PILOT_VERSION } from '../version.js';
import type { WmsCredentials } from './tokens.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './transport.js';

/** Options of the central-service client. */
export interface WmsClientOptions {
  /** `https://host[:port][/prefix]`, or `http://` for tests on loopback. */
  baseUrl: string;
  /** The pilot's stamp: 1 to 32 characters. */
  pilotStamp: string;
  /** Value of the `DiracX-Client-Version` header (semver). */
  clientVersion: string;
  /** Version sent as `pilot_version` in match requests. Default: this build's version. */
  pilotVersion?: string;
  credentials: WmsCredentials;
  log: Logger;
  /** PEM file of the CA certificates that sign the service's certificate. */
  caFile?: string;
  /** Time for one attempt's headers, and between chunks of its body, in ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** Back-off and deadline of calls, in ms. Default {@link DEFAULT_RETRY_POLICY}. */
  retry?: Partial<RetryPolicy>;
}

/** Options after checks, with defaults applied. */
export interface ResolvedClientOptions {
  baseUrl: URL;
  pilotStamp: string;
  clientVersion: string;
  pilotVersion: string;
  ca: string | undefined;
  requestTimeoutMs: number;
  retry: RetryPolicy;
}

/** Checks the client's options and applies defaults. Raises ConfigError for a bad value. */
export function resolveClientOptions(options: WmsClientOptions): ResolvedClientOptions {
  const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  checkPositive('retry.initialDelayMs', retry.initialDelayMs);
  checkPositive('retry.maxDelayMs', retry.maxDelayMs);
  checkPositive('retry.deadlineMs', retry.deadlineMs);
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  checkPositive('requestTimeoutMs', requestTimeoutMs);

  if (options.clientVersion.trim() === '') {
    throw new ConfigError('WMS_BAD_OPTION', 'clientVersion is empty: give a semver such as 1.2.0');
  }
  return {
    baseUrl: parseBaseUrl(options.baseUrl),
    pilotStamp: checkPilotStamp(options.pilotStamp),
    clientVersion: options.clientVersion,
    pilotVersion: options.pilotVersion ?? PILOT_VERSION,
    ca: options.caFile === undefined ? undefined : readCaFile(options.caFile),
    requestTimeoutMs,
    retry,
  };
}

function checkPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError('WMS_BAD_OPTION', `${name} is ${value}: use a positive number of ms`);
  }
}

function parseBaseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      'WMS_BAD_URL',
      `invalid central service URL ${JSON.stringify(value)}: use https://host[:port]`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(
      'WMS_BAD_URL',
      `central service URL ${value} is not http or https: use https://host[:port]`,
    );
  }
  return url;
}

function checkPilotStamp(stamp: string): string {
  if (stamp.length < 1 || stamp.length > 32) {
    throw new ConfigError(
      'PILOT_BAD_STAMP',
      `pilot stamp ${JSON.stringify(stamp)} has ${stamp.length} characters: use 1 to 32`,
    );
  }
  return stamp;
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      'WMS_BAD_CA_FILE',
      `cannot read the CA file ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
