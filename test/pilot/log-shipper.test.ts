/**
 * The pilot's log shipper against the reference central service (batching, rate limit,
 * redaction, buffer cap, flush) and against a fixture server for a missing or failing route.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, silentLogger, type Logger } from '../../src/log.js';
import {
  LogShipper,
  scrubSecrets,
  toPilotLogLine,
  type LogShipperOptions,
  type PilotLogSender,
} from '../../src/pilot/log-shipper.js';
import { WmsClient, type PilotLogLine } from '../../src/wms/index.js';
import { startReferenceService, type ReferenceService } from '../reference-service/index.js';
import { runPilot } from '../e2e/pilot-harness.js';
import {
  makeClient,
  sendJson,
  startFixtureServer,
  tokenResponse,
  type FixtureServer,
  type Handler,
} from '../wms/http-fixture.js';

const MESSAGE_ROUTE = 'POST /api/pilots/internal/message';
const STAMP = 'shipper-test';
const SECRET = 'pilot-secret-Xq7"w\\9';

const ECHO_TOOL = `
cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  message: {type: string, inputBinding: {position: 1}}
outputs: []
`;

let service: ReferenceService | undefined;
let fixture: FixtureServer | undefined;
const shippers: LogShipper[] = [];

afterEach(async () => {
  for (const shipper of shippers.splice(0)) shipper.close();
  await service?.close();
  await fixture?.close();
  service = undefined;
  fixture = undefined;
});

/** A logger whose lines go both to `local` and into a new shipper. */
interface Shipping {
  log: Logger;
  shipper: LogShipper;
  /** Every line the local log received, parsed. */
  local: Record<string, unknown>[];
}

function startShipping(options: Omit<LogShipperOptions, 'log'>): Shipping {
  const destination = new PassThrough();
  const local: Record<string, unknown>[] = [];
  destination.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line !== '') local.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  const log = createLogger({ level: 'debug', destination });
  const shipper = new LogShipper({ log, ...options });
  destination.pipe(shipper);
  shippers.push(shipper);
  return { log, shipper, local };
}

async function loggedInReferenceClient(): Promise<{
  service: ReferenceService;
  client: WmsClient;
}> {
  service = await startReferenceService();
  service.addPilotSecret(STAMP, SECRET);
  const client = new WmsClient({
    baseUrl: service.url,
    pilotStamp: STAMP,
    clientVersion: '0.1.0',
    credentials: { kind: 'pilot-secret', secret: SECRET },
    log: silentLogger,
  });
  await client.login();
  return { service, client };
}

function received(): PilotLogLine[] {
  return service?.pilots.get(STAMP)?.messages ?? [];
}

function messageRequests(): number {
  return service?.requestCounts()[MESSAGE_ROUTE] ?? 0;
}

/** Starts a fixture server that issues tokens and responds to log batches with `onMessage`. */
async function startLogFixture(onMessage: Handler): Promise<FixtureServer> {
  fixture = await startFixtureServer(async (request, response, index) => {
    if (request.path === '/api/auth/secret-exchange') {
      sendJson(response, 200, tokenResponse(3600));
      return;
    }
    await onMessage(request, response, index);
  });
  return fixture;
}

