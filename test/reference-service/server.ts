import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Route, RouteRequest, RouteResponse, ServiceContext } from './context.js';
import { HttpError, readBody } from './http-util.js';
import type { TokenClaims } from './tokens.js';

const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Routes every request of the service, counts requests per route and writes the responses. */
export class Dispatcher {
  /** Requests received per route name; unknown paths count under `unmatched`. */
  readonly counts = new Map<string, number>();
  private readonly routes: Route[];
  private readonly context: ServiceContext;

  constructor(routes: Route[], context: ServiceContext) {
    this.routes = routes;
    this.context = context;
  }

  /** Handles one HTTP request from start to end; never rejects. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(request.url ?? '/', 'http://service');
    let routeName = 'unmatched';
    let answer: RouteResponse;
    try {
      const { route, params } = this.findRoute(request.method ?? 'GET', url.pathname);
      routeName = route.name;
      this.count(routeName);
      // Fault injection, when it exists, runs here: after routing, before the handler.
      answer = await this.runRoute(route, params, request, url);
    } catch (error) {
      if (routeName === 'unmatched') {
        this.count(routeName);
      }
      answer = this.answerForError(error, routeName);
    }
    if (!request.readableEnded) {
      request.resume();
    }
    this.write(response, answer);
    this.context.log.info(
      {
        method: request.method,
        path: url.pathname,
        route: routeName,
        status: answer.status,
        durationMs: Date.now() - started,
      },
      'request handled',
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
