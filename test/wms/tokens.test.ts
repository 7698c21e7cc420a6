import { afterEach, describe, expect, it } from 'vitest';
import { WmsError } from '../../src/errors.js';
import { type WmsClient, readJwtExpiry, wmsErrorAction } from '../../src/wms/index.js';
import {
  type FixtureServer,
  jsonBody,
  loginRoute,
  makeClient,
  makeJwt,
  routeTable,
  sendJson,
  startFixtureServer,
  tokenResponse,
} from './http-fixture.js';

let server: FixtureServer | undefined;
let client: WmsClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

function pathsOf(fixture: FixtureServer): string[] {
  return fixture.requests.map((r) => r.path.split('?')[0]!);
}

/** Metadata route that accepts only the tokens in `valid`, which the test fills. */
function guardedMetadata(valid: Set<string>) {
  return (
    request: { headers: Record<string, unknown> },
    response: import('node:http').ServerResponse,
  ) => {
    const token = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
    if (valid.has(token)) response.writeHead(204).end();
    else sendJson(response, 401, { detail: 'Invalid JWT' });
  };
}

describe('readJwtExpiry', () => {
  it('reads exp from the payload', () => {
    expect(readJwtExpiry(makeJwt(1_900_000_000))).toBe(1_900_000_000);
  });

  it('returns undefined for other strings', () => {
    expect(readJwtExpiry('not-a-jwt')).toBeUndefined();
    expect(readJwtExpiry('a.b.c')).toBeUndefined();
  });
});