function batchesOf(server: FixtureServer): PilotLogLine[][] {
  return server.requests
    .filter((request) => request.path === '/api/pilots/internal/message')
    .map(
      (request) => (JSON.parse(request.body.toString('utf8')) as { lines: PilotLogLine[] }).lines,
    );
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

describe('toPilotLogLine', () => {
  it('maps level, scope, message and time', () => {
    const line = toPilotLogLine(
      '{"level":50,"time":"2026-12-04T15:00:00.123Z","pilotStamp":"p1","jobId":42,"exitCode":3,"msg":"job failed"}',
    );
    expect(line.severity).toBe('ERROR');
    expect(line.scope).toBe('job:42');
    expect(line.message).toBe('job failed {"exitCode":3}');
    expect(line.timestamp).toBe('2026-12-04T15:00:00.123Z');
  });

  it('names every pino level as DIRAC does', () => {
    const names = [10, 20, 30, 40, 50, 60].map(
      (level) => toPilotLogLine(JSON.stringify({ level, msg: 'x' })).severity,
    );
    expect(names).toEqual(['DEBUG', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']);
  });

  it('uses the pilot scope and a zoned time by default', () => {
    const line = toPilotLogLine('{"level":30,"msg":"node probed","time":"yesterday"}');
    expect(line.scope).toBe('pilot');
    expect(line.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('shortens a long message', () => {
    const line = toPilotLogLine(
      JSON.stringify({ level: 30, msg: 'big', blob: 'a'.repeat(10_000) }),
      [],
      100,
    );
    expect(line.message.startsWith('big {"blob":"aaa')).toBe(true);
    expect(line.message).toMatch(/\.\.\. \(\d+ more characters\)$/);
    expect(line.message.length).toBeLessThan(140);
  });

  it('ships text that is not JSON as INFO', () => {
    const line = toPilotLogLine('plain text from somewhere');
    expect(line.severity).toBe('INFO');
    expect(line.message).toBe('plain text from somewhere');
  });
});

describe('scrubSecrets', () => {
  it('removes JWTs, bearer tokens and given secrets', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwaWxvdCJ9.c2lnbmF0dXJl';
    const text = `url=https://x/?t=${jwt} auth="Bearer abc.def-123" note=${SECRET} json=${JSON.stringify(SECRET)}`;
    const scrubbed = scrubSecrets(text, [SECRET]);
    expect(scrubbed).not.toContain(jwt);
    expect(scrubbed).not.toContain('abc.def-123');
    expect(scrubbed).not.toContain('Xq7');
    expect(scrubbed).toContain('Bearer [redacted]');
  });
});

describe('LogShipper against the reference service', () => {
  it('sends a batch once it is full', async () => {
    const { client } = await loggedInReferenceClient();
    const { log, shipper } = startShipping({
      client: () => client,
      maxBatchLines: 5,
      flushIntervalMs: 60_000,
      minRequestIntervalMs: 1,
    });

    for (let i = 0; i < 13; i += 1) log.info({ i }, 'tick');
    await vi.waitFor(() => expect(received()).toHaveLength(10), { timeout: 5_000 });
    expect(messageRequests()).toBe(2);
    await sleep(300);
    expect(received()).toHaveLength(10);

    await shipper.flush();
    expect(received()).toHaveLength(13);
    expect(messageRequests()).toBe(3);
    expect(received().map((line) => line.message)).toEqual(
      Array.from({ length: 13 }, (_, i) => `tick {"i":${i}}`),
    );
  });

  it('sends a partial batch after the interval', async () => {
    const { client } = await loggedInReferenceClient();
    const { log } = startShipping({ client: () => client, flushIntervalMs: 400 });

    const startedAt = Date.now();
    log.info('first');
    log.warn('second');
    await sleep(150);
    expect(received()).toHaveLength(0);

    await vi.waitFor(() => expect(received()).toHaveLength(2), { timeout: 5_000 });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(390);
    expect(messageRequests()).toBe(1);
    expect(received().map((line) => line.severity)).toEqual(['INFO', 'WARN']);
  });

  it('keeps requests apart by the rate limit', async () => {
    const { client } = await loggedInReferenceClient();
    const { log } = startShipping({
      client: () => client,
      maxBatchLines: 1,
      minRequestIntervalMs: 300,
    });

    log.info('one');
    log.info('two');
    log.info('three');
    const arrivals: number[] = [];
    const giveUpAt = Date.now() + 5_000;
    while (arrivals.length < 3 && Date.now() < giveUpAt) {
      while (received().length > arrivals.length) arrivals.push(Date.now());
      await sleep(5);
    }

    expect(messageRequests()).toBe(3);
    expect(arrivals).toHaveLength(3);
    expect((arrivals[1] as number) - (arrivals[0] as number)).toBeGreaterThanOrEqual(280);
    expect((arrivals[2] as number) - (arrivals[1] as number)).toBeGreaterThanOrEqual(280);
  });

  it('never ships tokens or the secret', async () => {
    const { service: reference, client } = await loggedInReferenceClient();
    const { log, shipper, local } = startShipping({ client: () => client, secrets: [SECRET] });

    const jwt = reference.createUserTokens().access_token;
    log.info({ url: `https://storage.example/get?token=${jwt}` }, 'download started');
    log.warn({ header: 'Authorization: Bearer opaque-token-value' }, 'request failed');
    log.error({ note: `the secret is ${SECRET}` }, `secret ${SECRET} rejected`);
    log.info({ token: jwt, pilotSecret: SECRET }, 'token obtained');
    await shipper.flush();

    const shipped = JSON.stringify(received());
    expect(received()).toHaveLength(4);
    expect(shipped).not.toContain(jwt.split('.')[1]);
    expect(shipped).not.toContain('opaque-token-value');
    expect(shipped).not.toContain('Xq7');
    expect(shipped).toContain('[redacted]');
    // The local log is untouched by the shipper's scrubbing.
    expect(JSON.stringify(local)).toContain('opaque-token-value');
  });

  it('drops oldest DEBUG and INFO first', async () => {
    const { client } = await loggedInReferenceClient();
    let ready = false;
    const { log, shipper } = startShipping({
      client: () => (ready ? client : undefined),
      flushIntervalMs: 60_000,
      maxBufferBytes: 3_000,
    });

    log.warn('early warning');
    for (let i = 0; i < 60; i += 1) log.info({ i }, 'chatter');
    log.error('late error');
    ready = true;
    await shipper.flush();

    const messages = received().map((line) => line.message);
    expect(messages[0]).toMatch(/^\d+ pilot log lines were dropped/);
    expect(messages).toContain('early warning');
    expect(messages).toContain('late error');
    expect(messages).toContain('chatter {"i":59}');
    expect(messages).not.toContain('chatter {"i":0}');
    const dropped = Number(/^(\d+)/.exec(messages[0] as string)?.[1]);
    expect(dropped + messages.length - 1).toBe(62);
  });

  it('flushes everything before exit', async () => {
    const { client } = await loggedInReferenceClient();
    const { log, shipper } = startShipping({
      client: () => client,
      maxBatchLines: 4,
      flushIntervalMs: 60_000,
      minRequestIntervalMs: 60_000,
    });

    for (let i = 0; i < 10; i += 1) log.info({ i }, 'line');
    await shipper.flush();
    expect(received()).toHaveLength(10);
    expect(messageRequests()).toBe(3);
  });

  it('waits for login before sending', async () => {
    const { client } = await loggedInReferenceClient();
    let ready = false;
    const { log, shipper } = startShipping({
      client: () => (ready ? client : undefined),
      flushIntervalMs: 100,
    });

    log.info('before login');
    await sleep(300);
    expect(messageRequests()).toBe(0);
    await shipper.flush();
    expect(messageRequests()).toBe(0);

    ready = true;
    await vi.waitFor(() => expect(received()).toHaveLength(1), { timeout: 5_000 });
    expect(received()[0]?.message).toBe('before login');
  });
});

describe('LogShipper against a failing route', () => {
  it('stops after a 404 and says so once', async () => {
    const server = await startLogFixture((_request, response) =>
      sendJson(response, 404, { detail: 'Not Found' }),
    );
    const client = makeClient(server.url);
    await client.login();
    const { log, shipper, local } = startShipping({ client: () => client, maxBatchLines: 2 });

    for (let i = 0; i < 6; i += 1) log.info({ i }, 'line');
    await vi.waitFor(() => expect(shipper.isShipping).toBe(false), { timeout: 5_000 });
    log.info('after the stop');
    await shipper.flush();

    expect(batchesOf(server)).toHaveLength(1);
    const notices = local.filter((line) =>
      String(line.msg).startsWith('pilot log shipping stopped'),
    );
    expect(notices).toHaveLength(1);
    expect(notices[0]?.reason).toBe('route not found');
    expect(local.filter((line) => line.msg === 'line')).toHaveLength(6);
    expect(local.some((line) => line.msg === 'after the stop')).toBe(true);
  });

  it('stops after repeated 500s', async () => {
    const server = await startLogFixture((_request, response) =>
      sendJson(response, 500, { detail: 'Internal Server Error' }),
    );
    const client = makeClient(server.url, {
      retry: { initialDelayMs: 10, maxDelayMs: 20, deadlineMs: 100 },
    });
    await client.login();
    const { log, shipper, local } = startShipping({
      client: () => client,
      maxBatchLines: 1,
      flushIntervalMs: 50,
      minRequestIntervalMs: 10,
      requestDeadlineMs: 100,
      maxConsecutiveFailures: 3,
    });

    log.info('doomed');
    await vi.waitFor(() => expect(shipper.isShipping).toBe(false), { timeout: 10_000 });
    const requestsAtStop = server.requests.length;
    log.info('after the stop');
    await sleep(200);

    expect(server.requests.length).toBe(requestsAtStop);
    const notices = local.filter((line) =>
      String(line.msg).startsWith('pilot log shipping stopped'),
    );
    expect(notices).toHaveLength(1);
    expect(notices[0]?.reason).toBe('requests kept failing');
    expect(notices[0]?.failedRequests).toBe(3);
  });

  it('keeps lines through a failure', async () => {
    let answered = 0;
    const server = await startLogFixture((_request, response) => {
      answered += 1;
      // A Retry-After longer than the call's deadline makes the client give up at once.
      if (answered === 1) sendJson(response, 503, { detail: 'busy' }, { 'Retry-After': '60' });
      else response.writeHead(204).end();
    });
    const client = makeClient(server.url);
    await client.login();
    const { log, shipper } = startShipping({
      client: () => client,
      flushIntervalMs: 60_000,
      minRequestIntervalMs: 1,
    });

    log.info('one');
    log.info('two');
    await shipper.flush();

    const batches = batchesOf(server).map((lines) => lines.map((line) => line.message));
    expect(batches).toEqual([
      ['one', 'two'],
      ['one', 'two'],
    ]);
    expect(shipper.isShipping).toBe(true);
  });

  it('limits requests in flight and bytes', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const server = await startLogFixture(async (_request, response) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(100);
      inFlight -= 1;
      response.writeHead(204).end();
    });
    const client = makeClient(server.url);
    await client.login();
    const { log, shipper } = startShipping({
      client: () => client,
      maxBatchBytes: 1_000,
      minRequestIntervalMs: 1,
    });

    for (let i = 0; i < 20; i += 1) log.info({ padding: 'x'.repeat(200), i }, 'wide');
    await vi.waitFor(() => expect(batchesOf(server).length).toBeGreaterThanOrEqual(3), {
      timeout: 5_000,
    });
    await shipper.flush();

    expect(maxInFlight).toBe(1);
    expect(batchesOf(server).flat()).toHaveLength(20);
    for (const request of server.requests.filter((r) => r.path.endsWith('/message'))) {
      expect(request.body.length).toBeLessThanOrEqual(1_000);
    }
  });

  it('bounds flush by its deadline', async () => {
    const server = await startLogFixture(() => {
      // Never responds, so the request stays in flight until the shipper gives up on it.
    });
    const client = makeClient(server.url);
    await client.login();
    const { log, shipper } = startShipping({ client: () => client as PilotLogSender });

    log.info('stuck');
    const startedAt = Date.now();
    await shipper.flush(300);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    shipper.close();
  });
});

describe('bundled pilot', () => {
  it('ships its lifecycle lines', async () => {
    service = await startReferenceService();
    const jobId = await service.submitJob({
      workflow: ECHO_TOOL,
      workflow_params: { message: 'hello' },
    });

    const run = await runPilot({ service, env: { DIRAC_PILOT_STAMP: 'e2e-shipper' } });

    expect(run.exitCode).toBe(0);
    expect(service.getJob(jobId).status).toBe('Done');
    const lines = service.pilots.get('e2e-shipper')?.messages ?? [];
    const messages = lines.map((line) => line.message);
    for (const event of ['node probed', 'job matched', 'pilot finished']) {
      expect(messages.some((message) => message.startsWith(event))).toBe(true);
    }
    expect(lines.find((line) => line.message.startsWith('job matched'))?.scope).toBe(
      `job:${jobId}`,
    );
    expect(lines.every((line) => !line.message.includes('secret-'))).toBe(true);
  });
});
