import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WmsError } from '../../src/errors.js';
import type { MatchedJob, WmsClient } from '../../src/wms/index.js';
import { type ReferenceService, startReferenceService } from '../reference-service/index.js';
import { makeClient } from './http-fixture.js';

let service: ReferenceService | undefined;
let clients: WmsClient[] = [];
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wms-reference-'));
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await service?.close();
  clients = [];
  service = undefined;
  await rm(dir, { recursive: true, force: true });
});

const registration = { vo: 'ctao', grid_type: 'SSH', grid_site: 'CTAO.TEST.ch', status: 'Running' };
const node = { site: 'CTAO.TEST.ch', tags: ['apptainer'], gpu: { count: 0 } };
const slot = { cores: 4, 'ram-mb': 8000, 'wall-time': 86000 };
const workflow =
  'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: "true"\ninputs: []\noutputs: []\n';

async function loggedInClient(stamp = 'pilot01'): Promise<WmsClient> {
  service!.addPilotSecret(null, `secret-${stamp}`);
  const client = makeClient(service!.url, {
    pilotStamp: stamp,
    credentials: { kind: 'pilot-secret', secret: `secret-${stamp}` },
  });
  clients.push(client);
  await client.login(registration);
  return client;
}

async function matchOne(client: WmsClient): Promise<MatchedJob> {
  const result = await client.match({ node, slot, benchmark: 10 });
  if (result.kind !== 'job') throw new Error(`expected a job, got ${result.kind}`);
  return result.job;
}

describe('reference service login', () => {
  it('registers the pilot with its secret', async () => {
    service = await startReferenceService();

    const client = await loggedInClient('pilot01');
    await client.setPilotStatus({ Status: 'Running' });

    const pilot = service.pilots.get('pilot01');
    expect(pilot?.status).toBe('Running');
    expect(pilot?.gridSite).toBe('CTAO.TEST.ch');
  });

  it('rejects a secret used twice', async () => {
    service = await startReferenceService();
    await loggedInClient('pilot01');
    const second = makeClient(service.url, {
      pilotStamp: 'pilot01',
      credentials: { kind: 'pilot-secret', secret: 'secret-pilot01' },
    });
    clients.push(second);

    const error = await second.login(registration).catch((e: unknown) => e);

    expect((error as WmsError).code).toBe('WMS_UNAUTHORIZED');
  });

  it('rejects an old client version', async () => {
    service = await startReferenceService({ minClientVersion: '1.0.0' });
    service.addPilotSecret(null, 'secret-old');
    const client = makeClient(service.url, {
      credentials: { kind: 'pilot-secret', secret: 'secret-old' },
    });
    clients.push(client);

    const error = await client.login(registration).catch((e: unknown) => e);

    expect((error as WmsError).code).toBe('WMS_VERSION_REFUSED');
  });
});

