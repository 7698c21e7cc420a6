import { createHash, randomBytes } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { parseFaultSpec, parseRouteFaultSpec } from './fault-spec.js';
import { seededRandom } from './faults.js';
import { startReferenceService, type FaultOptions, type ReferenceService } from './index.js';
import { call, isoAt, loginPilot, requestMatch, type Answer } from './test-client.js';

const WORKFLOW = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: "true"\n';
const LIVE = 'GET /api/health/live';
const STATUS = 'PATCH /api/jobs/status';
const HEARTBEAT = 'PATCH /api/jobs/heartbeat';
const ASSIGN = 'PATCH /api/jobs/{job_id}/sandbox/output';

let service: ReferenceService;
let pilotToken: string;
let refreshToken: string;
let jobId: number;
let jobToken: string;

beforeEach(async () => {
  service = await startReferenceService();
  await service.submitJob({ workflow: WORKFLOW });
  const tokens = await loginPilot(service, 'faulty');
  pilotToken = tokens.access_token;
  refreshToken = tokens.refresh_token;
  const match = await requestMatch(service, pilotToken, 'faulty');
  jobId = match.json.job_id;
  jobToken = match.json.credentials.access_token;
});

afterEach(async () => {
  await service.close();
});

/** Sends one request and returns its response, or `reset` when the connection was reset. */
async function tryCall(
  method: string,
  path: string,
  options: Parameters<typeof call>[3] = {},
): Promise<Answer | 'reset'> {
  try {
    return await call(service, method, path, options);
  } catch {
    return 'reset';
  }
}

function patchRunning(stampMillis = Date.now() + 10) {
  return tryCall('PATCH', '/api/jobs/status', {
    token: pilotToken,
    json: { [jobId]: { [isoAt(stampMillis)]: { Status: 'Running', Source: 'JobWrapper' } } },
  });
}

function heartbeat() {
  return tryCall('PATCH', '/api/jobs/heartbeat', {
    token: pilotToken,
    json: { [jobId]: { CPUConsumed: 1 } },
  });
}

/** Starts an upload of `bytes` as an output sandbox: the service returns a reference and URL. */
function initiateUpload(bytes: Buffer) {
  const checksum = createHash('sha256').update(bytes).digest('hex');
  return call(service, 'POST', '/api/jobs/sandbox', {
    token: jobToken,
    json: { checksum_algorithm: 'sha256', checksum, size: bytes.length, format: 'tar.zst' },
  });
}

/** Posts the form of an initiated upload; returns the storage's status, 0 for a reset. */
async function postUpload(initiated: Answer, bytes: Buffer): Promise<number> {
  const form = new FormData();
  for (const [name, value] of Object.entries(initiated.json.fields as Record<string, string>)) {
    form.append(name, value);
  }
  form.append('file', new Blob([bytes]), 'sandbox.tar.zst');
  try {
    return (await fetch(initiated.json.url, { method: 'POST', body: form })).status;
  } catch {
    return 0;
  }
}

/** Uploads random bytes as an output sandbox and returns its reference, unassigned. */
async function uploadSandbox(): Promise<string> {
  const bytes = randomBytes(64);
  const initiated = await initiateUpload(bytes);
  expect(await postUpload(initiated, bytes)).toBe(204);
  return initiated.json.pfn;
}

function assign(pfn: string) {
  return tryCall('PATCH', `/api/jobs/${jobId}/sandbox/output`, { token: jobToken, json: pfn });
}

/** Sends `count` health checks one after another and returns each status, 0 for a reset. */
async function liveStatuses(count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let index = 0; index < count; index++) {
    const answer = await tryCall('GET', '/api/health/live');
    statuses.push(answer === 'reset' ? 0 : answer.status);
  }
  return statuses;
}

