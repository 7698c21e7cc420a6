import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startReferenceService, type ReferenceService } from './index.js';
import { formatTimestamp, parseTimestamp } from './http-util.js';
import { nextJobState } from './state-machine.js';
import { call, isoAt, loginPilot, requestMatch } from './test-client.js';

const WORKFLOW = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: "true"\n';

let service: ReferenceService;
let token: string;

beforeEach(async () => {
  service = await startReferenceService();
  token = (await loginPilot(service, 'pilot-a')).access_token;
});

afterEach(async () => {
  await service.close();
});

async function matchedJob(): Promise<number> {
  const id = await service.submitJob({ workflow: WORKFLOW });
  const answer = await requestMatch(service, token, 'pilot-a');
  expect(answer.status).toBe(200);
  expect(answer.json.job_id).toBe(id);
  return id;
}

function patchStatus(records: Record<string, Record<string, Record<string, string>>>) {
  return call(service, 'PATCH', '/api/jobs/status', { token, json: records });
}

describe('state machine table', () => {
  it('allows the pilot path step by step', () => {
    expect(nextJobState('Matched', 'Running')).toBe('Running');
    expect(nextJobState('Running', 'Completing')).toBe('Completing');
    expect(nextJobState('Completing', 'Done')).toBe('Done');
    expect(nextJobState('Completing', 'Completed')).toBe('Completed');
  });

  it('keeps the state on a disallowed transition', () => {
    expect(nextJobState('Matched', 'Done')).toBe('Matched');
    expect(nextJobState('Matched', 'Completing')).toBe('Matched');
    expect(nextJobState('Done', 'Running')).toBe('Done');
    expect(nextJobState('Killed', 'Failed')).toBe('Killed');
  });
});

describe('PATCH /api/jobs/status', () => {
  it('applies several records in time order', async () => {
    const id = await matchedJob();
    const now = Date.now();
    const answer = await patchStatus({
      [id]: {
        [isoAt(now + 20)]: {
          Status: 'Completing',
          MinorStatus: 'Application Finished Successfully',
          Source: 'JobWrapper',
        },
        [isoAt(now + 10)]: { Status: 'Running', MinorStatus: 'Application', Source: 'JobWrapper' },
      },
    });

    expect(answer.status).toBe(200);
    expect(answer.json.success[String(id)]).toEqual({
      Status: 'Completing',
      MinorStatus: 'Application Finished Successfully',
    });
    expect(answer.json.failed).toEqual({});
    const job = service.getJob(id);
    expect(job.status).toBe('Completing');
    expect(job.minorStatus).toBe('Application Finished Successfully');
  });

  it('keeps the state silently and marks the source (SM)', async () => {
    const id = await matchedJob();
    const answer = await patchStatus({
      [id]: {
        [isoAt(Date.now() + 10)]: {
          Status: 'Done',
          MinorStatus: 'Execution Complete',
          Source: 'JobWrapper',
        },
      },
    });

    expect(answer.status).toBe(200);
    const job = service.getJob(id);
    expect(job.status).toBe('Matched');
    expect(job.minorStatus).toBe('Execution Complete');
    expect(job.history.at(-1)?.source).toBe('JobWrapper (SM)');
    expect(job.history.at(-1)?.status).toBe('Done');
  });

  it('logs an older record without applying it', async () => {
    const id = await matchedJob();
    const now = Date.now();
    await patchStatus({
      [id]: {
        [isoAt(now + 50)]: { Status: 'Running', MinorStatus: 'Application', Source: 'JobWrapper' },
      },
    });
    const answer = await patchStatus({
      [id]: {
        [isoAt(now + 40)]: { Status: 'Failed', MinorStatus: 'Old news', Source: 'JobWrapper' },
      },
    });

    expect(answer.status).toBe(200);
    expect(answer.json.success[String(id)]).toEqual({});
    const job = service.getJob(id);
    expect(job.status).toBe('Running');
    expect(job.minorStatus).toBe('Application');
    expect(job.history.at(-1)?.minorStatus).toBe('Old news');
  });

  it('orders records that differ by microseconds', async () => {
    const id = await matchedJob();
    const now = Date.now() + 100;
    await patchStatus({
      [id]: {
        [isoAt(now, 2)]: { MinorStatus: 'second', Source: 'JobWrapper' },
        [isoAt(now, 1)]: { Status: 'Running', MinorStatus: 'first', Source: 'JobWrapper' },
      },
    });

    expect(service.getJob(id).minorStatus).toBe('second');
  });

  it('rejects a naive timestamp with 400', async () => {
    const id = await matchedJob();
    const answer = await patchStatus({
      [id]: { '2026-12-04T15:00:00.123456': { Status: 'Running', Source: 'JobWrapper' } },
    });

    expect(answer.status).toBe(400);
    expect(typeof answer.json.detail).toBe('string');
    expect(service.getJob(id).status).toBe('Matched');
  });

  it('rejects an unknown state with 422', async () => {
    const id = await matchedJob();
    const answer = await patchStatus({
      [id]: { [isoAt(Date.now())]: { Status: 'Finished', Source: 'JobWrapper' } },
    });

    expect(answer.status).toBe(422);
    expect(Array.isArray(answer.json.detail)).toBe(true);
  });

  it('answers 404 when no job succeeded', async () => {
    const answer = await patchStatus({
      '999': { [isoAt(Date.now())]: { Status: 'Running', Source: 'JobWrapper' } },
    });

    expect(answer.status).toBe(404);
    expect(answer.json.detail.failed).toEqual({ '999': { detail: 'Not found' } });
  });

  it('reports unknown jobs beside known ones', async () => {
    const id = await matchedJob();
    const answer = await patchStatus({
      [id]: { [isoAt(Date.now() + 10)]: { Status: 'Running', Source: 'JobWrapper' } },
      '999': { [isoAt(Date.now())]: { Status: 'Running', Source: 'JobWrapper' } },
    });

    expect(answer.status).toBe(200);
    expect(answer.json.success[String(id)]).toEqual({ Status: 'Running' });
    expect(answer.json.failed['999']).toEqual({ detail: 'Not found' });
  });

  it('queues a Kill for every record that sets Killed', async () => {
    const id = await matchedJob();
    await patchStatus({ [id]: { [isoAt(Date.now() + 10)]: { Status: 'Killed', Source: 'User' } } });
    await patchStatus({ [id]: { [isoAt(Date.now() + 20)]: { Status: 'Killed', Source: 'User' } } });

    const commands = service.getJob(id).commands;
    expect(commands.map((command) => command.command)).toEqual(['Kill', 'Kill']);
  });
});

