/**
 * Sandbox transfers: presigned GET for input sandboxes with a sha256 check, presigned
 * multipart POST for output sandboxes, streamed from and to disk.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, openAsBlob } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FormData } from 'undici';
import { SandboxError, WmsError } from '../errors.js';
import type { Logger } from '../log.js';
import { expectShape, parseJson, parseResponseUrl, responseError } from './responses.js';
import { WmsErrorCode, isRetryableStatus } from './errors.js';
import {
  RetryableFailure,
  describeUrl,
  type CallContext,
  type HttpResponse,
  type HttpRequest,
  type HttpTransport,
} from './transport.js';
import type { JobId, SandboxUpload } from './types.js';

/** Client services the sandbox functions use for one job. */
export interface SandboxCalls {
  jobId: JobId;
  transport: HttpTransport;
  log: Logger;
  /** Sends a request to the service with the job's token, renewing it after a 401. */
  jobCall(
    request: Omit<HttpRequest, 'url'> & { path: string },
    context: CallContext,
  ): Promise<HttpResponse>;
}

/** Largest sandbox the service accepts: 100 MiB. */
export const MAX_SANDBOX_BYTES = 100 * 1024 * 1024;

/** Lifetime of a presigned upload URL in ms, because the service's upload grant states none. */
const UPLOAD_URL_LIFETIME_MS = 300_000;

/** Margin before a presigned URL expires after which a new one is asked for, in ms. */
const URL_EXPIRY_MARGIN_MS = 30_000;

/** Returns the lowercase hex sha256 in a sandbox reference (`.../sha256:<hex>.tar.zst`). */
export function sha256FromPfn(pfn: string): string {
  const match = /sha256:([0-9a-f]{64})\.tar\.[a-z0-9]+$/.exec(pfn);
  if (match === null) {
    throw new WmsError(
      WmsErrorCode.InvalidRequest,
      `sandbox reference ${pfn} has no sha256:<64 hex>.tar.<format> name to check the download against`,
    );
  }
  return match[1] as string;
}

interface PresignedUrl {
  url: URL;
  /** Local epoch ms after which a new URL is asked for. */
  renewAt: number;
  /** True when this URL replaced one that the storage rejected with 403. */
  after403: boolean;
}

/** Downloads a sandbox to `destFile` and checks its sha256; see WmsClient.downloadSandbox. */
export async function downloadSandbox(
  calls: SandboxCalls,
  pfn: string,
  destFile: string,
  context: CallContext,
): Promise<void> {
  const expected = sha256FromPfn(pfn);
  let presigned: PresignedUrl | undefined;
  let renewAfter403 = false;

  await calls.transport.retrying('sandbox download', context, async (signal) => {
    if (presigned === undefined || Date.now() >= presigned.renewAt) {
      const fresh = await requestDownloadUrl(calls, pfn, context);
      presigned = { ...fresh, after403: renewAfter403 };
    }
    const request: HttpRequest = {
      label: 'GET sandbox',
      method: 'GET',
      url: presigned.url,
      storage: true,
    };
    const response = await calls.transport.dispatch(request, signal);

    if (response.statusCode !== 200) {
      const text = await response.body.text().catch(() => '');
      const failed = { status: response.statusCode, headers: response.headers, text };
      renewAfter403 = response.statusCode === 403;
      if (renewAfter403) presigned.renewAt = 0;
      throw storageFailure(request, failed, presigned.after403);
    }

    let actual: string;
    try {
      actual = await saveHashed(response.body, `${destFile}.part`);
    } catch (error) {
      if (error instanceof SandboxError) throw error;
      throw calls.transport.transportError(request, error, signal);
    }
    if (actual !== expected) {
      await rm(`${destFile}.part`, { force: true });
      throw new WmsError(
        WmsErrorCode.ChecksumMismatch,
        `sandbox ${pfn} downloaded with sha256 ${actual}, expected ${expected}: the stored archive is damaged`,
      );
    }
    await rename(`${destFile}.part`, destFile);
  });
  calls.log.info({ jobId: calls.jobId, pfn }, 'sandbox downloaded');
}

