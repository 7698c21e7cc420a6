import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, WmsError } from '../../src/errors.js';
import type { WmsClient } from '../../src/wms/index.js';
import {
  type FixtureServer,
  jsonBody,
  loginRoute,
  makeClient,
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

const node = { site: 'CTAO.TEST.ch', tags: ['apptainer'] };
const slot = { cores: 4, 'ram-mb': 8000, 'wall-time': 86000 };

function matchedJob(jobId: number) {
  return {
    job_id: jobId,
    owner: 'jdoe',
    owner_group: 'ctao_user',
    vo: 'ctao',
    workflow: 'cwlVersion: v1.2\nclass: CommandLineTool\n',
    workflow_params: {},
    input_sandbox: [],
    requirements: { cores: 1 },
    credentials: tokenResponse(3600, 'unused', `job-${jobId}`),
    heartbeat_interval: 60,
  };
}

describe('login', () => {
  it('sends stamp, secret and registration once', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/pilots/metadata': (_request, response) => {
          response.writeHead(204).end();
        },
      }),
    );
    client = makeClient(server.url);
    const registration = {
      vo: 'ctao',
      grid_type: 'SSH',
      grid_site: 'CTAO.TEST.ch',
      status: 'Running',
    };

    await client.login(registration);
    await client.setPilotStatus({ Status: 'Running' });

    const [exchange, patch] = server.requests;
    expect(server.requests).toHaveLength(2);
    expect(jsonBody(exchange!)).toEqual({
      pilot_stamp: 'stamp01',
      pilot_secret: 'the-secret',
      ...registration,
    });
    expect(exchange!.headers['diracx-client-version']).toBe('0.9.0');
    expect(patch!.headers.authorization).toMatch(/^Bearer ey/);
    expect(jsonBody(patch!)).toEqual({ stamp01: { Status: 'Running' } });
  });

  it('raises WMS_UNAUTHORIZED and never resends a rejected secret', async () => {
    server = await startFixtureServer((_request, response) =>
      sendJson(response, 401, { detail: 'bad pilot_secret' }),
    );
    client = makeClient(server.url);

    const first = await client.login().catch((error: unknown) => error);
    const second = await client.login().catch((error: unknown) => error);

    expect(first).toBeInstanceOf(WmsError);
    expect((first as WmsError).code).toBe('WMS_UNAUTHORIZED');
    expect((first as WmsError).message).toContain('bad pilot_secret');
    expect((second as WmsError).code).toBe('WMS_UNAUTHORIZED');
    expect(server.requests).toHaveLength(1);
  });
});

describe('match', () => {
  it('returns the job and uses its token for sandbox calls', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'POST /api/pilots/internal/match': (_request, response) =>
          sendJson(response, 200, matchedJob(1234)),
        'PATCH /api/jobs/1234/sandbox/output': (_request, response) => {
          response.writeHead(204).end();
        },
      }),
    );
    client = makeClient(server.url, { pilotVersion: '0.3.0' });

    const result = await client.match({ node, slot, benchmark: 17.2 });
    await client.assignOutputSandbox(1234, 'SB:SandboxSE|/S3/x/sha256:ab.tar.zst');

    if (result.kind !== 'job') throw new Error(`expected a job, got ${result.kind}`);
    const body = jsonBody(server.requests[1]!);
    expect(body).toEqual({
      pilot_stamp: 'stamp01',
      node,
      slot,
      pilot_version: '0.3.0',
      benchmark: 17.2,
    });
    const assign = server.requests[2]!;
    expect(assign.headers.authorization).toBe(`Bearer ${result.job.credentials.access_token}`);
    expect(jsonBody<string>(assign)).toBe('SB:SandboxSE|/S3/x/sha256:ab.tar.zst');
  });

  it('returns none with Retry-After on 204', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'POST /api/pilots/internal/match': (_request, response) => {
          response.writeHead(204, { 'retry-after': '42' }).end();
        },
      }),
    );
    client = makeClient(server.url);

    const result = await client.match({ node, slot, benchmark: 10 });

    expect(result).toEqual({ kind: 'none', retryAfterSeconds: 42 });
  });

  it('returns refused on 409', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'POST /api/pilots/internal/match': (_request, response) =>
          sendJson(response, 409, { detail: 'pilot version 0.1 is too old' }),
      }),
    );
    client = makeClient(server.url);

    const result = await client.match({ node, slot, benchmark: 10 });

    expect(result.kind).toBe('refused');
    expect((result as { detail: string }).detail).toContain('pilot version 0.1 is too old');
  });
});

