import { afterEach, describe, expect, it } from 'vitest';

import { startReferenceService, type ReferenceService } from './index.js';
import type { JobRequirements } from './types.js';
import { call, loginPilot, requestMatch, type SlotOverrides } from './test-client.js';

const WORKFLOW = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: "true"\n';

let service: ReferenceService | undefined;

afterEach(async () => {
  await service?.close();
  service = undefined;
});

async function matchOne(requirements: JobRequirements, slot: SlotOverrides) {
  service = await startReferenceService();
  const id = await service.submitJob({ workflow: WORKFLOW, requirements });
  const tokens = await loginPilot(service, 'matcher');
  const answer = await requestMatch(service, tokens.access_token, 'matcher', slot);
  return { id, answer, token: tokens.access_token };
}

// Slot defaults: 4 cores, 8000 MB, 86000 s, benchmark 10, no GPU, tags ['apptainer'].
const CASES: { name: string; requirements: JobRequirements; slot: SlotOverrides; fits: boolean }[] =
  [
    { name: 'no requirements', requirements: {}, slot: {}, fits: true },
    { name: 'cores equal', requirements: { cores: 4 }, slot: {}, fits: true },
    { name: 'cores above', requirements: { cores: 5 }, slot: {}, fits: false },
    { name: 'ram above', requirements: { 'ram-mb': 8001 }, slot: {}, fits: false },
    {
      name: 'wall time above',
      requirements: { 'wall-time': 3600 },
      slot: { 'wall-time': 3599 },
      fits: false,
    },
    {
      name: 'cpu work within',
      requirements: { 'cpu-work': 36000 },
      slot: { 'wall-time': 3600 },
      fits: true,
    },
    {
      name: 'cpu work above',
      requirements: { 'cpu-work': 36001 },
      slot: { 'wall-time': 3600 },
      fits: false,
    },
    {
      name: 'cpu work on slow node',
      requirements: { 'cpu-work': 36000 },
      slot: { 'wall-time': 3600, benchmark: 5 },
      fits: false,
    },
    { name: 'gpu missing', requirements: { gpu: 1 }, slot: {}, fits: false },
    { name: 'gpu present', requirements: { gpu: 1 }, slot: { gpus: 2 }, fits: true },
    { name: 'tag present', requirements: { tags: ['apptainer'] }, slot: {}, fits: true },
    {
      name: 'tag missing',
      requirements: { tags: ['apptainer', 'cvmfs:ctao'] },
      slot: {},
      fits: false,
    },
  ];

describe('POST /api/pilots/internal/match', () => {
  it.each(CASES)('matches by rule: $name', async ({ requirements, slot, fits }) => {
    const { id, answer } = await matchOne(requirements, slot);

    expect(answer.status).toBe(fits ? 200 : 204);
    expect(service!.getJob(id).status).toBe(fits ? 'Matched' : 'Waiting');
  });

  it('returns the job in the contract shape', async () => {
    const requirements = { cores: 2, 'ram-mb': 4000 };
    const { id, answer } = await matchOne(requirements, {});

    expect(answer.json).toMatchObject({
      job_id: id,
      owner: 'jdoe',
      owner_group: 'ctao_user',
      vo: 'ctao',
      workflow: WORKFLOW,
      workflow_params: {},
      input_sandbox: [],
      requirements,
      heartbeat_interval: 60,
    });
    expect(answer.json.credentials.expires_in).toBe(3600);
    expect(service!.getJob(id).pilotStamp).toBe('matcher');
  });

  it('sends Retry-After with 204 when configured', async () => {
    service = await startReferenceService({ noMatchRetryAfterSeconds: 42 });
    const tokens = await loginPilot(service, 'idle');
    const answer = await requestMatch(service, tokens.access_token, 'idle');

    expect(answer.status).toBe(204);
    expect(answer.headers.get('retry-after')).toBe('42');
  });

  it('refuses a pilot version with 409', async () => {
    service = await startReferenceService({ refusedPilotVersions: ['0.0.9'] });
    await service.submitJob({ workflow: WORKFLOW });
    const tokens = await loginPilot(service, 'old');
    const answer = await requestMatch(service, tokens.access_token, 'old', {
      pilotVersion: '0.0.9',
    });

    expect(answer.status).toBe(409);
    expect(typeof answer.json.detail).toBe('string');
    expect(service.listJobs()[0]?.status).toBe('Waiting');
  });

  it('rejects another pilot stamp with 403', async () => {
    service = await startReferenceService();
    const tokens = await loginPilot(service, 'mine');
    const answer = await requestMatch(service, tokens.access_token, 'theirs');

    expect(answer.status).toBe(403);
  });

  it('rejects a body without a slot with 422', async () => {
    service = await startReferenceService();
    const tokens = await loginPilot(service, 'broken');
    const answer = await call(service, 'POST', '/api/pilots/internal/match', {
      token: tokens.access_token,
      json: { pilot_stamp: 'broken', node: {}, pilot_version: '0.1.0', benchmark: 10 },
    });

    expect(answer.status).toBe(422);
  });
});

describe('POST /api/pilots/internal/job-token', () => {
  it('renews the token of a matched job', async () => {
    const { id, token } = await matchOne({}, {});
    const tokens = await loginPilot(service!, 'other');
    const own = await call(service!, 'POST', '/api/pilots/internal/job-token', {
      token,
      json: { job_id: id },
    });
    const foreign = await call(service!, 'POST', '/api/pilots/internal/job-token', {
      token: tokens.access_token,
      json: { job_id: id },
    });

    expect(own.status).toBe(200);
    expect(own.json.expires_in).toBe(3600);
    expect(foreign.status).toBe(404);
  });
});
