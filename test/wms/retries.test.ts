import { afterEach, describe, expect, it } from 'vitest';
import { WmsError } from '../../src/errors.js';
import { type WmsClient, wmsErrorAction } from '../../src/wms/index.js';
import {
  type FixtureServer,
  loginRoute,
  makeClient,
  routeTable,
  sendJson,
  startFixtureServer,
} from './http-fixture.js';

let server: FixtureServer | undefined;
let client: WmsClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function caught(promise: Promise<unknown>): Promise<WmsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof WmsError)) throw new Error(`expected a WmsError, got ${String(error)}`);
  return error;
}

const metadataPath = '/api/pilots/metadata';

function metadataCalls(): number {
  return server!.requests.filter((r) => r.path === metadataPath).length;
}

describe('unreachable service', () => {
  it('names the URL and the cause', async () => {
    client = makeClient('http://127.0.0.1:1', { retry: { deadlineMs: 300, initialDelayMs: 20 } });

    const error = await caught(client.login());

    expect(error.code).toBe('WMS_UNREACHABLE');
    expect(error.message).toContain('cannot reach the central service at http://127.0.0.1:1');
    expect(error.message).toContain('connection refused');
    expect(wmsErrorAction(error)).toBe('retry-later');
  });
});

describe('retryable statuses', () => {
  it('retries 503 until success', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/pilots/metadata': (_request, response, index) => {
          if (index < 2) sendJson(response, 503, { detail: 'busy' });
          else response.writeHead(204).end();
        },
      }),
    );
    client = makeClient(server.url);

    await client.setPilotStatus({ Status: 'Running' });

    expect(metadataCalls()).toBe(3);
  });

  it('waits for Retry-After seconds', async () => {
    const arrivals: number[] = [];
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/pilots/metadata': (_request, response, index) => {
          arrivals.push(Date.now());
          if (index === 0) sendJson(response, 429, { detail: 'slow down' }, { 'retry-after': '1' });
          else response.writeHead(204).end();
        },
      }),
    );
    client = makeClient(server.url, { retry: { deadlineMs: 5_000 } });

    await client.setPilotStatus({ Status: 'Running' });

    expect(arrivals).toHaveLength(2);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(950);
  });

  it('gives up at once when Retry-After passes the deadline', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/pilots/metadata': (_request, response) =>
          sendJson(response, 503, { detail: 'down' }, { 'retry-after': '60' }),
      }),
    );
    client = makeClient(server.url, { retry: { deadlineMs: 2_000 } });
    const started = Date.now();

    const error = await caught(client.setPilotStatus({ Status: 'Running' }));

    expect(error.code).toBe('WMS_UNAVAILABLE');
    expect(error.message).toContain('503');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(metadataCalls()).toBe(1);
  });

  it('stops at the call deadline', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/pilots/metadata': (_request, response) => {
          response.writeHead(502).end('bad gateway');
        },
      }),
    );
    // A retry starts only with more time left than its delay, at least half of 100 ms here, so
    // the last 502 arrives before the deadline even on a loaded machine.
    client = makeClient(server.url, { retry: { initialDelayMs: 100, maxDelayMs: 200 } });
    const started = Date.now();

    const error = await caught(client.setPilotStatus({ Status: 'Running' }, { deadlineMs: 1_000 }));

    expect(error.code).toBe('WMS_UNAVAILABLE');
    expect(error.message).toMatch(/gave up after \d+ attempts/);
    // The bound leaves room for a loaded machine; the deadline is 1 s.
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(metadataCalls()).toBeGreaterThan(2);
  });

  it('retries 500 on ordinary routes', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/pilots/metadata': (_request, response, index) => {
          if (index === 0) response.writeHead(500).end('Internal Server Error');
          else response.writeHead(204).end();
        },
      }),
    );
    client = makeClient(server.url);

    await client.setPilotStatus({ Status: 'Running' });

    expect(metadataCalls()).toBe(2);
  });
});

describe('transport failures', () => {
  it('retries a reset connection', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/pilots/metadata': (_request, response, index) => {
          if (index === 0) response.socket?.destroy();
          else response.writeHead(204).end();
        },
      }),
    );
    client = makeClient(server.url);

    await client.setPilotStatus({ Status: 'Running' });

    expect(metadataCalls()).toBe(2);
  });

  it('retries an attempt past the request timeout', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/pilots/metadata': (_request, response, index) => {
          if (index === 0) setTimeout(() => response.writeHead(204).end(), 3_000);
          else response.writeHead(204).end();
        },
      }),
    );
    client = makeClient(server.url, { requestTimeoutMs: 200 });

    await client.setPilotStatus({ Status: 'Running' });

    expect(metadataCalls()).toBe(2);
  });

  it('stops retrying when aborted', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/pilots/metadata': (_request, response) => {
          response.writeHead(503).end();
        },
      }),
    );
    client = makeClient(server.url, { retry: { initialDelayMs: 5_000, deadlineMs: 20_000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);

    const error = await caught(
      client.setPilotStatus({ Status: 'Running' }, { signal: controller.signal }),
    );

    expect(error.code).toBe('WMS_ABORTED');
    expect(metadataCalls()).toBe(1);
  });
});

describe('rejections', () => {
  it('gives up on 422 without retrying', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/pilots/metadata': (_request, response) =>
          sendJson(response, 422, { detail: [{ loc: ['body'], msg: 'extra field' }] }),
      }),
    );
    client = makeClient(server.url);

    const error = await caught(client.setPilotStatus({ Status: 'Running' }));

    expect(error.code).toBe('WMS_REJECTED');
    expect(error.message).toContain('extra field');
    expect(wmsErrorAction(error)).toBe('give-up');
    expect(metadataCalls()).toBe(1);
  });

  it('maps 404 to WMS_NOT_FOUND', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/pilots/metadata': (_request, response) =>
          sendJson(response, 404, { detail: 'unknown pilot stamp01' }),
      }),
    );
    client = makeClient(server.url);

    const error = await caught(client.setPilotStatus({ Status: 'Running' }));

    expect(error.code).toBe('WMS_NOT_FOUND');
  });

  it('maps a client version rejection', async () => {
    server = await startFixtureServer((_request, response) =>
      sendJson(response, 400, { detail: 'Client version 0.9.0 is too old, upgrade to 1.0' }),
    );
    client = makeClient(server.url);

    const error = await caught(client.login());

    expect(error.code).toBe('WMS_VERSION_REFUSED');
    expect(wmsErrorAction(error)).toBe('stop-pilot');
  });
});
