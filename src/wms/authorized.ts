/**
 * Requests to the central service with a bearer token, and the one renewal after a 401 that
 * every authenticated route allows.
 */
import { WmsError } from '../errors.js';
import type { Logger } from '../log.js';
import { WmsErrorCode } from './errors.js';
import type { JobTokens } from './job-tokens.js';
import type { PilotTokens } from './tokens.js';
import type { CallContext, HttpRequest, HttpResponse, HttpTransport } from './transport.js';
import type { JobId } from './types.js';

/** Route parts of a request; the sender adds the base URL and the token. */
export type RouteRequest = Omit<HttpRequest, 'url'> & { path: string };

/** Owner of the bearer token a request carries: the pilot, or one of its jobs. */
export type TokenOwner = { kind: 'pilot' } | { kind: 'job'; jobId: JobId };

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Builds a JSON request from a label of the form `METHOD /path`, such as `PATCH /api/x`. */
export function jsonRequest(label: string, body: string): RouteRequest {
  const [method, path] = label.split(' ') as ['POST' | 'PATCH', string];
  return { label, method, path, headers: JSON_HEADERS, body };
}

/**
 * Returns the absolute URL of a route. A base URL with a path (a service behind a prefix,
 * such as `https://host/diracx`) keeps that path in front of the route's.
 */
export function routeUrl(baseUrl: URL, path: string): URL {
  const prefix = baseUrl.pathname.replace(/\/+$/, '');
  return new URL(`${prefix}${path}`, baseUrl.origin);
}

/** Services an {@link AuthorizedSender} uses. */
export interface AuthorizedSenderOptions {
  baseUrl: URL;
  transport: HttpTransport;
  pilotTokens: PilotTokens;
  jobTokens: JobTokens;
  log: Logger;
}

/** Sends requests with the pilot's token or a job's token. */
export class AuthorizedSender {
  constructor(private readonly options: AuthorizedSenderOptions) {}

  /**
   * Sends a request with the owner's bearer token. After a 401 it renews the token once and
   * sends the request again. A second 401 raises WMS_UNAUTHORIZED for the pilot token, or
   * WMS_JOB_UNAUTHORIZED for a job token.
   */
  async send(
    owner: TokenOwner,
    request: RouteRequest,
    context: CallContext,
  ): Promise<HttpResponse> {
    const { transport, pilotTokens, jobTokens, log } = this.options;
    const first = await this.tokenFor(owner, context);
    const response = await transport.send(this.withToken(request, first), context);
    if (response.status !== 401) return response;

    log.info({ route: request.label, tokenOwner: owner.kind }, 'token rejected, renewing');
    if (owner.kind === 'pilot') await pilotTokens.refresh(first, context);
    else await jobTokens.renew(owner.jobId, first, context);

    const second = await this.tokenFor(owner, context);
    const retried = await transport.send(this.withToken(request, second), context);
    if (retried.status !== 401) return retried;

    const code = owner.kind === 'pilot' ? WmsErrorCode.Unauthorized : WmsErrorCode.JobUnauthorized;
    const tokenName =
      owner.kind === 'pilot' ? 'the pilot token' : `the token of job ${owner.jobId}`;
    throw new WmsError(code, `${request.label} rejected ${tokenName} even after renewing it`, {
      status: 401,
    });
  }

  private async tokenFor(owner: TokenOwner, context: CallContext): Promise<string> {
    if (owner.kind === 'pilot') return this.options.pilotTokens.accessToken(context);
    return this.options.jobTokens.get(owner.jobId, context);
  }

  private withToken(request: RouteRequest, token: string): HttpRequest {
    const { path, ...rest } = request;
    return {
      ...rest,
      url: routeUrl(this.options.baseUrl, path),
      headers: { ...rest.headers, authorization: `Bearer ${token}` },
    };
  }
}
