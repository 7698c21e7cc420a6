import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WmsError } from '../../src/errors.js';
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
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wms-sandbox-'));
});

afterEach(async () => {
  vi.useRealTimers();
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

const archive = Buffer.from('pretend this is a zstd tar archive\n'.repeat(100));
const digest = createHash('sha256').update(archive).digest('hex');
const pfn = `SB:SandboxSE|/S3/sandboxes/ctao/ctao_user/jdoe/sha256:${digest}.tar.zst`;

const matchRoute = {
  'POST /api/pilots/internal/match': (_r: unknown, response: import('node:http').ServerResponse) =>
    sendJson(response, 200, {
      job_id: 42,
      owner: 'jdoe',
      owner_group: 'ctao_user',
      vo: 'ctao',
      workflow: '{}',
      workflow_params: {},
      input_sandbox: [pfn],
      requirements: {},
      credentials: tokenResponse(3600, 'unused', 'job-42'),
      heartbeat_interval: 60,
    }),
};

async function matchJob(c: WmsClient): Promise<void> {
  await c.match({
    node: { site: 'X' },
    slot: { cores: 1, 'ram-mb': 1, 'wall-time': 1 },
    benchmark: 1,
  });
}

describe('downloadSandbox', () => {
  function downloadServer(payload: Buffer) {
    return routeTable({
      ...loginRoute,
      ...matchRoute,
      'GET /api/jobs/sandbox': (_request, response) =>
        sendJson(response, 200, {
          url: `${server!.url}/store/object?signature=s3cr3t`,
          expires_in: 300,
        }),
      'GET /store/object': (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        response.end(payload);
      },
    });
  }

  it('writes the archive after a sha256 check', async () => {
    server = await startFixtureServer(downloadServer(archive));
    client = makeClient(server.url);
    await matchJob(client);
    const dest = join(dir, 'in.tar.zst');

    await client.downloadSandbox(42, pfn, dest);

    expect(await readFile(dest)).toEqual(archive);
    const grant = server.requests.find((r) => r.path.startsWith('/api/jobs/sandbox'))!;
    expect(new URL(grant.path, server.url).searchParams.get('pfn')).toBe(pfn);
    expect(grant.headers.authorization).toMatch(/^Bearer /);
    const fetch = server.requests.find((r) => r.path.startsWith('/store/'))!;
    expect(fetch.headers.authorization).toBeUndefined();
  });

  it('raises WMS_CHECKSUM_MISMATCH and leaves no file', async () => {
    server = await startFixtureServer(downloadServer(Buffer.from('other bytes')));
    client = makeClient(server.url);
    await matchJob(client);
    const dest = join(dir, 'in.tar.zst');

    const error = await client.downloadSandbox(42, pfn, dest).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WmsError);
    expect((error as WmsError).code).toBe('WMS_CHECKSUM_MISMATCH');
    await expect(stat(dest)).rejects.toThrow();
    await expect(stat(`${dest}.part`)).rejects.toThrow();
  });
});

describe('uploadSandbox', () => {
  it('posts fields then the file, and assigns twice', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        ...matchRoute,
        'POST /api/jobs/sandbox': (_request, response) =>
          sendJson(response, 200, {
            pfn,
            url: `${server!.url}/store/upload`,
            fields: { key: 'k1', policy: 'p1' },
          }),
        'POST /store/upload': (_request, response) => {
          response.writeHead(204).end();
        },
        'PATCH /api/jobs/42/sandbox/output': (_request, response, index) => {
          if (index === 0) response.writeHead(200).end('null');
          else sendJson(response, 400, { detail: 'Sandbox already assigned' });
        },
      }),
    );
    client = makeClient(server.url);
    await matchJob(client);
    const file = join(dir, 'out.tar.zst');
    await writeFile(file, archive);

    const returned = await client.uploadSandbox(42, file, {
      sha256: digest,
      size: archive.length,
      format: 'tar.zst',
    });
    await client.assignOutputSandbox(42, returned);
    await client.assignOutputSandbox(42, returned);

    expect(returned).toBe(pfn);
    const grant = server.requests.find((r) => r.path === '/api/jobs/sandbox')!;
    expect(jsonBody(grant)).toEqual({
      checksum_algorithm: 'sha256',
      checksum: digest,
      size: archive.length,
      format: 'tar.zst',
    });
    const upload = server.requests.find((r) => r.path === '/store/upload')!;
    expect(upload.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(upload.headers.authorization).toBeUndefined();
    const text = upload.body.toString('latin1');
    expect(text.indexOf('name="key"')).toBeLessThan(text.indexOf('name="file"'));
    expect(text.indexOf('name="policy"')).toBeLessThan(text.indexOf('name="file"'));
    expect(upload.body.includes(archive)).toBe(true);
  });

  it('skips the transfer when url is null', async () => {
    server = await startFixtureServer(
      routeTable({
        ...loginRoute,
        ...matchRoute,
        'POST /api/jobs/sandbox': (_request, response) =>
          sendJson(response, 200, { pfn, url: null, fields: {} }),
      }),
    );
    client = makeClient(server.url);
    await matchJob(client);
    const file = join(dir, 'out.tar.zst');
    await writeFile(file, archive);

    const returned = await client.uploadSandbox(42, file, {
      sha256: digest,
      size: archive.length,
      format: 'tar.zst',
    });

    expect(returned).toBe(pfn);
    expect(server.requests.map((r) => r.path)).toEqual([
      '/api/auth/secret-exchange',
      '/api/pilots/internal/match',
      '/api/jobs/sandbox',
    ]);
  });
});

