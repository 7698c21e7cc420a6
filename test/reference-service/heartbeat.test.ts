import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startReferenceService, type ReferenceService } from './index.js';
import { call, isoAt, loginPilot, requestMatch } from './test-client.js';

const WORKFLOW = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: "true"\n';

let service: ReferenceService;
let token: string;

beforeEach(async () => {
  service = await startReferenceService({ heartbeatInterval: 30 });
  token = (await loginPilot(service, 'pilot-h')).access_token;
});

afterEach(async () => {
  await service.close();
});

async function matchedJob(): Promise<number> {
  await service.submitJob({ workflow: WORKFLOW });
  const answer = await requestMatch(service, token, 'pilot-h');
  expect(answer.status).toBe(200);
  expect(answer.json.heartbeat_interval).toBe(30);
  return answer.json.job_id as number;
}

function heartbeat(body: Record<string, unknown>) {
  return call(service, 'PATCH', '/api/jobs/heartbeat', { token, json: body });
}

describe('PATCH /api/jobs/heartbeat', () => {
  it('moves a Matched job to Running', async () => {
    const id = await matchedJob();
    const answer = await heartbeat({ [id]: { LoadAverage: 0.5, MemoryUsed: 120 } });

    expect(answer.status).toBe(200);
    expect(answer.json).toEqual([]);
    const job = service.getJob(id);
    expect(job.status).toBe('Running');
    expect(job.heartbeats).toBe(1);
    expect(job.history.at(-1)?.source).toBe('Heartbeat');
  });

  it('stamps the Running record with the service clock', async () => {
    const id = await matchedJob();
    // A wrapper record stamped in the future: the heartbeat's record is older, so it is
    // logged but does not change the state.
    await call(service, 'PATCH', '/api/jobs/status', {
      token,
      json: {
        [id]: {
          [isoAt(Date.now() + 60_000)]: { MinorStatus: 'Job Initialization', Source: 'JobWrapper' },
        },
      },
    });
    await heartbeat({ [id]: { WallClockTime: 1 } });

    const job = service.getJob(id);
    expect(job.status).toBe('Matched');
    expect(job.history.at(-1)?.status).toBe('Running');
  });

  it('delivers a command once', async () => {
    const id = await matchedJob();
    service.queueCommand(id, 'Kill');
    const first = await heartbeat({ [id]: { CPUConsumed: 3 } });
    const second = await heartbeat({ [id]: { CPUConsumed: 4 } });

    expect(first.json).toEqual([{ job_id: id, command: 'Kill', arguments: '' }]);
    expect(second.json).toEqual([]);
  });

  it('delivers the Kill queued by killJob', async () => {
    const id = await matchedJob();
    await heartbeat({ [id]: {} });
    expect(service.killJob(id)).toBe(true);
    const answer = await heartbeat({ [id]: {} });

    expect(service.getJob(id).status).toBe('Killed');
    expect(answer.json).toEqual([{ job_id: id, command: 'Kill', arguments: '' }]);
  });

  it('answers a bare 500 for an unknown job', async () => {
    const id = await matchedJob();
    const answer = await heartbeat({ [id]: {}, '4242': { LoadAverage: 1 } });

    expect(answer.status).toBe(500);
    expect(answer.json).toBeUndefined();
    expect(service.getJob(id).heartbeats).toBe(0);
  });

  it('rejects an unknown key with 422', async () => {
    const id = await matchedJob();
    const answer = await heartbeat({ [id]: { LoadAverage: 1, Temperature: 40 } });

    expect(answer.status).toBe(422);
    expect(answer.json.detail[0].loc).toEqual(['body', String(id), 'Temperature']);
    expect(service.getJob(id).heartbeats).toBe(0);
  });

  it('rejects a job token with 403', async () => {
    await service.submitJob({ workflow: WORKFLOW });
    const match = await requestMatch(service, token, 'pilot-h');
    const answer = await call(service, 'PATCH', '/api/jobs/heartbeat', {
      token: match.json.credentials.access_token,
      json: { [match.json.job_id]: {} },
    });

    expect(answer.status).toBe(403);
  });
});

describe('stall detection', () => {
  it('marks a silent Running job Stalled', async () => {
    const id = await matchedJob();
    await heartbeat({ [id]: {} });
    service.checkStalledJobs();
    expect(service.getJob(id).status).toBe('Running');
    service.advanceClock(30 * 2.5 + 1);
    service.checkStalledJobs();

    expect(service.getJob(id).status).toBe('Stalled');
    await heartbeat({ [id]: {} });
    expect(service.getJob(id).status).toBe('Running');
  });
});

describe('PATCH /api/jobs/metadata', () => {
  it('stores metadata by name', async () => {
    const id = await matchedJob();
    const answer = await call(service, 'PATCH', '/api/jobs/metadata', {
      token,
      json: { [id]: { HostName: 'node1', PayloadPID: 1234 } },
    });

    expect(answer.status).toBe(204);
    expect(service.getJob(id).metadata).toEqual({ HostName: 'node1', PayloadPID: 1234 });
  });
});
