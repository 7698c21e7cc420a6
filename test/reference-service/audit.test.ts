import { createHash, randomBytes } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startReferenceService, type ReferenceService } from './index.js';
import { call, isoAt, loginPilot, requestMatch } from './test-client.js';

const WORKFLOW = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: "true"\n';

let service: ReferenceService;
let pilotToken: string;

beforeEach(async () => {
  service = await startReferenceService();
  pilotToken = (await loginPilot(service, 'auditor')).access_token;
});

afterEach(async () => {
  await service.close();
});

/** Submits and matches one job; returns its id and job token. */
async function matchedJob(): Promise<{ id: number; token: string }> {
  const id = await service.submitJob({ workflow: WORKFLOW, label: `job-${Date.now()}` });
  const match = await requestMatch(service, pilotToken, 'auditor');
  expect(match.json.job_id).toBe(id);
  return { id, token: match.json.credentials.access_token };
}

/** Sends one status record per entry, each at its own millisecond after `base`. */
async function sendStatuses(id: number, statuses: string[], base = Date.now() + 10) {
  const records = Object.fromEntries(
    statuses.map((status, index) => [
      isoAt(base + index),
      { Status: status, Source: 'JobWrapper' },
    ]),
  );
  const answer = await call(service, 'PATCH', '/api/jobs/status', {
    token: pilotToken,
    json: { [id]: records },
  });
  expect(answer.status).toBe(200);
}

/** Uploads random bytes and assigns them to the job as an output sandbox. */
async function assignSandbox(id: number, token: string): Promise<void> {
  const bytes = randomBytes(32);
  const checksum = createHash('sha256').update(bytes).digest('hex');
  const initiated = await call(service, 'POST', '/api/jobs/sandbox', {
    token,
    json: { checksum_algorithm: 'sha256', checksum, size: bytes.length, format: 'tar.zst' },
  });
  const form = new FormData();
  for (const [name, value] of Object.entries(initiated.json.fields as Record<string, string>)) {
    form.append(name, value);
  }
  form.append('file', new Blob([bytes]), 'sandbox.tar.zst');
  expect((await fetch(initiated.json.url, { method: 'POST', body: form })).status).toBe(204);
  const assigned = await call(service, 'PATCH', `/api/jobs/${id}/sandbox/output`, {
    token,
    json: initiated.json.pfn,
  });
  expect(assigned.status).toBe(200);
}

function problemsOf(id: number): string[] {
  return service.audit().find((finding) => finding.jobId === id)?.problems ?? [];
}

describe('service.audit', () => {
  it('passes a job finished exactly once', async () => {
    const job = await matchedJob();
    await sendStatuses(job.id, ['Running', 'Completing']);
    await assignSandbox(job.id, job.token);
    await sendStatuses(job.id, ['Done']);

    expect(service.getJob(job.id).finalStatusRecords).toBe(1);
    expect(service.audit()).toEqual([]);
  });

  it('finds a final status sent twice', async () => {
    const job = await matchedJob();
    await sendStatuses(job.id, ['Running', 'Completing']);
    await assignSandbox(job.id, job.token);
    await sendStatuses(job.id, ['Done']);
    await sendStatuses(job.id, ['Done'], Date.now() + 50);

    expect(service.getJob(job.id).finalStatusRecords).toBe(2);
    expect(problemsOf(job.id)).toEqual(['duplicate-final-status']);
  });

  it('counts a replayed record with its old timestamp once', async () => {
    const job = await matchedJob();
    const base = Date.now() + 10;
    await sendStatuses(job.id, ['Running', 'Failed'], base);
    await sendStatuses(job.id, ['Running', 'Failed'], base);

    expect(service.getJob(job.id).finalStatusRecords).toBe(1);
    expect(problemsOf(job.id)).toEqual([]);
  });

  it('ignores a final status the state machine kept out', async () => {
    const job = await matchedJob();
    await sendStatuses(job.id, ['Done']);

    expect(service.getJob(job.id).status).toBe('Matched');
    expect(problemsOf(job.id)).toEqual(['missing-final-status']);
  });

  it('finds a second output sandbox', async () => {
    const job = await matchedJob();
    await sendStatuses(job.id, ['Running', 'Completing']);
    await assignSandbox(job.id, job.token);
    await assignSandbox(job.id, job.token);
    await sendStatuses(job.id, ['Done']);

    expect(problemsOf(job.id)).toEqual(['duplicate-output-sandbox']);
  });

  it('finds a Done job without output sandbox', async () => {
    const job = await matchedJob();
    await sendStatuses(job.id, ['Running', 'Completing', 'Done']);

    expect(problemsOf(job.id)).toEqual(['missing-output-sandbox']);
  });

  it('accepts a Failed job without output sandbox', async () => {
    const job = await matchedJob();
    await sendStatuses(job.id, ['Running', 'Failed']);

    expect(problemsOf(job.id)).toEqual([]);
  });

  it('finds jobs without a final status', async () => {
    const running = await matchedJob();
    await sendStatuses(running.id, ['Running']);
    const waiting = await service.submitJob({ workflow: WORKFLOW });

    expect(service.audit()).toEqual([
      {
        jobId: running.id,
        label: service.getJob(running.id).label,
        status: 'Running',
        finalStatusRecords: 0,
        outputSandboxes: 0,
        problems: ['missing-final-status'],
      },
      expect.objectContaining({ jobId: waiting, status: 'Waiting' }),
    ]);
  });

  it('accepts a job the service killed', async () => {
    const job = await matchedJob();
    await sendStatuses(job.id, ['Running']);
    service.killJob(job.id);

    expect(service.getJob(job.id).status).toBe('Killed');
    expect(problemsOf(job.id)).toEqual([]);
  });

  it('counts Completed then Done as two final statuses', async () => {
    const job = await matchedJob();
    await sendStatuses(job.id, ['Running', 'Completing', 'Completed', 'Done']);

    expect(service.getJob(job.id).status).toBe('Done');
    expect(problemsOf(job.id)).toContain('duplicate-final-status');
  });
});