function countPath(path: string): number {
  return server!.requests.filter((r) => r.path.split('?')[0] === path).length;
}

describe('downloadSandbox retries', () => {
  function flakyStorage(
    fail: (response: import('node:http').ServerResponse, index: number) => boolean,
  ) {
    return routeTable({
      ...loginRoute,
      ...matchRoute,
      'GET /api/jobs/sandbox': (_request, response) =>
        sendJson(response, 200, {
          url: `${server!.url}/store/object?signature=s3cr3t`,
          expires_in: 300,
        }),
      'GET /store/object': (_request, response, index) => {
        if (fail(response, index)) return;
        response.writeHead(200, { 'content-length': String(archive.length) });
        response.end(archive);
      },
    });
  }

  it('retries a storage 503', async () => {
    server = await startFixtureServer(
      flakyStorage((response, index) => {
        if (index > 0) return false;
        response.writeHead(503).end('slow down');
        return true;
      }),
    );
    client = makeClient(server.url);
    await matchJob(client);
    const dest = join(dir, 'in.tar.zst');

    await client.downloadSandbox(42, pfn, dest);

    expect(await readFile(dest)).toEqual(archive);
    expect(countPath('/store/object')).toBe(2);
    expect(countPath('/api/jobs/sandbox')).toBe(1);
  });

  it('retries a body cut short', async () => {
    server = await startFixtureServer(
      flakyStorage((response, index) => {
        if (index > 0) return false;
        response.writeHead(200, { 'content-length': String(archive.length) });
        response.write(archive.subarray(0, 100), () => response.socket?.destroy());
        return true;
      }),
    );
    client = makeClient(server.url);
    await matchJob(client);
    const dest = join(dir, 'in.tar.zst');

    await client.downloadSandbox(42, pfn, dest);

    expect(await readFile(dest)).toEqual(archive);
    expect(countPath('/store/object')).toBe(2);
  });

  it('asks for a new URL after a 403', async () => {
    server = await startFixtureServer(
      flakyStorage((response, index) => {
        if (index > 0) return false;
        response.writeHead(403).end('Request has expired');
        return true;
      }),
    );
    client = makeClient(server.url);
    await matchJob(client);

    await client.downloadSandbox(42, pfn, join(dir, 'in.tar.zst'));

    expect(countPath('/api/jobs/sandbox')).toBe(2);
  });

  it('raises WMS_REJECTED when a new URL gets 403 too', async () => {
    server = await startFixtureServer(
      flakyStorage((response) => {
        response.writeHead(403).end('Access Denied');
        return true;
      }),
    );
    client = makeClient(server.url);
    await matchJob(client);

    const error = await client
      .downloadSandbox(42, pfn, join(dir, 'in.tar.zst'))
      .catch((e: unknown) => e);

    expect((error as WmsError).code).toBe('WMS_REJECTED');
    expect((error as WmsError).message).not.toContain('s3cr3t');
    expect(countPath('/api/jobs/sandbox')).toBe(2);
  });

  it('raises SandboxError when the file cannot be written', async () => {
    server = await startFixtureServer(flakyStorage(() => false));
    client = makeClient(server.url);
    await matchJob(client);

    const error = await client
      .downloadSandbox(42, pfn, join(dir, 'no-such-dir', 'in.tar.zst'))
      .catch((e: unknown) => e);

    expect((error as { code?: string }).code).toBe('SANDBOX_WRITE_FAILED');
    expect(countPath('/store/object')).toBe(1);
  });

  it('rejects a reference without a checksum', async () => {
    server = await startFixtureServer(flakyStorage(() => false));
    client = makeClient(server.url);

    const error = await client
      .downloadSandbox(42, 'SB:SandboxSE|/S3/b/input.tar.zst', join(dir, 'in.tar.zst'))
      .catch((e: unknown) => e);

    expect((error as WmsError).code).toBe('WMS_INVALID_REQUEST');
    expect(server.requests).toHaveLength(0);
  });
});