describe('fault rates', () => {
  it('injects errors at about the configured rate', async () => {
    service.setFaults({ rate: 0.3, kinds: ['error'], routes: [LIVE], seed: 11 });
    const statuses = await liveStatuses(400);
    const errors = statuses.filter((status) => status !== 200);

    // 400 draws at p = 0.3 give 120 ± 9.2 (one standard deviation).
    expect(errors.length).toBeGreaterThan(85);
    expect(errors.length).toBeLessThan(155);
    expect(new Set(errors)).toEqual(new Set([500, 502, 503, 429]));
    expect(service.faultCounts()[LIVE]?.error).toBe(errors.length);
  });

  it('splits the rate evenly between kinds', async () => {
    service.setFaults({ rate: 0.6, kinds: ['error', 'drop'], routes: [LIVE], seed: 5 });
    const statuses = await liveStatuses(300);
    const resets = statuses.filter((status) => status === 0).length;
    const errors = statuses.filter((status) => status !== 0 && status !== 200).length;

    // Each kind: 300 draws at p = 0.3 give 90 ± 7.9.
    expect(resets).toBeGreaterThan(60);
    expect(resets).toBeLessThan(120);
    expect(errors).toBeGreaterThan(60);
    expect(errors).toBeLessThan(120);
    expect(service.faultCounts()[LIVE]).toMatchObject({ drop: resets, error: errors });
  });

  it('repeats the same faults with the same seed', async () => {
    const options: FaultOptions = { rate: 0.5, kinds: ['error', 'drop'], seed: 42 };
    service.setFaults(options);
    const first = await liveStatuses(40);
    service.setFaults(options);
    const second = await liveStatuses(40);
    service.setFaults({ ...options, seed: 43 });
    const third = await liveStatuses(40);

    expect(second).toEqual(first);
    expect(third).not.toEqual(first);
  });

  it('keeps one sequence per route', async () => {
    service.setFaults({ rate: 0.5, kinds: ['error'], seed: 3 });
    const alone = await liveStatuses(30);
    service.setFaults({ rate: 0.5, kinds: ['error'], seed: 3 });
    const interleaved: number[] = [];
    for (let index = 0; index < 30; index++) {
      await tryCall('GET', '/api/health/ready');
      const [status] = await liveStatuses(1);
      interleaved.push(status as number);
    }

    expect(interleaved).toEqual(alone);
  });

  it('answers 429 with Retry-After', async () => {
    service.setFaults({ rate: 1, kinds: ['error'], errorStatuses: [429], retryAfterSeconds: 7 });
    const answer = (await tryCall('GET', '/api/health/live')) as Answer;

    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('7');
    expect(answer.json).toEqual({ detail: 'Too Many Requests' });
  });

  it('injects nothing by default', async () => {
    await liveStatuses(20);
    await heartbeat();

    expect(service.faultCounts()).toEqual({});
  });

  it('stops when faults are turned off', async () => {
    service.setFaults({ rate: 1, kinds: ['error'] });
    const [during] = await liveStatuses(1);
    service.setFaults(undefined);
    const [after] = await liveStatuses(1);

    expect(during).not.toBe(200);
    expect(after).toBe(200);
    expect(service.faultCounts()[LIVE]?.error).toBe(1);
  });

  it('lets a route rule override the top-level rule', async () => {
    service.setFaults({
      rate: 1,
      kinds: ['error'],
      routeRules: [{ rate: 0, routes: [LIVE] }],
    });
    const [live] = await liveStatuses(1);
    const ready = (await tryCall('GET', '/api/health/ready')) as Answer;

    expect(live).toBe(200);
    expect(ready.status).not.toBe(200);
  });

  it('rejects invalid options', () => {
    expect(() => service.setFaults({ rate: 1.5 })).toThrow(/rate 1.5 .* from 0 to 1/);
    expect(() => service.setFaults({ rate: 1, routes: ['GET /nowhere'] })).toThrow(
      /Route GET \/nowhere .* unknown/,
    );
    expect(() => service.setFaults({ rate: 1, kinds: ['slow' as 'delay'] })).toThrow(
      /kind slow .* unknown/,
    );
    expect(() => service.setFaults({ rate: 1, errorStatuses: [404] })).toThrow(/status 404/);
    expect(() => service.setFaults({ rate: 1, delaySeconds: [3, 1] })).toThrow(/delaySeconds/);
  });

  it('spreads the generator over [0, 1)', () => {
    const random = seededRandom(9);
    const values = Array.from({ length: 10_000 }, random);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;

    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });
});