describe('reference service jobs', () => {
  it('walks a matched job to Done', async () => {
    service = await startReferenceService();
    const jobId = await service.submitJob({ workflow });
    const client = await loggedInClient();

    const job = await matchOne(client);
    const beat = await client.heartbeat({ [jobId]: { WallClockTime: 1 } });
    const steps: Array<[string, string]> = [
      ['Running', 'Job Initialization'],
      ['Running', 'Application'],
      ['Completing', 'Application Finished Successfully'],
      ['Done', 'Execution Complete'],
    ];
    for (const [status, minor] of steps) {
      const result = await client.sendStatus({
        [jobId]: [{ Status: status, MinorStatus: minor, Source: 'JobWrapper' }],
      });
      expect(result.failed).toEqual({});
    }

    expect(job.job_id).toBe(jobId);
    expect(beat.unknownJobIds).toEqual([]);
    const view = service.getJob(jobId);
    expect(view.status).toBe('Done');
    expect(view.minorStatus).toBe('Execution Complete');
  });

  it('returns none when no job fits', async () => {
    service = await startReferenceService({ noMatchRetryAfterSeconds: 30 });
    const client = await loggedInClient();

    const result = await client.match({ node, slot, benchmark: 10 });

    expect(result).toEqual({ kind: 'none', retryAfterSeconds: 30 });
  });

  it('returns refused for a refused pilot version', async () => {
    service = await startReferenceService({ refusedPilotVersions: ['0.0.1-bad'] });
    service.addPilotSecret(null, 'secret-bad');
    const client = makeClient(service.url, {
      pilotVersion: '0.0.1-bad',
      credentials: { kind: 'pilot-secret', secret: 'secret-bad' },
    });
    clients.push(client);
    await client.login(registration);

    const result = await client.match({ node, slot, benchmark: 10 });

    expect(result.kind).toBe('refused');
  });

  it('delivers a kill command once', async () => {
    service = await startReferenceService();
    const jobId = await service.submitJob({ workflow });
    const client = await loggedInClient();
    await matchOne(client);
    service.queueCommand(jobId, 'Kill');

    const first = await client.heartbeat({ [jobId]: { WallClockTime: 1 } });
    const second = await client.heartbeat({ [jobId]: { WallClockTime: 2 } });

    expect(first.commands).toEqual([{ job_id: jobId, command: 'Kill', arguments: '' }]);
    expect(second.commands).toEqual([]);
  });

  it('reports an unknown job in a heartbeat', async () => {
    service = await startReferenceService();
    const jobId = await service.submitJob({ workflow });
    const client = await loggedInClient();
    await matchOne(client);

    const result = await client.heartbeat({
      [jobId]: { WallClockTime: 1 },
      999_999: { WallClockTime: 1 },
    });

    expect(result.unknownJobIds).toEqual([999_999]);
    expect(service.getJob(jobId).heartbeats).toBeGreaterThan(0);
  });

  it('reschedules a running job', async () => {
    service = await startReferenceService();
    const jobId = await service.submitJob({ workflow });
    const client = await loggedInClient();
    await matchOne(client);
    await client.sendStatus({ [jobId]: [{ Status: 'Running', Source: 'Pilot' }] });

    const result = await client.reschedule([jobId]);

    expect(Object.keys(result.success)).toEqual([String(jobId)]);
    expect(service.getJob(jobId).status).toBe('Received');
  });

  it('stamps records in a skewed service clock', async () => {
    service = await startReferenceService({ clockOffsetSeconds: 3600 });
    const jobId = await service.submitJob({ workflow });
    const client = await loggedInClient();
    await matchOne(client);
    // The heartbeat adds a Running record stamped with the service's clock, an hour ahead.
    await client.heartbeat({ [jobId]: { WallClockTime: 1 } });

    await client.sendStatus({
      [jobId]: [{ Status: 'Running', MinorStatus: 'Application', Source: 'JobWrapper' }],
    });

    const skewMs = client.serviceNow().getTime() - Date.now();
    expect(skewMs).toBeGreaterThan(3_598_000);
    expect(skewMs).toBeLessThan(3_602_000);
    expect(service.getJob(jobId).minorStatus).toBe('Application');
  });
});

describe('reference service sandboxes', () => {
  it('downloads the input sandbox with a checksum check', async () => {
    service = await startReferenceService();
    const inputs = join(dir, 'inputs');
    await mkdir(inputs);
    await writeFile(join(inputs, 'params.yaml'), 'energy: 1 TeV\n');
    const jobId = await service.submitJob({ workflow, inputSandboxDir: inputs });
    const client = await loggedInClient();
    const job = await matchOne(client);
    const pfn = job.input_sandbox[0]!;
    const dest = join(dir, 'input.tar.zst');

    await client.downloadSandbox(jobId, pfn, dest);

    const bytes = await readFile(dest);
    expect(bytes).toEqual(service.readSandbox(pfn));
    expect(pfn).toContain(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  });

  it('uploads an output sandbox and assigns it twice', async () => {
    service = await startReferenceService();
    const jobId = await service.submitJob({ workflow });
    const client = await loggedInClient();
    await matchOne(client);
    const bytes = Buffer.from('output sandbox bytes, pretending to be zstd\n'.repeat(50));
    const file = join(dir, 'output.tar.zst');
    await writeFile(file, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const upload = { sha256, size: bytes.length, format: 'tar.zst' as const };

    const pfn = await client.uploadSandbox(jobId, file, upload);
    const again = await client.uploadSandbox(jobId, file, upload);
    await client.assignOutputSandbox(jobId, pfn);
    await client.assignOutputSandbox(jobId, pfn);

    expect(again).toBe(pfn);
    expect(service.readSandbox(pfn)).toEqual(bytes);
    expect(service.getJob(jobId).outputSandboxes).toEqual([pfn]);
  });

  it('rejects an upload whose bytes differ from the checksum', async () => {
    service = await startReferenceService();
    const jobId = await service.submitJob({ workflow });
    const client = await loggedInClient();
    await matchOne(client);
    const file = join(dir, 'output.tar.zst');
    await writeFile(file, 'these bytes');
    const wrongSha = createHash('sha256').update('other bytes').digest('hex');

    const error = await client
      .uploadSandbox(jobId, file, { sha256: wrongSha, size: 11, format: 'tar.zst' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WmsError);
    expect((error as WmsError).code).toBe('WMS_REJECTED');
  });
});
