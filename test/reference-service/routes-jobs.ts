import type { Route, RouteRequest, ServiceContext } from './context.js';
import {
  HttpError,
  bodyIssue,
  isObject,
  parseJobIdKey,
  parseObjectBody,
  parseTimestamp,
  validationError,
} from './http-util.js';
import type { ChangedAttributes, StatusRecord } from './job-store.js';
import { JOB_STATES } from './state-machine.js';

const STATUS_FIELDS = ['Status', 'MinorStatus', 'ApplicationStatus', 'Source'];

const HEARTBEAT_NUMBER_FIELDS = [
  'LoadAverage',
  'MemoryUsed',
  'Vsize',
  'AvailableDiskSpace',
  'CPUConsumed',
  'WallClockTime',
];

function parseStatusRecord(jobKey: string, stamp: string, value: unknown): StatusRecord {
  const loc = [jobKey, stamp];
  if (!isObject(value)) {
    throw validationError(bodyIssue(loc, 'Input should be a valid dictionary', value));
  }
  for (const [name, field] of Object.entries(value)) {
    if (!STATUS_FIELDS.includes(name)) {
      throw validationError(bodyIssue([...loc, name], 'Extra inputs are not permitted', field));
    }
    if (field !== null && typeof field !== 'string') {
      throw validationError(bodyIssue([...loc, name], 'Input should be a valid string', field));
    }
  }
  if (typeof value.Status === 'string' && !JOB_STATES.includes(value.Status)) {
    throw validationError(
      bodyIssue([...loc, 'Status'], `Input should be one of ${JOB_STATES.join(', ')}`),
    );
  }
  const parsed = parseTimestamp(stamp);
  if ('naive' in parsed) {
    throw new HttpError(400, `Timestamp ${stamp} of job ${jobKey} has no timezone; add one`);
  }
  if ('invalid' in parsed) {
    throw validationError(bodyIssue([jobKey, stamp], 'Input should be a valid datetime', stamp));
  }
  const record: StatusRecord = { micros: parsed.micros, Source: 'Unknown' };
  for (const name of STATUS_FIELDS) {
    if (typeof value[name] === 'string') {
      (record as unknown as Record<string, string>)[name] = value[name] as string;
    }
  }
  return record;
}

function patchJobStatus(request: RouteRequest, context: ServiceContext) {
  const body = parseObjectBody(request.body);
  const updates = new Map<number, StatusRecord[]>();
  for (const [jobKey, records] of Object.entries(body)) {
    const jobId = parseJobIdKey(jobKey, []);
    if (!isObject(records)) {
      throw validationError(bodyIssue([jobKey], 'Input should be a valid dictionary', records));
    }
    const parsed = Object.entries(records).map(([stamp, value]) =>
      parseStatusRecord(jobKey, stamp, value),
    );
    updates.set(jobId, parsed);
  }

  const success: Record<string, ChangedAttributes> = {};
  const failed: Record<string, { detail: string }> = {};
  for (const [jobId, records] of updates) {
    const job = context.jobs.find(jobId);
    if (!job) {
      failed[String(jobId)] = { detail: 'Not found' };
      continue;
    }
    success[String(jobId)] = context.jobs.applyRecords(job, records, true);
  }
  if (Object.keys(success).length === 0) {
    throw new HttpError(404, { success, failed });
  }
  return { status: 200, json: { success, failed } };
}

function parseHeartbeat(jobKey: string, value: unknown): Record<string, unknown> {
  if (!isObject(value)) {
    throw validationError(bodyIssue([jobKey], 'Input should be a valid dictionary', value));
  }
  for (const [name, field] of Object.entries(value)) {
    if (name === 'StandardOutput') {
      if (typeof field !== 'string') {
        throw validationError(bodyIssue([jobKey, name], 'Input should be a valid string', field));
      }
    } else if (!HEARTBEAT_NUMBER_FIELDS.includes(name)) {
      throw validationError(bodyIssue([jobKey, name], 'Extra inputs are not permitted', field));
    } else if (typeof field !== 'number' || !Number.isFinite(field)) {
      throw validationError(bodyIssue([jobKey, name], 'Input should be a valid number', field));
    }
  }
  return value;
}