describe('pilot token', () => {
  it('refreshes once after a 401 and retries', async () => {
    const valid = new Set<string>();
    const refreshed = tokenResponse(3600, 'refresh-2', 'pilot-refreshed');
    valid.add(refreshed.access_token);
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'POST /api/auth/pilot-token': (_request, response) => sendJson(response, 200, refreshed),
        'PATCH /api/pilots/metadata': guardedMetadata(valid),
      }),
    );
    client = makeClient(server.url);

    await client.setPilotStatus({ Status: 'Running' });

    expect(pathsOf(server)).toEqual([
      '/api/auth/secret-exchange',
      '/api/pilots/metadata',
      '/api/auth/pilot-token',
      '/api/pilots/metadata',
    ]);
    expect(jsonBody(server.requests[2]!)).toEqual({
      pilot_stamp: 'stamp01',
      refresh_token: 'refresh-1',
    });
    expect(server.requests[3]!.headers.authorization).toBe(`Bearer ${refreshed.access_token}`);
  });

  it('sends the rotated refresh token next time', async () => {
    const valid = new Set<string>();
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'POST /api/auth/pilot-token': (_request, response, index) => {
          const issued = tokenResponse(3600, `refresh-${index + 2}`, `pilot-${index}`);
          valid.clear();
          valid.add(issued.access_token);
          sendJson(response, 200, issued);
        },
        'PATCH /api/pilots/metadata': guardedMetadata(valid),
      }),
    );
    client = makeClient(server.url);

    await client.setPilotStatus({ Status: 'Running' });
    valid.clear();
    await client.setPilotStatus({ Status: 'Running' });

    const refreshes = server.requests.filter((r) => r.path === '/api/auth/pilot-token');
    expect(refreshes).toHaveLength(2);
    expect(jsonBody(refreshes[0]!).refresh_token).toBe('refresh-1');
    expect(jsonBody(refreshes[1]!).refresh_token).toBe('refresh-2');
  });

  it('raises WMS_UNAUTHORIZED on a second 401', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'POST /api/auth/pilot-token': (_request, response) =>
          sendJson(response, 200, tokenResponse(3600, 'refresh-2')),
        'PATCH /api/pilots/metadata': guardedMetadata(new Set()),
      }),
    );
    client = makeClient(server.url);

    const error = await client.setPilotStatus({ Status: 'Running' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WmsError);
    expect((error as WmsError).code).toBe('WMS_UNAUTHORIZED');
    expect(wmsErrorAction(error)).toBe('stop-pilot');
    expect(pathsOf(server).filter((p) => p === '/api/auth/pilot-token')).toHaveLength(1);
    expect(pathsOf(server).filter((p) => p === '/api/pilots/metadata')).toHaveLength(2);
  });

  it('never resends a rejected refresh token', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'POST /api/auth/pilot-token': (_request, response) =>
          sendJson(response, 401, { detail: 'refresh token revoked' }),
        'PATCH /api/pilots/metadata': guardedMetadata(new Set()),
      }),
    );
    client = makeClient(server.url);

    const first = await client.setPilotStatus({ Status: 'Running' }).catch((e: unknown) => e);
    const second = await client.setPilotStatus({ Status: 'Running' }).catch((e: unknown) => e);

    expect((first as WmsError).code).toBe('WMS_UNAUTHORIZED');
    expect((first as WmsError).message).toContain('refresh token revoked');
    expect((second as WmsError).code).toBe('WMS_UNAUTHORIZED');
    expect(pathsOf(server).filter((p) => p === '/api/auth/pilot-token')).toHaveLength(1);
  });

  it('refreshes once for concurrent 401s', async () => {
    const valid = new Set<string>();
    const refreshed = tokenResponse(3600, 'refresh-2', 'pilot-refreshed');
    valid.add(refreshed.access_token);
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'POST /api/auth/pilot-token': async (_request, response) => {
          // A slow refresh, so the other calls get their 401 while it is under way.
          await new Promise((resolve) => setTimeout(resolve, 50));
          sendJson(response, 200, refreshed);
        },
        'PATCH /api/pilots/metadata': guardedMetadata(valid),
      }),
    );
    client = makeClient(server.url);
    await client.login();

    await Promise.all([
      client.setPilotStatus({ Status: 'Running' }),
      client.setPilotStatus({ Queue: 'long' }),
      client.setPilotStatus({ GridSite: 'CTAO.TEST.ch' }),
    ]);

    expect(pathsOf(server).filter((p) => p === '/api/auth/pilot-token')).toHaveLength(1);
    expect(pathsOf(server).filter((p) => p === '/api/pilots/metadata')).toHaveLength(6);
  });

  it('refreshes at 75 % of the JWT lifetime', async () => {
    // expires_in states a day, as DiracX's pilot routes do, but the JWT expires in 2 s.
    server = await startFixtureServer(
      routeTable({
        'POST /api/auth/secret-exchange': (_request, response) =>
          sendJson(response, 200, tokenResponse(2)),
        'POST /api/auth/pilot-token': (_request, response) =>
          sendJson(response, 200, tokenResponse(3600, 'refresh-2')),
        'PATCH /api/pilots/metadata': (_request, response) => {
          response.writeHead(204).end();
        },
      }),
    );
    client = makeClient(server.url);

    await client.setPilotStatus({ Status: 'Running' });
    const beforeRefresh = pathsOf(server).filter((p) => p === '/api/auth/pilot-token').length;
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    await client.setPilotStatus({ Status: 'Running' });

    expect(beforeRefresh).toBe(0);
    expect(pathsOf(server).filter((p) => p === '/api/auth/pilot-token')).toHaveLength(1);
  });

  it('uses the token route for refresh-token credentials', async () => {
    server = await startFixtureServer(
      routeTable({
        'POST /api/auth/token': (_request, response) =>
          sendJson(response, 200, tokenResponse(3600, 'rotated')),
        'PATCH /api/pilots/metadata': (_request, response) => {
          response.writeHead(204).end();
        },
      }),
    );
    client = makeClient(server.url, {
      credentials: { kind: 'refresh-token', token: 'user-refresh', clientId: 'myDIRACClientID' },
    });

    await client.setPilotStatus({ Status: 'Running' });

    const login = server.requests[0]!;
    expect(login.path).toBe('/api/auth/token');
    expect(login.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(login.body.toString('utf8'));
    expect(form.get('grant_type')).toBe('refresh_token');
    expect(form.get('refresh_token')).toBe('user-refresh');
    expect(form.get('client_id')).toBe('myDIRACClientID');
  });
});