describe('heartbeat', () => {
  it('returns commands of the response', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/jobs/heartbeat': (_request, response) =>
          sendJson(response, 200, [{ job_id: 7, command: 'Kill', arguments: '' }]),
      }),
    );
    client = makeClient(server.url);

    const result = await client.heartbeat({ 7: { CPUConsumed: 12, WallClockTime: 30 } });

    expect(result.commands).toEqual([{ job_id: 7, command: 'Kill', arguments: '' }]);
    expect(result.unknownJobIds).toEqual([]);
    expect(jsonBody(server.requests[1]!)).toEqual({ 7: { CPUConsumed: 12, WallClockTime: 30 } });
  });

  it('finds the unknown job behind a bare 500', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/jobs/heartbeat': (request, response) => {
          const jobIds = Object.keys(jsonBody(request));
          if (jobIds.includes('9')) {
            response.writeHead(500).end('Internal Server Error');
            return;
          }
          sendJson(response, 200, [{ job_id: 7, command: 'Kill', arguments: '' }]);
        },
      }),
    );
    client = makeClient(server.url);

    const result = await client.heartbeat({ 7: { WallClockTime: 1 }, 9: { WallClockTime: 1 } });

    expect(result.unknownJobIds).toEqual([9]);
    expect(result.commands).toEqual([{ job_id: 7, command: 'Kill', arguments: '' }]);
    // One combined call, then one per job; the 500 is not retried.
    expect(server.requests.filter((r) => r.path === '/api/jobs/heartbeat')).toHaveLength(3);
  });
});

describe('heartbeat one by one', () => {
  it('keeps commands when a later call fails', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/jobs/heartbeat': (request, response) => {
          const jobIds = Object.keys(jsonBody(request));
          if (jobIds.length > 1) response.writeHead(500).end('Internal Server Error');
          else if (jobIds[0] === '7') {
            sendJson(response, 200, [{ job_id: 7, command: 'Kill', arguments: '' }]);
          } else sendJson(response, 422, { detail: 'extra key' });
        },
      }),
    );
    client = makeClient(server.url);

    const result = await client.heartbeat({ 7: { WallClockTime: 1 }, 9: { WallClockTime: 1 } });

    expect(result.commands).toEqual([{ job_id: 7, command: 'Kill', arguments: '' }]);
    expect(result.unknownJobIds).toEqual([]);
  });

  it('raises when every call fails', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/jobs/heartbeat': (request, response) => {
          const jobIds = Object.keys(jsonBody(request));
          if (jobIds.length > 1) response.writeHead(500).end('Internal Server Error');
          else sendJson(response, 422, { detail: 'extra key' });
        },
      }),
    );
    client = makeClient(server.url);

    const error = await client
      .heartbeat({ 7: { WallClockTime: 1 }, 9: { WallClockTime: 1 } })
      .catch((e: unknown) => e);

    expect((error as WmsError).code).toBe('WMS_REJECTED');
  });
});

describe('status', () => {
  it('stamps records in increasing service time', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/jobs/status': (_request, response) =>
          sendJson(response, 200, { success: { 5: { Status: 'Running' } }, failed: {} }),
      }),
    );
    client = makeClient(server.url);

    const result = await client.sendStatus({
      5: [
        { Status: 'Running', MinorStatus: 'Job Initialization', Source: 'JobWrapper' },
        { MinorStatus: 'Downloading InputSandbox', Source: 'JobWrapper' },
      ],
    });

    expect(result.success).toEqual({ 5: { Status: 'Running' } });
    const body = jsonBody<Record<string, Record<string, unknown>>>(server.requests[1]!);
    const stamps = Object.keys(body['5']!);
    expect(stamps).toHaveLength(2);
    expect(stamps[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(stamps[0]! < stamps[1]!).toBe(true);
    expect(body['5']![stamps[1]!]).toEqual({
      MinorStatus: 'Downloading InputSandbox',
      Source: 'JobWrapper',
    });
  });

  it('lists every job as failed on 404', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/jobs/status': (_request, response) =>
          sendJson(response, 404, { detail: 'Not found' }),
      }),
    );
    client = makeClient(server.url);

    const result = await client.sendStatus({ 5: [{ Status: 'Running', Source: 'Pilot' }] });

    expect(result.success).toEqual({});
    expect(result.failed).toEqual({ 5: { detail: 'Not found' } });
  });
});