describe('uploadSandbox retries', () => {
  function uploadServer(
    onUpload: (response: import('node:http').ServerResponse, index: number) => void,
  ) {
    return routeTable({
      ...loginRoute,
      ...matchRoute,
      'POST /api/jobs/sandbox': (_request, response) =>
        sendJson(response, 200, { pfn, url: `${server!.url}/store/upload`, fields: { key: 'k' } }),
      'POST /store/upload': (_request, response, index) => onUpload(response, index),
    });
  }

  async function writeArchive(): Promise<string> {
    const file = join(dir, 'out.tar.zst');
    await writeFile(file, archive);
    return file;
  }

  const upload = { sha256: digest, size: archive.length, format: 'tar.zst' as const };

  it('asks for a new URL after a 403', async () => {
    server = await startFixtureServer(
      uploadServer((response, index) => {
        if (index === 0) response.writeHead(403).end('Policy expired');
        else response.writeHead(204).end();
      }),
    );
    client = makeClient(server.url);
    await matchJob(client);

    const returned = await client.uploadSandbox(42, await writeArchive(), upload);

    expect(returned).toBe(pfn);
    expect(countPath('/api/jobs/sandbox')).toBe(2);
    expect(countPath('/store/upload')).toBe(2);
  });

  it('asks for a new URL once the old one expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    server = await startFixtureServer(
      uploadServer((response, index) => {
        if (index === 0) {
          // The upload took long enough for the 300 s URL to run out before the retry.
          vi.setSystemTime(Date.now() + 290_000);
          response.writeHead(503).end();
        } else {
          response.writeHead(204).end();
        }
      }),
    );
    client = makeClient(server.url);
    await matchJob(client);

    await client.uploadSandbox(42, await writeArchive(), upload, { deadlineMs: 600_000 });

    expect(countPath('/api/jobs/sandbox')).toBe(2);
    expect(countPath('/store/upload')).toBe(2);
  });

  it('gives up on a storage 400', async () => {
    server = await startFixtureServer(
      uploadServer((response) => {
        response.writeHead(400).end('<Error><Code>BadDigest</Code></Error>');
      }),
    );
    client = makeClient(server.url);
    await matchJob(client);

    const error = await client
      .uploadSandbox(42, await writeArchive(), upload)
      .catch((e: unknown) => e);

    expect((error as WmsError).code).toBe('WMS_REJECTED');
    expect((error as WmsError).message).toContain('BadDigest');
    expect(countPath('/store/upload')).toBe(1);
  });

  it('rejects a size that does not match the file', async () => {
    server = await startFixtureServer(uploadServer(() => undefined));
    client = makeClient(server.url);

    const error = await client
      .uploadSandbox(42, await writeArchive(), { ...upload, size: 5 })
      .catch((e: unknown) => e);

    expect((error as WmsError).code).toBe('WMS_INVALID_REQUEST');
    expect(server.requests).toHaveLength(0);
  });

  it('raises SandboxError for a missing file', async () => {
    server = await startFixtureServer(uploadServer(() => undefined));
    client = makeClient(server.url);

    const error = await client
      .uploadSandbox(42, join(dir, 'missing.tar.zst'), upload)
      .catch((e: unknown) => e);

    expect((error as { code?: string }).code).toBe('SANDBOX_READ_FAILED');
  });
});
