/**
 * A small programmable HTTP server on loopback for client tests: each test routes requests
 * to its own handler and reads back what the client sent.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../src/log.js';
import { WmsClient, type WmsClientOptions } from '../../src/wms/index.js';

/** One request as the server received it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** Handles one request; `index` counts the requests the server has received so far. */
export type Handler = (
  request: ReceivedRequest,
  response: ServerResponse,
  index: number,
) => void | Promise<void>;

/** A running fixture server. */
export interface FixtureServer {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 with a free port. */
export async function startFixtureServer(handler: Handler): Promise<FixtureServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(received);
      Promise.resolve(handler(received, res, requests.length - 1)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes a JSON response. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** Makes an unsigned JWT whose payload carries `exp` (seconds since the epoch). */
export function makeJwt(exp: number, subject = 'pilot'): string {
  const encode = (value: unknown): string =>
    Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: subject, exp })}.signature`;
}

/** Returns a token response whose access token expires in `seconds`. */
export function tokenResponse(seconds: number, refreshToken = 'refresh-1', subject = 'pilot') {
  return {
    access_token: makeJwt(Math.floor(Date.now() / 1000) + seconds, subject),
    // The pilot routes return the secret's lifetime here, not the token's.
    expires_in: 86_400,
    token_type: 'Bearer',
    refresh_token: refreshToken,
  };
}

/** Creates a client for `url` with fast retries, logging nowhere. */
export function makeClient(url: string, overrides: Partial<WmsClientOptions> = {}): WmsClient {
  return new WmsClient({
    baseUrl: url,
    pilotStamp: 'stamp01',
    clientVersion: '0.9.0',
    credentials: { kind: 'pilot-secret', secret: 'the-secret' },
    log: silentLogger,
    requestTimeoutMs: 2_000,
    retry: { initialDelayMs: 10, maxDelayMs: 50, deadlineMs: 3_000 },
    ...overrides,
  });
}

/** Parses a received JSON body. */
export function jsonBody<T = Record<string, unknown>>(request: ReceivedRequest): T {
  return JSON.parse(request.body.toString('utf8')) as T;
}

/** Dispatches on `METHOD /path` (query left out); unknown routes return 404. */
export function routeTable(routes: Record<string, Handler>): Handler {
  const counts = new Map<string, number>();
  return (request, response) => {
    const key = `${request.method} ${request.path.split('?')[0]}`;
    const handler = routes[key];
    if (handler === undefined) {
      sendJson(response, 404, { detail: `no route ${key}` });
      return;
    }
    const count = counts.get(key) ?? 0;
    counts.set(key, count + 1);
    return handler(request, response, count);
  };
}

/** Route that returns a token valid for an hour from the secret exchange. */
export const loginRoute: Record<string, Handler> = {
  'POST /api/auth/secret-exchange': (_request, response) =>
    sendJson(response, 200, tokenResponse(3600)),
};
