import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WmsClient, type WmsError, wmsErrorAction } from '../../src/wms/index.js';
import { makeClient, tokenResponse } from './http-fixture.js';

const run = promisify(execFile);

let dir: string;
let server: Server;
let url: string;
const clients: WmsClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wms-tls-'));
  // A self-signed certificate for 127.0.0.1, made with the system's openssl.
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
  server = createServer(
    { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) },
    (request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(tokenResponse(3600)));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('https', () => {
  it('trusts a service signed by the CA file', async () => {
    const client = makeClient(url, { caFile: join(dir, 'cert.pem') });
    clients.push(client);

    await expect(client.login()).resolves.toBeUndefined();
  });

  it('stops on an untrusted certificate', async () => {
    const client = makeClient(url);
    clients.push(client);

    const error = (await client.login().catch((e: unknown) => e)) as WmsError;

    expect(error.code).toBe('WMS_TLS_FAILED');
    expect(error.message).toContain(url);
    expect(wmsErrorAction(error)).toBe('stop-pilot');
  });

  it('rejects a missing CA file', () => {
    expect(() => makeClient(url, { caFile: join(dir, 'missing.pem') })).toThrow(/CA file/);
  });
});
