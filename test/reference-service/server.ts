import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Route, RouteRequest, RouteResponse, ServiceContext } from './context.js';
import { FaultInjector, type InjectedFault } from './faults.js';
import { HttpError, readBody } from './http-util.js';
import { PRESIGNED_URL_SECONDS } from './sandbox-store.js';
import type { TokenClaims } from './tokens.js';

const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** What the log line of a request needs. The path leaves out the query, which may be signed. */
interface Exchange {
  path: string;
  routeName: string;
  fault?: InjectedFault;
  /** `Date.now()` when the request arrived. */
  started: number;
}

const ERROR_TEXTS: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Routes every request of the service, counts requests per route and writes the responses. */
export class Dispatcher {
  /** Requests received per route name; unknown paths count under `unmatched`. */
  readonly counts = new Map<string, number>();
  /** Faults drawn for requests, off until `faults.set` is called. */
  readonly faults: FaultInjector;
  private readonly routes: Route[];
  private readonly context: ServiceContext;

  constructor(routes: Route[], context: ServiceContext) {
    this.routes = routes;
    this.context = context;
    this.faults = new FaultInjector(routes.map((route) => route.name));
  }

  /** Handles one HTTP request from start to end; never rejects. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(request.url ?? '/', 'http://service');
    let routeName = 'unmatched';
    let fault: InjectedFault | undefined;
    let answer: RouteResponse;
    try {
      const { route, params } = this.findRoute(request.method ?? 'GET', url.pathname);
      routeName = route.name;
      this.count(routeName);
      fault = this.faults.draw(route);
      if (fault?.kind === 'drop') {
        this.resetConnection(request, { path: url.pathname, routeName, fault, started });
        return;
      }
      answer = await this.answerWithFault(route, params, request, url, fault);
    } catch (error) {
      if (routeName === 'unmatched') {
        this.count(routeName);
      }
      answer = this.answerForError(error, routeName);
    }
    await this.deliver(request, response, answer, {
      path: url.pathname,
      routeName,
      fault,
      started,
    });
  }

  /** Sends a response as its fault requires: never for `lost`, late for `delay`, else now. */
  private async deliver(
    request: IncomingMessage,
    response: ServerResponse,
    answer: RouteResponse,
    exchange: Exchange,
  ): Promise<void> {
    const fault = exchange.fault;
    if (fault?.kind === 'lost') {
      this.resetConnection(request, exchange);
      return;
    }
    if (fault?.kind === 'delay') {
      await sleep(fault.delayMs, undefined, { ref: false });
    }
    if (!request.readableEnded) {
      request.resume();
    }
    this.write(response, answer);
    this.context.log.info(
      {
        method: request.method,
        path: exchange.path,
        route: exchange.routeName,
        status: answer.status,
        durationMs: Date.now() - exchange.started,
        fault: fault?.kind,
      },
      'request handled',
    );
  }

