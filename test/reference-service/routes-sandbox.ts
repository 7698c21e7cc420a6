import { claimsOf, type Route, type RouteRequest, type ServiceContext } from './context.js';
import {
  HttpError,
  bodyIssue,
  parseJsonBody,
  parseObjectBody,
  validationError,
} from './http-util.js';
import {
  MAX_SANDBOX_BYTES,
  PRESIGNED_URL_SECONDS,
  SANDBOX_BUCKET,
  keyOfPfn,
  pfnOf,
} from './sandbox-store.js';
import { downloadUrl, storageRoutes } from './storage.js';
import type { TokenClaims } from './tokens.js';

const SANDBOX_FORMATS = ['tar.zst', 'tar.bz2'];

/** Rejects a job token used on a sandbox that is not one of its job's. */
function checkJobScope(claims: TokenClaims, context: ServiceContext, pfn: string): void {
  if (claims.kind !== 'job') {
    return;
  }
  const job = context.jobs.find(claims.job_id ?? -1);
  const isJobSandbox =
    job !== undefined && (job.inputSandbox.includes(pfn) || job.outputSandboxes.includes(pfn));
  if (!isJobSandbox) {
    throw new HttpError(403, `Forbidden: sandbox is not one of job ${claims.job_id}`);
  }
}

function getSandboxUrl(request: RouteRequest, context: ServiceContext) {
  const pfn = request.query.get('pfn');
  if (pfn === null) {
    throw validationError({ type: 'missing', loc: ['query', 'pfn'], msg: 'Field required' });
  }
  const key = keyOfPfn(pfn);
  if (key === undefined) {
    throw validationError({
      type: 'string_pattern_mismatch',
      loc: ['query', 'pfn'],
      msg: 'String should match SB:SandboxSE|/S3/<bucket>/<vo>/<group>/<user>/sha256:<hex>.<format>',
      input: pfn,
    });
  }
  checkJobScope(claimsOf(request), context, pfn);
  return {
    status: 200,
    // expires_in stays 300 under an expire fault, so the client learns of it from storage.
    json: {
      url: downloadUrl(context, key, request.presignedUrlSeconds),
      expires_in: PRESIGNED_URL_SECONDS,
    },
  };
}

function parseUploadRequest(body: Record<string, unknown>) {
  const issues = [];
  if (body.checksum_algorithm !== 'sha256') {
    issues.push(
      bodyIssue(['checksum_algorithm'], "Input should be 'sha256'", body.checksum_algorithm),
    );
  }
  if (typeof body.checksum !== 'string' || !/^[0-9a-f]{64}$/.test(body.checksum)) {
    issues.push(bodyIssue(['checksum'], 'Input should be 64 lowercase hex digits', body.checksum));
  }
  if (typeof body.size !== 'number' || !Number.isInteger(body.size) || body.size < 1) {
    issues.push(bodyIssue(['size'], 'Input should be a positive integer', body.size));
  }
  if (typeof body.format !== 'string' || !SANDBOX_FORMATS.includes(body.format)) {
    issues.push(
      bodyIssue(['format'], `Input should be ${SANDBOX_FORMATS.join(' or ')}`, body.format),
    );
  }
  if (issues.length > 0) {
    throw validationError(...issues);
  }
  return {
    checksum: body.checksum as string,
    size: body.size as number,
    format: body.format as string,
  };
}

function initiateUpload(request: RouteRequest, context: ServiceContext) {
  const upload = parseUploadRequest(parseObjectBody(request.body));
  if (upload.size > MAX_SANDBOX_BYTES) {
    throw new HttpError(400, `Sandbox of ${upload.size} bytes is larger than the 100 MiB limit`);
  }
  const claims = claimsOf(request);
  const owner = {
    vo: claims.vo,
    group: claims.dirac_group ?? 'unknown',
    owner: claims.preferred_username ?? claims.sub,
  };
  const pfn = pfnOf(owner, upload.checksum, upload.format);
  const key = keyOfPfn(pfn) as string;
  if (context.sandboxes.has(key)) {
    return { status: 200, json: { pfn, url: null, fields: {} } };
  }

  const checksumBase64 = Buffer.from(upload.checksum, 'hex').toString('base64');
  const nowMillis = context.nowMicros() / 1000;
  const lifetimeSeconds = request.presignedUrlSeconds;
  // Lifetime 0, from an expire fault, signs a policy that ended a second before it was issued.
  const expiration = new Date(
    lifetimeSeconds > 0 ? nowMillis + lifetimeSeconds * 1000 : nowMillis - 1000,
  ).toISOString();
  const signed = context.sandboxes.signPolicy({
    expiration,
    key,
    size: upload.size,
    checksumBase64,
  });
  const fields = {
    key,
    'x-amz-checksum-sha256': checksumBase64,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    policy: signed.policy,
    'x-amz-signature': signed.signature,
  };
  return { status: 200, json: { pfn, url: `${context.baseUrl}/s3/${SANDBOX_BUCKET}`, fields } };
}

function assignOutputSandbox(request: RouteRequest, context: ServiceContext) {
  const jobId = Number(request.params.jobId);
  const claims = claimsOf(request);
  if (claims.kind === 'job' && claims.job_id !== jobId) {
    throw new HttpError(
      403,
      `Forbidden: a job token of job ${claims.job_id} cannot assign to ${jobId}`,
    );
  }
  const pfn = parseJsonBody(request.body);
  const key = typeof pfn === 'string' ? keyOfPfn(pfn) : undefined;
  if (typeof pfn !== 'string' || key === undefined) {
    throw validationError(bodyIssue([], 'Input should be a sandbox reference string', pfn));
  }
  const job = context.jobs.find(jobId);
  if (!job) {
    throw new HttpError(404, `Job ${jobId} not found`);
  }
  // NOTE: DiracX may accept a reference to bytes it never received; this service rejects it
  // so that a pilot that skipped the upload fails loudly.
  if (!context.sandboxes.has(key)) {
    throw new HttpError(400, `Sandbox ${pfn} not found; upload it before assigning it`);
  }
  if (job.outputSandboxes.includes(pfn)) {
    throw new HttpError(400, 'Sandbox already assigned');
  }
  job.outputSandboxes.push(pfn);
  return { status: 200, json: null };
}

/** Sandbox routes of the API, then the presigned storage endpoints. */
export const sandboxRoutes: Route[] = [
  {
    name: 'GET /api/jobs/sandbox',
    method: 'GET',
    pattern: /^\/api\/jobs\/sandbox$/,
    tokenKinds: ['job', 'user'],
    issuesPresignedUrls: true,
    handle: getSandboxUrl,
  },
  {
    name: 'POST /api/jobs/sandbox',
    method: 'POST',
    pattern: /^\/api\/jobs\/sandbox$/,
    tokenKinds: ['job', 'user'],
    issuesPresignedUrls: true,
    handle: initiateUpload,
  },
  {
    name: 'PATCH /api/jobs/{job_id}/sandbox/output',
    method: 'PATCH',
    pattern: /^\/api\/jobs\/(?<jobId>\d{1,18})\/sandbox\/output$/,
    tokenKinds: ['job', 'user'],
    handle: assignOutputSandbox,
  },
  ...storageRoutes,
];
