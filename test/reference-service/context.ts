import type { IncomingHttpHeaders } from 'node:http';

import type { Logger } from '../../src/log.js';
import type { FaultOptions } from './faults.js';
import type { JobStore } from './job-store.js';
import type { SandboxStore } from './sandbox-store.js';
import type { TokenClaims, TokenIssuer, TokenKind } from './tokens.js';
import type { PilotRecord } from './types.js';

/** Options of `startReferenceService`. Every field is optional. */
export interface ReferenceServiceOptions {
  /** TCP port; default 0, any free port. */
  port?: number;
  /** Listening address; default `127.0.0.1`. */
  host?: string;
  /** Lifetime of access tokens (pilot, job and user), in seconds; default 3600. */
  tokenLifetimeSeconds?: number;
  /** Lifetime of refresh tokens, in seconds; default 86400. */
  refreshTokenLifetimeSeconds?: number;
  /** Heartbeat period given to pilots at match time, in seconds; default 60. */
  heartbeatInterval?: number;
  /**
   * Seconds without a heartbeat after which a Running job becomes Stalled; default 2.5
   * heartbeat periods, as in DIRAC. 0 turns stall detection off.
   */
  stalledAfterSeconds?: number;
  /** Pilot versions rejected with 409, or a function that returns true for a rejected one. */
  refusedPilotVersions?: string[] | ((version: string) => boolean);
  /** `Retry-After` header, in seconds, on a 204 from the match route; default none. */
  noMatchRetryAfterSeconds?: number;
  /** Reschedules a job may have before a reschedule fails it instead; default 3 (DIRAC's). */
  maxReschedules?: number;
  /** Lowest accepted `DiracX-Client-Version`. An older one is rejected with 400. */
  minClientVersion?: string;
  /** Seconds added to the service's clock, to test clock skew; default 0. */
  clockOffsetSeconds?: number;
  /** Log every request to standard error; default false. */
  log?: boolean;
  /** Faults to inject from the start; default none. `setFaults` changes them later. */
  faults?: FaultOptions;
}

/** Options with their defaults applied. */
export interface ResolvedOptions {
  port: number;
  host: string;
  tokenLifetimeSeconds: number;
  refreshTokenLifetimeSeconds: number;
  heartbeatInterval: number;
  stalledAfterSeconds: number;
  isRefusedPilotVersion: (version: string) => boolean;
  noMatchRetryAfterSeconds: number | undefined;
  maxReschedules: number;
  minClientVersion: string | undefined;
  clockOffsetSeconds: number;
  log: boolean;
}

/** A pilot secret waiting to be exchanged for tokens. */
export interface PilotSecret {
  /** Stamp the secret belongs to; null accepts any stamp. */
  stamp: string | null;
  /** Lifetime reported as `expires_in` by both pilot token routes, in seconds. */
  lifetimeSeconds: number;
  /** Service time after which the secret is rejected, in seconds since the epoch. */
  expiresAt: number;
  used: boolean;
}

/** State shared by every route handler. */
export interface ServiceContext {
  options: ResolvedOptions;
  log: Logger;
  tokens: TokenIssuer;
  jobs: JobStore;
  sandboxes: SandboxStore;
  pilots: Map<string, PilotRecord>;
  secrets: Map<string, PilotSecret>;
  /** Base URL once listening, such as `http://127.0.0.1:40123`. */
  baseUrl: string;
  /** Seconds added to the real clock; starts at the `clockOffsetSeconds` option. */
  clockOffsetSeconds: number;
  /** Service time in microseconds since the epoch. */
  nowMicros(): number;
  /** Service time in whole seconds since the epoch. */
  nowSeconds(): number;
}

/** A request as handlers see it: body already read, bearer token already checked. */
export interface RouteRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  params: Record<string, string>;
  body: Buffer;
  /** Claims of the bearer token, on routes that need one. */
  claims: TokenClaims | undefined;
  /**
   * Seconds until the presigned URLs this request issues expire: 300, as DiracX sets it,
   * unless an `expire` fault shortens it. 0 issues them already expired.
   */
  presignedUrlSeconds: number;
}

/** What a handler returns: a JSON value, raw bytes, or no body. */
export interface RouteResponse {
  status: number;
  json?: unknown;
  raw?: Buffer | string;
  headers?: Record<string, string>;
}

/** One route of the service. */
export interface Route {
  /** Stable name used for request counters, such as `PATCH /api/jobs/heartbeat`. */
  name: string;
  method: string;
  pattern: RegExp;
  /** Token kinds accepted; empty for routes without `Authorization`. */
  tokenKinds: TokenKind[];
  /** True for routes that return presigned URLs, the only ones an `expire` fault applies to. */
  issuesPresignedUrls?: boolean;
  /** Largest accepted body, in bytes; default 16 MiB. */
  maxBodyBytes?: number;
  handle(request: RouteRequest, context: ServiceContext): RouteResponse | Promise<RouteResponse>;
}

/** Returns the claims of a request that passed the bearer check. */
export function claimsOf(request: RouteRequest): TokenClaims {
  if (!request.claims) {
    throw new Error(`Route ${request.method} ${request.path} reached a handler without a token`);
  }
  return request.claims;
}