  /**
   * Runs the route, unless the fault replaces it: `error` and `unauthorized` respond without
   * acting, and `expire` shortens the lifetime of the presigned URLs the route issues.
   */
  private async answerWithFault(
    route: Route,
    params: Record<string, string>,
    request: IncomingMessage,
    url: URL,
    fault: InjectedFault | undefined,
  ): Promise<RouteResponse> {
    if (fault?.kind === 'error') {
      return faultErrorResponse(fault.status, fault.retryAfterSeconds);
    }
    if (fault?.kind === 'unauthorized') {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      if (match) {
        this.context.tokens.expireEarly(match[1] as string);
      }
      throw new HttpError(401, 'Token expired', { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    const urlSeconds = fault?.kind === 'expire' ? fault.urlLifetimeSeconds : PRESIGNED_URL_SECONDS;
    return this.runRoute(route, params, request, url, urlSeconds);
  }

  /** Resets the TCP connection, so the client receives no response at all. */
  private resetConnection(request: IncomingMessage, exchange: Exchange): void {
    request.socket.resetAndDestroy();
    this.context.log.info(
      {
        method: request.method,
        path: exchange.path,
        route: exchange.routeName,
        fault: exchange.fault?.kind,
      },
      'request connection reset',
    );
  }

  private findRoute(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } {
    let pathMatched = false;
    for (const route of this.routes) {
      const match = route.pattern.exec(path);
      if (!match) {
        continue;
      }
      pathMatched = true;
      if (route.method === method) {
        return { route, params: match.groups ?? {} };
      }
    }
    throw pathMatched ? new HttpError(405, 'Method Not Allowed') : new HttpError(404, 'Not Found');
  }

  private async runRoute(
    route: Route,
    params: Record<string, string>,
    request: IncomingMessage,
    url: URL,
    presignedUrlSeconds: number,
  ): Promise<RouteResponse> {
    // The body is read before any check, so that an early error response never leaves unread
    // bytes on a keep-alive connection.
    const body = await readBody(request, route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    this.checkClientVersion(request);
    const claims = route.tokenKinds.length > 0 ? this.authenticate(request, route) : undefined;
    const routeRequest: RouteRequest = {
      method: route.method,
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      params,
      body,
      claims,
      presignedUrlSeconds,
    };
    return route.handle(routeRequest, this.context);
  }

  /** Checks the bearer token: missing 401, not a JWT 400, bad or expired 401, wrong kind 403. */
  private authenticate(request: IncomingMessage, route: Route): TokenClaims {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new HttpError(401, 'Not authenticated', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
    const claims = this.context.tokens.verify(match[1] as string);
    if (!route.tokenKinds.includes(claims.kind)) {
      const scope =
        claims.kind === 'job'
          ? `a job token is limited to the sandbox routes of job ${claims.job_id}`
          : `a ${claims.kind} token is not accepted here`;
      throw new HttpError(403, `Forbidden: ${scope}`);
    }
    return claims;
  }

  private checkClientVersion(request: IncomingMessage): void {
    const minimum = this.context.options.minClientVersion;
    const given = request.headers['diracx-client-version'];
    if (minimum === undefined || typeof given !== 'string') {
      return;
    }
    if (compareVersions(given, minimum) < 0) {
      throw new HttpError(400, `Client version ${given} is too old; use ${minimum} or newer`);
    }
  }

  private answerForError(error: unknown, routeName: string): RouteResponse {
    if (error instanceof HttpError) {
      if (error.bare) {
        return { status: error.status, raw: 'Internal Server Error', headers: error.headers };
      }
      return { status: error.status, json: { detail: error.detail }, headers: error.headers };
    }
    this.context.log.error({ err: error, route: routeName }, 'request handler failed');
    return { status: 500, raw: 'Internal Server Error' };
  }

  private write(response: ServerResponse, answer: RouteResponse): void {
    const nowMillis = Math.floor(this.context.nowMicros() / 1000);
    response.setHeader('Date', new Date(nowMillis).toUTCString());
    for (const [name, value] of Object.entries(answer.headers ?? {})) {
      response.setHeader(name, value);
    }
    if (answer.json !== undefined) {
      response.setHeader('Content-Type', 'application/json');
      response.statusCode = answer.status;
      response.end(JSON.stringify(answer.json));
      return;
    }
    if (answer.raw !== undefined) {
      if (!response.hasHeader('Content-Type')) {
        response.setHeader('Content-Type', 'text/plain; charset=utf-8');
      }
      response.statusCode = answer.status;
      response.end(answer.raw);
      return;
    }
    response.statusCode = answer.status;
    response.end();
  }

  private count(routeName: string): void {
    this.counts.set(routeName, (this.counts.get(routeName) ?? 0) + 1);
  }
}

/** Builds the response of an `error` fault: a bare text body, or JSON with `Retry-After` on 429. */
function faultErrorResponse(status: number, retryAfterSeconds: number): RouteResponse {
  if (status === 429) {
    return {
      status,
      json: { detail: 'Too Many Requests' },
      headers: { 'Retry-After': String(retryAfterSeconds) },
    };
  }
  return { status, raw: ERROR_TEXTS[status] ?? 'Error' };
}

/** Compares two dotted versions numerically; a missing component counts as 0. */
export function compareVersions(left: string, right: string): number {
  const a = left.split(/[.+-]/).map((part) => Number.parseInt(part, 10) || 0);
  const b = right.split(/[.+-]/).map((part) => Number.parseInt(part, 10) || 0);
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) {
      return difference;
    }
  }
  return 0;
}