describe('fault kinds', () => {
  it('error does not act', async () => {
    service.setFaults({ rate: 1, kinds: ['error'], routes: [STATUS] });
    const answer = (await patchRunning()) as Answer;

    expect(answer.status).toBeGreaterThanOrEqual(429);
    expect(service.getJob(jobId).status).toBe('Matched');
  });

  it('delay answers late after acting', async () => {
    service.setFaults({ rate: 1, kinds: ['delay'], routes: [STATUS], delaySeconds: [0.3, 0.4] });
    const started = Date.now();
    const answer = (await patchRunning()) as Answer;

    expect(answer.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(service.getJob(jobId).status).toBe('Running');
  });

  it('drop resets the connection without acting', async () => {
    service.setFaults({ rate: 1, kinds: ['drop'], routes: [STATUS] });
    const answer = await patchRunning();

    expect(answer).toBe('reset');
    expect(service.getJob(jobId).status).toBe('Matched');
    expect(service.requestCounts()[STATUS]).toBe(1);
  });

  it('lost acts, then resets the connection', async () => {
    service.setFaults({ rate: 1, kinds: ['lost'], routes: [STATUS] });
    const answer = await patchRunning();

    expect(answer).toBe('reset');
    expect(service.getJob(jobId).status).toBe('Running');
    expect(service.faultCounts()[STATUS]?.lost).toBe(1);
  });

  it('lost heartbeat answer delivers its Kill', async () => {
    service.queueCommand(jobId, 'Kill');
    service.setFaults({ rate: 1, kinds: ['lost'], routes: [HEARTBEAT] });
    const lost = await heartbeat();
    service.setFaults(undefined);
    const retried = (await heartbeat()) as Answer;

    expect(lost).toBe('reset');
    expect(retried.status).toBe(200);
    expect(retried.json).toEqual([]);
    expect(service.getJob(jobId).commands[0]?.delivered).toBe(true);
  });

  it('lost assignment answers 400 on retry', async () => {
    const pfn = await uploadSandbox();
    service.setFaults({ rate: 1, kinds: ['lost'], routes: [ASSIGN] });
    const lost = await assign(pfn);
    service.setFaults(undefined);
    const retried = (await assign(pfn)) as Answer;

    expect(lost).toBe('reset');
    expect(retried.status).toBe(400);
    expect(retried.json).toEqual({ detail: 'Sandbox already assigned' });
    expect(service.getJob(jobId).outputSandboxes).toEqual([pfn]);
  });

  it('lost upload stores the bytes', async () => {
    const bytes = randomBytes(64);
    const initiated = await initiateUpload(bytes);
    service.setFaults({ rate: 1, kinds: ['lost'], routes: ['POST /s3/{bucket}'] });
    const status = await postUpload(initiated, bytes);
    service.setFaults(undefined);
    const again = await initiateUpload(bytes);

    expect(status).toBe(0);
    expect(service.readSandbox(initiated.json.pfn)).toEqual(bytes);
    expect(again.json).toEqual({ pfn: initiated.json.pfn, url: null, fields: {} });
  });

  it('lost spares the secret exchange by default', async () => {
    service.setFaults({ rate: 1, kinds: ['lost'] });
    const tokens = await loginPilot(service, 'second');

    expect(tokens.token_type).toBe('Bearer');
    expect(service.faultCounts()['POST /api/auth/secret-exchange']).toBeUndefined();
  });

  it('lost secret exchange consumes the secret when not excluded', async () => {
    service.setFaults({ rate: 1, kinds: ['lost'], lostExcludedRoutes: [] });
    service.addPilotSecret('third', 'single-use');
    const body = { json: { pilot_stamp: 'third', pilot_secret: 'single-use' } };
    const lost = await tryCall('POST', '/api/auth/secret-exchange', body);
    service.setFaults(undefined);
    const retried = (await tryCall('POST', '/api/auth/secret-exchange', body)) as Answer;

    expect(lost).toBe('reset');
    expect(retried.status).toBe(401);
    expect(retried.json).toEqual({ detail: 'bad pilot_secret' });
  });

  it('expire issues an expired download URL', async () => {
    const pfn = await uploadSandbox();
    await assign(pfn);
    service.setFaults({ rate: 1, kinds: ['expire'] });
    const answer = await call(service, 'GET', `/api/jobs/sandbox?pfn=${encodeURIComponent(pfn)}`, {
      token: jobToken,
    });
    const download = await fetch(answer.json.url);

    expect(answer.status).toBe(200);
    expect(answer.json.expires_in).toBe(300);
    expect(download.status).toBe(403);
    expect(await download.text()).toContain('Presigned URL expired');
  });

  it('expire issues an expired upload policy', async () => {
    const bytes = randomBytes(64);
    service.setFaults({ rate: 1, kinds: ['expire'] });
    const initiated = await initiateUpload(bytes);
    service.setFaults(undefined);
    const status = await postUpload(initiated, bytes);
    const renewed = await initiateUpload(bytes);

    expect(initiated.status).toBe(200);
    expect(status).toBe(403);
    expect(await postUpload(renewed, bytes)).toBe(204);
    expect(service.faultCounts()['POST /api/jobs/sandbox']?.expire).toBe(1);
  });

  it('expire with a lifetime lets the URL work until then', async () => {
    const pfn = await uploadSandbox();
    await assign(pfn);
    service.setFaults({ rate: 1, kinds: ['expire'], urlLifetimeSeconds: 5 });
    const answer = await call(service, 'GET', `/api/jobs/sandbox?pfn=${encodeURIComponent(pfn)}`, {
      token: jobToken,
    });
    const early = await fetch(answer.json.url);
    service.advanceClock(6);
    const late = await fetch(answer.json.url);

    expect(early.status).toBe(200);
    expect(late.status).toBe(403);
  });

  it('expire applies only to routes that issue URLs', async () => {
    service.setFaults({ rate: 1, kinds: ['expire'] });
    const answer = (await heartbeat()) as Answer;

    expect(answer.status).toBe(200);
    expect(service.faultCounts()).toEqual({});
  });

  it('unauthorized expires the token until refreshed', async () => {
    service.setFaults({ rate: 1, kinds: ['unauthorized'], routes: [HEARTBEAT] });
    const rejected = (await heartbeat()) as Answer;
    service.setFaults(undefined);
    const again = (await heartbeat()) as Answer;
    const refreshed = await call(service, 'POST', '/api/auth/pilot-token', {
      json: { pilot_stamp: 'faulty', refresh_token: refreshToken },
    });
    pilotToken = refreshed.json.access_token;
    const renewed = (await heartbeat()) as Answer;

    expect(rejected.status).toBe(401);
    expect(rejected.headers.get('www-authenticate')).toBe('Bearer');
    expect(again.status).toBe(401);
    expect(again.json).toEqual({ detail: 'Token expired' });
    expect(renewed.status).toBe(200);
    expect(service.getJob(jobId).heartbeats).toBe(1);
  });
});

describe('fault specification', () => {
  it('parses the command-line form', () => {
    const options = parseFaultSpec(
      'rate=0.2,kinds=error,delay,drop,lost,expire,seed=7,delay=0.5-3,statuses=503,429',
    );

    expect(options.rate).toBe(0.2);
    expect(options.kinds).toEqual(['error', 'delay', 'drop', 'lost', 'expire']);
    expect(options.seed).toBe(7);
    expect(options.delaySeconds).toEqual([0.5, 3]);
    expect(options.errorStatuses).toEqual([503, 429]);
  });

  it('parses lost-excluded none as an empty list', () => {
    expect(parseFaultSpec('rate=1,lost-excluded=none').lostExcludedRoutes).toEqual([]);
  });

  it('parses a route rule', () => {
    const rule = parseRouteFaultSpec(`rate=0.5,kinds=lost,routes=${STATUS},${HEARTBEAT}`);

    expect(rule).toEqual({ rate: 0.5, kinds: ['lost'], routes: [STATUS, HEARTBEAT] });
  });

  it('rejects bad specifications', () => {
    expect(() => parseFaultSpec('kinds=error')).toThrow(/no rate/);
    expect(() => parseFaultSpec('rate=0.1,speed=2')).toThrow(/key "speed" is unknown/);
    expect(() => parseFaultSpec('rate=abc')).toThrow(/rate=abc is invalid/);
    expect(() => parseFaultSpec('rate=0.1,seed=1,2')).toThrow(/item "2" has no key/);
    expect(() => parseRouteFaultSpec('rate=0.1')).toThrow(/no routes/);
  });

  it('starts a service from the parsed form', async () => {
    const faulty = await startReferenceService({
      faults: parseFaultSpec('rate=1,kinds=error,statuses=503'),
    });
    try {
      const answer = await fetch(`${faulty.url}/api/health/live`);
      expect(answer.status).toBe(503);
      expect(await answer.text()).toBe('Service Unavailable');
    } finally {
      await faulty.close();
    }
  });
});