describe('status input checks', () => {
  it('rejects a timestamp without a timezone', async () => {
    server = await startFixtureServer(routeTable(loginRoute));
    client = makeClient(server.url);

    const error = await client
      .sendStatus({ 5: [{ Status: 'Running', Source: 'Pilot', timestamp: '2026-12-04T15:00:00' }] })
      .catch((e: unknown) => e);

    expect((error as { code?: string }).code).toBe('WMS_INVALID_REQUEST');
    expect(server.requests).toHaveLength(0);
  });

  it('rejects two records with one timestamp', async () => {
    server = await startFixtureServer(routeTable(loginRoute));
    client = makeClient(server.url);
    const timestamp = '2026-12-04T15:00:00.000001+00:00';

    const error = await client
      .sendStatus({
        5: [
          { Status: 'Running', Source: 'Pilot', timestamp },
          { MinorStatus: 'Application', Source: 'JobWrapper', timestamp },
        ],
      })
      .catch((e: unknown) => e);

    expect((error as { code?: string }).code).toBe('WMS_INVALID_REQUEST');
  });

  it('keeps a replayed timestamp and stamps after it', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        'PATCH /api/jobs/status': (_request, response) =>
          sendJson(response, 200, { success: { 5: {} }, failed: {} }),
      }),
    );
    client = makeClient(server.url);
    const replayed = '2099-01-01T00:00:00.000000+00:00';

    await client.sendStatus({ 5: [{ Status: 'Running', Source: 'Pilot', timestamp: replayed }] });
    const next = client.stampFor(5);

    const body = jsonBody<Record<string, Record<string, unknown>>>(server.requests[1]!);
    expect(Object.keys(body['5']!)).toEqual([replayed]);
    expect(next).toBe('2099-01-01T00:00:00.000001+00:00');
  });
});

describe('client options', () => {
  it('keeps a path prefix of the base URL', async () => {
    server = await startFixtureServer(
      routeTable({
        'POST /diracx/api/auth/secret-exchange': (_request, response) =>
          sendJson(response, 200, tokenResponse(3600)),
        'PATCH /diracx/api/pilots/metadata': (_request, response) => {
          response.writeHead(204).end();
        },
      }),
    );
    client = makeClient(`${server.url}/diracx/`);

    await client.setPilotStatus({ Status: 'Running' });

    expect(server.requests.map((r) => r.path)).toEqual([
      '/diracx/api/auth/secret-exchange',
      '/diracx/api/pilots/metadata',
    ]);
  });

  it.each([
    ['a URL that does not parse', { baseUrl: 'not a url' }, 'WMS_BAD_URL'],
    ['an ftp URL', { baseUrl: 'ftp://127.0.0.1/' }, 'WMS_BAD_URL'],
    ['an empty stamp', { pilotStamp: '' }, 'PILOT_BAD_STAMP'],
    ['a 33-character stamp', { pilotStamp: 'x'.repeat(33) }, 'PILOT_BAD_STAMP'],
    ['an empty client version', { clientVersion: ' ' }, 'WMS_BAD_OPTION'],
    ['a zero deadline', { retry: { deadlineMs: 0 } }, 'WMS_BAD_OPTION'],
    ['a negative timeout', { requestTimeoutMs: -1 }, 'WMS_BAD_OPTION'],
  ])('rejects %s', (_case, overrides, code) => {
    let error: unknown;
    try {
      makeClient('http://127.0.0.1:9', overrides);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(code);
  });
});
