import { claimsOf, type Route, type RouteRequest, type ServiceContext } from './context.js';
import { HttpError, bodyIssue, isObject, parseObjectBody, validationError } from './http-util.js';
import { findMatchingJob, parseMatchRequest } from './matching.js';
import type { TokenClaims } from './tokens.js';
import type { JobState, PilotLogLine } from './types.js';

const PILOT_STATES = ['Submitted', 'Waiting', 'Running', 'Done', 'Failed', 'Aborted', 'Unknown'];

const PILOT_METADATA_FIELDS = [
  'Status',
  'StatusReason',
  'BenchMark',
  'DestinationSite',
  'Queue',
  'GridSite',
  'GridType',
  'CurrentJobID',
];

/** Rejects a pilot token used for another pilot's stamp. User tokens may act for any pilot. */
function checkOwnStamp(claims: TokenClaims, stamp: string): void {
  if (claims.kind === 'pilot' && claims.pilot_stamp !== stamp) {
    throw new HttpError(403, `Forbidden: this token belongs to pilot ${claims.pilot_stamp}`);
  }
}

function patchPilotMetadata(request: RouteRequest, context: ServiceContext) {
  const body = parseObjectBody(request.body);
  const claims = claimsOf(request);
  for (const [stamp, fields] of Object.entries(body)) {
    if (!isObject(fields)) {
      throw validationError(bodyIssue([stamp], 'Input should be a valid dictionary', fields));
    }
    for (const [name, value] of Object.entries(fields)) {
      if (!PILOT_METADATA_FIELDS.includes(name)) {
        throw validationError(bodyIssue([stamp, name], 'Extra inputs are not permitted', value));
      }
    }
    if (fields.Status !== undefined && !PILOT_STATES.includes(String(fields.Status))) {
      throw validationError(
        bodyIssue([stamp, 'Status'], `Input should be one of ${PILOT_STATES.join(', ')}`),
      );
    }
  }
  for (const [stamp, fields] of Object.entries(body)) {
    checkOwnStamp(claims, stamp);
    const pilot = context.pilots.get(stamp);
    if (!pilot) {
      throw new HttpError(404, `Pilot ${stamp} not found`);
    }
    const { Status, StatusReason, ...rest } = fields as Record<string, unknown>;
    pilot.status = typeof Status === 'string' ? Status : pilot.status;
    pilot.reason = typeof StatusReason === 'string' ? StatusReason : pilot.reason;
    Object.assign(pilot.metadata, rest);
  }
  return { status: 204 };
}

function parseLogLine(value: unknown, index: number): PilotLogLine {
  if (!isObject(value)) {
    throw validationError(bodyIssue(['lines', index], 'Input should be a valid dictionary'));
  }
  for (const field of ['timestamp', 'severity', 'message', 'scope']) {
    if (typeof value[field] !== 'string') {
      throw validationError(bodyIssue(['lines', index, field], 'Field required as a string'));
    }
  }
  return value as unknown as PilotLogLine;
}

function postPilotMessage(request: RouteRequest, context: ServiceContext) {
  const body = parseObjectBody(request.body);
  const claims = claimsOf(request);
  if (!Array.isArray(body.lines)) {
    throw validationError(bodyIssue(['lines'], 'Input should be a valid list', body.lines));
  }
  const lines = body.lines.map(parseLogLine);
  const stamp = claims.pilot_stamp;
  const pilot = stamp === undefined ? undefined : context.pilots.get(stamp);
  if (!pilot) {
    throw new HttpError(404, 'Pilot not found: only a pilot token can ship pilot logs');
  }
  pilot.messages.push(...lines);
  return { status: 204 };
}

/** Issues a token limited to the sandbox routes of one job, in the job owner's name. */
export function jobCredentials(context: ServiceContext, job: JobState) {
  const lifetime = context.options.tokenLifetimeSeconds;
  const token = context.tokens.sign(
    {
      sub: `user:${job.owner}`,
      kind: 'job',
      vo: job.vo,
      job_id: job.id,
      preferred_username: job.owner,
      dirac_group: job.ownerGroup,
    },
    lifetime,
  );
  return { access_token: token, expires_in: lifetime };
}

function matchJob(request: RouteRequest, context: ServiceContext) {
  const match = parseMatchRequest(parseObjectBody(request.body));
  checkOwnStamp(claimsOf(request), match.pilotStamp);
  if (context.options.isRefusedPilotVersion(match.pilotVersion)) {
    throw new HttpError(
      409,
      `Pilot version ${match.pilotVersion} is rejected by this service; upgrade the pilot`,
    );
  }

  context.jobs.requeueReceived();
  const job = findMatchingJob(context.jobs.all(), match);
  if (!job) {
    const retryAfter = context.options.noMatchRetryAfterSeconds;
    const headers = retryAfter === undefined ? undefined : { 'Retry-After': String(retryAfter) };
    return { status: 204, headers };
  }

  job.pilotStamp = match.pilotStamp;
  context.jobs.applyRecords(job, [
    {
      micros: Math.max(context.nowMicros(), job.newestRecordMicros + 1),
      Status: 'Matched',
      MinorStatus: 'Assigned',
      Source: 'Matcher',
    },
  ]);
  context.log.info({ jobId: job.id, pilotStamp: match.pilotStamp }, 'job matched');
  return {
    status: 200,
    json: {
      job_id: job.id,
      owner: job.owner,
      owner_group: job.ownerGroup,
      vo: job.vo,
      workflow: job.workflow,
      workflow_params: job.workflowParams,
      input_sandbox: job.inputSandbox,
      requirements: job.requirements,
      credentials: jobCredentials(context, job),
      heartbeat_interval: context.options.heartbeatInterval,
    },
  };
}

function renewJobToken(request: RouteRequest, context: ServiceContext) {
  const body = parseObjectBody(request.body);
  const claims = claimsOf(request);
  if (typeof body.job_id !== 'number' || !Number.isInteger(body.job_id)) {
    throw validationError(bodyIssue(['job_id'], 'Input should be a valid integer', body.job_id));
  }
  const job = context.jobs.find(body.job_id);
  const isOwnJob = job !== undefined && job.pilotStamp !== undefined;
  if (!job || !isOwnJob || (claims.kind === 'pilot' && job.pilotStamp !== claims.pilot_stamp)) {
    throw new HttpError(404, `Job ${body.job_id} not found among this pilot's jobs`);
  }
  return { status: 200, json: jobCredentials(context, job) };
}

/** Pilot routes: pilot record, pilot logs, matching and job tokens. */
export const pilotRoutes: Route[] = [
  {
    name: 'PATCH /api/pilots/metadata',
    method: 'PATCH',
    pattern: /^\/api\/pilots\/metadata$/,
    tokenKinds: ['pilot', 'user'],
    handle: patchPilotMetadata,
  },
  {
    name: 'POST /api/pilots/internal/message',
    method: 'POST',
    pattern: /^\/api\/pilots\/internal\/message$/,
    tokenKinds: ['pilot', 'user'],
    handle: postPilotMessage,
  },
  {
    name: 'POST /api/pilots/internal/match',
    method: 'POST',
    pattern: /^\/api\/pilots\/internal\/match$/,
    tokenKinds: ['pilot', 'user'],
    handle: matchJob,
  },
  {
    name: 'POST /api/pilots/internal/job-token',
    method: 'POST',
    pattern: /^\/api\/pilots\/internal\/job-token$/,
    tokenKinds: ['pilot', 'user'],
    handle: renewJobToken,
  },
];