describe('POST /api/jobs/reschedule', () => {
  it('refuses a Matched job', async () => {
    const id = await matchedJob();
    const answer = await call(service, 'POST', '/api/jobs/reschedule', {
      token,
      json: { job_ids: [id] },
    });

    expect(answer.status).toBe(200);
    expect(answer.json.success).toEqual({});
    expect(typeof answer.json.failed[String(id)].detail).toBe('string');
    expect(service.getJob(id).status).toBe('Matched');
  });

  it('moves a Running job to Received', async () => {
    const id = await matchedJob();
    await patchStatus({
      [id]: { [isoAt(Date.now() + 10)]: { Status: 'Running', Source: 'JobWrapper' } },
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const answer = await call(service, 'POST', '/api/jobs/reschedule', {
      token,
      json: { job_ids: [id] },
    });

    expect(answer.status).toBe(200);
    expect(answer.json.success[String(id)].Status).toBe('Received');
    const job = service.getJob(id);
    expect(job.status).toBe('Received');
    expect(job.minorStatus).toBe('Job Rescheduled');
    expect(job.rescheduleCount).toBe(1);
  });

  it('offers a rescheduled job to the next match', async () => {
    const id = await matchedJob();
    await patchStatus({
      [id]: { [isoAt(Date.now() + 10)]: { Status: 'Running', Source: 'JobWrapper' } },
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await call(service, 'POST', '/api/jobs/reschedule', { token, json: { job_ids: [id] } });

    const again = await requestMatch(service, token, 'pilot-a');
    expect(again.status).toBe(200);
    expect(again.json.job_id).toBe(id);
    expect(service.getJob(id).status).toBe('Matched');
  });

  it('fails a job past the reschedule limit', async () => {
    await service.close();
    service = await startReferenceService({ maxReschedules: 1 });
    token = (await loginPilot(service, 'pilot-a')).access_token;
    const id = await matchedJob();
    for (let round = 0; round < 2; round++) {
      await patchStatus({
        [id]: { [isoAt(Date.now() + 10)]: { Status: 'Running', Source: 'JobWrapper' } },
      });
      await call(service, 'POST', '/api/jobs/reschedule', { token, json: { job_ids: [id] } });
      if (round === 0) {
        expect((await requestMatch(service, token, 'pilot-a')).json.job_id).toBe(id);
      }
    }

    const job = service.getJob(id);
    expect(job.status).toBe('Failed');
    expect(job.minorStatus).toBe('Maximum of reschedulings reached');
    expect(job.rescheduleCount).toBe(1);
  });
});

describe('parseTimestamp', () => {
  it('reads offsets and microseconds', () => {
    const utc = parseTimestamp('2026-12-04T15:00:00.123456+00:00');
    const shifted = parseTimestamp('2026-12-04T16:00:00.123456+01:00');
    const zulu = parseTimestamp('2026-12-04T15:00:00.123456Z');

    expect(utc).toEqual({ micros: Date.UTC(2026, 11, 4, 15) * 1000 + 123456 });
    expect(shifted).toEqual(utc);
    expect(zulu).toEqual(utc);
  });

  it('flags naive and impossible timestamps', () => {
    expect(parseTimestamp('2026-12-04T15:00:00')).toEqual({ naive: true });
    expect(parseTimestamp('2026-02-31T15:00:00+00:00')).toEqual({ invalid: true });
    expect(parseTimestamp('yesterday')).toEqual({ invalid: true });
  });

  it('formats back with microseconds and an offset', () => {
    const micros = Date.UTC(2026, 11, 4, 15) * 1000 + 42;

    expect(formatTimestamp(micros)).toBe('2026-12-04T15:00:00.000042+00:00');
  });
});