/** Streams `body` into `file` and returns the sha256 of the bytes; removes the file on error. */
async function saveHashed(body: AsyncIterable<Buffer> & Readable, file: string): Promise<string> {
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const output = createWriteStream(file);
  // The pipeline passes the first error on to the other streams, so the first stream to
  // report one is the one that failed.
  let failedSide: 'read' | 'write' | undefined;
  body.once('error', () => (failedSide ??= 'read'));
  output.once('error', () => (failedSide ??= 'write'));

  try {
    await pipeline(body, hashing, output);
  } catch (error) {
    await rm(file, { force: true });
    if (failedSide !== 'write') throw error;
    throw new SandboxError(
      'SANDBOX_WRITE_FAILED',
      `cannot write the downloaded sandbox to ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return hash.digest('hex');
}

async function requestDownloadUrl(
  calls: SandboxCalls,
  pfn: string,
  context: CallContext,
): Promise<Omit<PresignedUrl, 'after403'>> {
  const label = 'GET /api/jobs/sandbox';
  const path = `/api/jobs/sandbox?${new URLSearchParams({ pfn }).toString()}`;
  const response = await calls.jobCall({ label, method: 'GET', path }, context);
  if (response.status !== 200) throw responseError(label, response);

  const body = parseJson<{ url?: unknown; expires_in?: unknown }>(label, response);
  expectShape(typeof body.url === 'string', label, 'a url');
  const lifetimeMs =
    typeof body.expires_in === 'number' ? body.expires_in * 1000 : UPLOAD_URL_LIFETIME_MS;
  return {
    url: parseResponseUrl(label, body.url as string),
    renewAt: Date.now() + lifetimeMs - URL_EXPIRY_MARGIN_MS,
  };
}

interface UploadGrant {
  pfn: string;
  url: URL | null;
  fields: Record<string, string>;
  renewAt: number;
  after403: boolean;
}

/** Uploads a packed sandbox and returns its reference; see WmsClient.uploadSandbox. */
export async function uploadSandbox(
  calls: SandboxCalls,
  file: string,
  archive: SandboxUpload,
  context: CallContext,
): Promise<string> {
  await checkUploadFile(file, archive);
  let grant = await requestUploadGrant(calls, archive, context);
  if (grant.url === null) {
    calls.log.info(
      { jobId: calls.jobId, pfn: grant.pfn },
      'sandbox already stored, upload skipped',
    );
    return grant.pfn;
  }

  await calls.transport.retrying('sandbox upload', context, async (signal) => {
    if (Date.now() >= grant.renewAt) {
      const after403 = grant.renewAt === 0;
      grant = { ...(await requestUploadGrant(calls, archive, context)), after403 };
    }
    if (grant.url === null) return;

    const form = new FormData();
    for (const [name, value] of Object.entries(grant.fields)) form.append(name, value);
    form.append('file', await openAsBlob(file), basename(file));

    const request: HttpRequest = {
      label: 'POST sandbox',
      method: 'POST',
      url: grant.url,
      body: form,
      storage: true,
    };
    const response = await calls.transport.sendOnce(request, signal);
    if (response.status >= 200 && response.status < 300) return;
    const after403 = grant.after403;
    if (response.status === 403) grant.renewAt = 0;
    throw storageFailure(request, response, after403);
  });
  calls.log.info({ jobId: calls.jobId, pfn: grant.pfn, size: archive.size }, 'sandbox uploaded');
  return grant.pfn;
}

async function checkUploadFile(file: string, archive: SandboxUpload): Promise<void> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    throw new SandboxError(
      'SANDBOX_READ_FAILED',
      `cannot read the sandbox file ${file} to upload: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (size !== archive.size) {
    throw new WmsError(
      WmsErrorCode.InvalidRequest,
      `sandbox file ${file} has ${size} bytes but the upload declares ${archive.size}: pass the size of the packed file`,
    );
  }
  if (size > MAX_SANDBOX_BYTES) {
    throw new WmsError(
      WmsErrorCode.Rejected,
      `sandbox file ${file} has ${size} bytes, above the service's limit of ${MAX_SANDBOX_BYTES}: leave large outputs to output data`,
    );
  }
}

async function requestUploadGrant(
  calls: SandboxCalls,
  archive: SandboxUpload,
  context: CallContext,
): Promise<UploadGrant> {
  const label = 'POST /api/jobs/sandbox';
  const body = JSON.stringify({
    checksum_algorithm: 'sha256',
    checksum: archive.sha256,
    size: archive.size,
    format: archive.format,
  });
  const headers = { 'content-type': 'application/json' };
  const response = await calls.jobCall(
    { label, method: 'POST', path: '/api/jobs/sandbox', headers, body },
    context,
  );
  if (response.status !== 200) throw responseError(label, response);

  const grant = parseJson<{ pfn?: unknown; url?: unknown; fields?: unknown }>(label, response);
  expectShape(typeof grant.pfn === 'string', label, 'a pfn');
  expectShape(grant.url === null || typeof grant.url === 'string', label, 'a url or null');
  return {
    pfn: grant.pfn as string,
    url: grant.url === null ? null : parseResponseUrl(label, grant.url as string),
    fields: (grant.fields ?? {}) as Record<string, string>,
    renewAt: Date.now() + UPLOAD_URL_LIFETIME_MS - URL_EXPIRY_MARGIN_MS,
    after403: false,
  };
}

/**
 * Sorts a storage response. Retryable statuses are retried. A 403 (often an expired signature)
 * is retried once with a new URL, and raises WMS_REJECTED when the new URL gets one too.
 * Others raise WMS_REJECTED or WMS_NOT_FOUND.
 */
function storageFailure(
  request: HttpRequest,
  response: HttpResponse,
  urlIsAfter403: boolean,
): Error {
  const where = describeUrl(request.url);
  const detail = response.text.slice(0, 300);
  const message = `sandbox storage at ${where} returned ${response.status}: ${detail}`;
  if (isRetryableStatus(response.status, true)) {
    return new RetryableFailure(
      new WmsError(WmsErrorCode.Unavailable, message, { status: response.status }),
    );
  }
  if (response.status === 403 && !urlIsAfter403) {
    return new RetryableFailure(new WmsError(WmsErrorCode.Rejected, message, { status: 403 }));
  }
  const code = response.status === 404 ? WmsErrorCode.NotFound : WmsErrorCode.Rejected;
  return new WmsError(code, message, { status: response.status });
}