function patchHeartbeat(request: RouteRequest, context: ServiceContext) {
  const body = parseObjectBody(request.body);
  const beats = Object.entries(body).map(([jobKey, value]) => ({
    jobId: parseJobIdKey(jobKey, []),
    values: parseHeartbeat(jobKey, value),
  }));
  const unknown = beats.filter((beat) => !context.jobs.find(beat.jobId));
  if (unknown.length > 0) {
    // DiracX does not map an unknown job to 404 here, so the pilot receives a bare 500.
    context.log.warn({ jobIds: unknown.map((beat) => beat.jobId) }, 'heartbeat for unknown job');
    throw new HttpError(500, 'Internal Server Error', { bare: true });
  }

  const commands = [];
  for (const beat of beats) {
    const job = context.jobs.find(beat.jobId);
    for (const command of context.jobs.recordHeartbeat(job!, beat.values)) {
      commands.push({ job_id: beat.jobId, command: command.command, arguments: command.arguments });
    }
  }
  return { status: 200, json: commands };
}

function patchJobMetadata(request: RouteRequest, context: ServiceContext) {
  const body = parseObjectBody(request.body);
  const updates = Object.entries(body).map(([jobKey, fields]) => {
    const jobId = parseJobIdKey(jobKey, []);
    if (!isObject(fields)) {
      throw validationError(bodyIssue([jobKey], 'Input should be a valid dictionary', fields));
    }
    for (const [name, value] of Object.entries(fields)) {
      if (value !== null && typeof value === 'object') {
        throw validationError(bodyIssue([jobKey, name], 'Input should be a scalar', value));
      }
    }
    return { jobId, fields };
  });
  const missing = updates.filter((update) => !context.jobs.find(update.jobId));
  if (missing.length > 0) {
    throw new HttpError(404, `Job ${missing.map((update) => update.jobId).join(', ')} not found`);
  }
  for (const update of updates) {
    Object.assign(context.jobs.find(update.jobId)!.metadata, update.fields);
  }
  return { status: 204 };
}

function rescheduleJobs(request: RouteRequest, context: ServiceContext) {
  const body = parseObjectBody(request.body);
  const ids = body.job_ids;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'number' || !Number.isInteger(id))) {
    throw validationError(bodyIssue(['job_ids'], 'Input should be a list of integers', ids));
  }
  const success: Record<string, unknown> = {};
  const failed: Record<string, { detail: string }> = {};
  for (const id of ids as number[]) {
    const job = context.jobs.find(id);
    if (!job) {
      failed[String(id)] = { detail: 'Not found' };
      continue;
    }
    const outcome = context.jobs.reschedule(job);
    if ('error' in outcome) {
      failed[String(id)] = { detail: outcome.error };
    } else {
      success[String(id)] = outcome.changed;
    }
  }
  return { status: 200, json: { success, failed } };
}

/** Job routes used by pilots: status records, heartbeats, metadata, reschedules. */
export const jobRoutes: Route[] = [
  {
    name: 'PATCH /api/jobs/status',
    method: 'PATCH',
    pattern: /^\/api\/jobs\/status$/,
    tokenKinds: ['pilot', 'user'],
    handle: patchJobStatus,
  },
  {
    name: 'PATCH /api/jobs/heartbeat',
    method: 'PATCH',
    pattern: /^\/api\/jobs\/heartbeat$/,
    tokenKinds: ['pilot', 'user'],
    handle: patchHeartbeat,
  },
  {
    name: 'PATCH /api/jobs/metadata',
    method: 'PATCH',
    pattern: /^\/api\/jobs\/metadata$/,
    tokenKinds: ['pilot', 'user'],
    handle: patchJobMetadata,
  },
  {
    name: 'POST /api/jobs/reschedule',
    method: 'POST',
    pattern: /^\/api\/jobs\/reschedule$/,
    tokenKinds: ['pilot', 'user'],
    handle: rescheduleJobs,
  },
];