describe('job token', () => {
  it('is renewed after a 401 on a sandbox call', async () => {
    const renewed = tokenResponse(3600, 'unused', 'job-42-renewed');
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'POST /api/pilots/internal/match': (_request, response) =>
          sendJson(response, 200, {
            job_id: 42,
            owner: 'jdoe',
            owner_group: 'ctao_user',
            vo: 'ctao',
            workflow: '{}',
            workflow_params: {},
            input_sandbox: [],
            requirements: {},
            credentials: tokenResponse(3600, 'unused', 'job-42-old'),
            heartbeat_interval: 60,
          }),
        'POST /api/pilots/internal/job-token': (_request, response) =>
          sendJson(response, 200, { access_token: renewed.access_token, expires_in: 3600 }),
        'PATCH /api/jobs/42/sandbox/output': (request, response) => {
          if (request.headers.authorization === `Bearer ${renewed.access_token}`) {
            response.writeHead(204).end();
          } else {
            sendJson(response, 401, { detail: 'token expired' });
          }
        },
      }),
    );
    client = makeClient(server.url);
    await client.match({
      node: { site: 'X' },
      slot: { cores: 1, 'ram-mb': 1, 'wall-time': 1 },
      benchmark: 1,
    });

    await client.assignOutputSandbox(42, 'SB:SandboxSE|/S3/b/sha256:00.tar.zst');

    const renewals = server.requests.filter((r) => r.path === '/api/pilots/internal/job-token');
    expect(renewals).toHaveLength(1);
    expect(jsonBody(renewals[0]!)).toEqual({ job_id: 42 });
    expect(pathsOf(server).filter((p) => p === '/api/jobs/42/sandbox/output')).toHaveLength(2);
    const token = await client.jobToken(42);
    expect(token.accessToken).toBe(renewed.access_token);
    expect(token.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
  });

  it('is renewed before it expires', async () => {
    // expires_in claims an hour, but the JWT itself has expired: exp decides.
    const stale = makeJwt(Math.floor(Date.now() / 1000) - 10, 'job-42-stale');
    const renewed = tokenResponse(3600, 'unused', 'job-42-renewed');
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'POST /api/pilots/internal/match': (_request, response) =>
          sendJson(response, 200, {
            job_id: 42,
            owner: 'jdoe',
            owner_group: 'ctao_user',
            vo: 'ctao',
            workflow: '{}',
            workflow_params: {},
            input_sandbox: [],
            requirements: {},
            credentials: { access_token: stale, expires_in: 3600 },
            heartbeat_interval: 60,
          }),
        'POST /api/pilots/internal/job-token': (_request, response) =>
          sendJson(response, 200, { access_token: renewed.access_token, expires_in: 3600 }),
      }),
    );
    client = makeClient(server.url);
    await client.match({
      node: { site: 'X' },
      slot: { cores: 1, 'ram-mb': 1, 'wall-time': 1 },
      benchmark: 1,
    });

    const token = await client.jobToken(42);

    expect(token.accessToken).toBe(renewed.access_token);
    expect(pathsOf(server)).toContain('/api/pilots/internal/job-token');
  });

  it('raises WMS_JOB_UNAUTHORIZED when renewal does not help', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'POST /api/pilots/internal/job-token': (_request, response) =>
          sendJson(response, 200, tokenResponse(3600, 'unused', 'job-7')),
        'PATCH /api/jobs/7/sandbox/output': (_request, response) =>
          sendJson(response, 401, { detail: 'not your job' }),
      }),
    );
    client = makeClient(server.url);

    const error = await client
      .assignOutputSandbox(7, 'SB:SandboxSE|/S3/b/sha256:00.tar.zst')
      .catch((e: unknown) => e);

    expect((error as WmsError).code).toBe('WMS_JOB_UNAUTHORIZED');
    expect(wmsErrorAction(error)).toBe('give-up');
  });

  it('raises WMS_NOT_FOUND for a job no longer the pilot', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'POST /api/pilots/internal/job-token': (_request, response) =>
          sendJson(response, 404, { detail: 'job 9 is not assigned to this pilot' }),
      }),
    );
    client = makeClient(server.url);

    const error = await client.jobToken(9).catch((e: unknown) => e);

    expect((error as WmsError).code).toBe('WMS_NOT_FOUND');
  });
});
