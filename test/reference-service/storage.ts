import { createHash, timingSafeEqual } from 'node:crypto';

import type { Route, RouteRequest, RouteResponse, ServiceContext } from './context.js';
import { HttpError } from './http-util.js';
import {
  MAX_SANDBOX_BYTES,
  PRESIGNED_URL_SECONDS,
  SANDBOX_BUCKET,
  type UploadPolicy,
} from './sandbox-store.js';

/** Creates an S3-style error, sent as an XML body with a code and a message. */
function s3Error(status: number, code: string, message: string): HttpError {
  return new S3Error(status, code, message);
}

class S3Error extends HttpError {
  readonly s3Code: string;

  constructor(status: number, code: string, message: string) {
    super(status, message);
    this.s3Code = code;
  }
}

function xmlError(error: S3Error): RouteResponse {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${error.s3Code}</Code><Message>${escape(String(error.detail))}</Message></Error>`;
  return { status: error.status, raw: xml, headers: { 'Content-Type': 'application/xml' } };
}

/** Runs a storage handler and turns S3 errors into XML responses, as an object store does. */
function withXmlErrors(
  handler: (
    request: RouteRequest,
    context: ServiceContext,
  ) => Promise<RouteResponse> | RouteResponse,
) {
  return async (request: RouteRequest, context: ServiceContext): Promise<RouteResponse> => {
    try {
      return await handler(request, context);
    } catch (error) {
      if (error instanceof S3Error) {
        return xmlError(error);
      }
      throw error;
    }
  };
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function safeEqual(left: string, right: string): boolean {
  const a = Buffer.from(left);
  const b = Buffer.from(right);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Builds a presigned download URL for an object key, valid for `lifetimeSeconds` (default
 * 300). A shorter lifetime keeps DiracX's `X-Amz-Expires` and dates the URL back instead, like
 * a URL signed by a service whose clock runs behind the storage's. Lifetime 0 gives a URL
 * that expired a second before it was issued.
 */
export function downloadUrl(
  context: ServiceContext,
  key: string,
  lifetimeSeconds = PRESIGNED_URL_SECONDS,
): string {
  const now = Math.floor(context.nowMicros() / 1_000_000);
  const deadline = lifetimeSeconds > 0 ? now + lifetimeSeconds : now - 1;
  const date = deadline - PRESIGNED_URL_SECONDS;
  const signature = context.sandboxes.sign(`GET\n${key}\n${date}\n${PRESIGNED_URL_SECONDS}`);
  const query = new URLSearchParams({
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Date': String(date),
    'X-Amz-Expires': String(PRESIGNED_URL_SECONDS),
    'X-Amz-Signature': signature,
  });
  return `${context.baseUrl}/s3/${SANDBOX_BUCKET}/${encodeKey(key)}?${query}`;
}

function downloadObject(request: RouteRequest, context: ServiceContext): RouteResponse {
  if (request.headers.authorization !== undefined) {
    throw s3Error(
      400,
      'InvalidArgument',
      'Presigned URL is signed; remove the Authorization header',
    );
  }
  const key = decodeURIComponent(request.params.key ?? '');
  const date = request.query.get('X-Amz-Date') ?? '';
  const expires = request.query.get('X-Amz-Expires') ?? '';
  const expected = context.sandboxes.sign(`GET\n${key}\n${date}\n${expires}`);
  if (!safeEqual(expected, request.query.get('X-Amz-Signature') ?? '')) {
    throw s3Error(403, 'SignatureDoesNotMatch', 'URL signature is invalid; request a new URL');
  }
  if (context.nowSeconds() > Number(date) + Number(expires)) {
    throw s3Error(403, 'AccessDenied', 'Presigned URL expired; request a new one');
  }
  const bytes = context.sandboxes.get(key);
  if (!bytes) {
    throw s3Error(404, 'NoSuchKey', `No object stored under key ${key}`);
  }
  return { status: 200, raw: bytes, headers: { 'Content-Type': 'application/octet-stream' } };
}

/** Parses the multipart body. The `file` part must come last, after every field. */
async function readForm(
  request: RouteRequest,
): Promise<{ fields: Map<string, string>; file: Buffer }> {
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.startsWith('multipart/form-data')) {
    throw s3Error(
      412,
      'PreconditionFailed',
      `Upload must be multipart/form-data, not ${contentType}`,
    );
  }

  let form: FormData;
  try {
    const body = new Response(request.body, { headers: { 'content-type': contentType } });
    form = await body.formData();
  } catch {
    throw s3Error(400, 'MalformedPOSTRequest', 'Body is not valid multipart/form-data');
  }

  const entries = [...form.entries()];
  const fileIndex = entries.findIndex(([name]) => name === 'file');
  if (fileIndex === -1) {
    throw s3Error(400, 'InvalidArgument', "Missing the part named 'file'; send the archive in it");
  }
  // Amazon S3's POST Object reference requires the file to be the last field of the form,
  // so a client that sends fields after it would fail against real storage.
  if (fileIndex !== entries.length - 1) {
    throw s3Error(400, 'InvalidArgument', "Fields follow the 'file' part; send every field first");
  }

  const fields = new Map<string, string>();
  for (const [name, value] of entries.slice(0, fileIndex)) {
    fields.set(name.toLowerCase(), typeof value === 'string' ? value : '');
  }
  const fileValue = entries[fileIndex]![1];
  const file =
    typeof fileValue === 'string'
      ? Buffer.from(fileValue)
      : Buffer.from(await fileValue.arrayBuffer());
  return { fields, file };
}

/** Checks the signature, expiry and conditions of the policy fields; returns the policy. */
function checkPolicy(fields: Map<string, string>, context: ServiceContext): UploadPolicy {
  const policyText = fields.get('policy') ?? '';
  const signature = fields.get('x-amz-signature') ?? '';
  if (!policyText || !safeEqual(context.sandboxes.sign(policyText), signature)) {
    throw s3Error(403, 'SignatureDoesNotMatch', 'Policy signature is invalid; request a new URL');
  }

  const policy = JSON.parse(Buffer.from(policyText, 'base64').toString('utf8')) as UploadPolicy;
  if (Date.parse(policy.expiration) < context.nowMicros() / 1000) {
    throw s3Error(403, 'AccessDenied', 'Upload policy expired after 300 s; request a new URL');
  }
  if (fields.get('key') !== policy.key) {
    throw s3Error(403, 'AccessDenied', 'Field key does not match the signed policy');
  }
  if (fields.get('x-amz-checksum-sha256') !== policy.checksumBase64) {
    throw s3Error(403, 'AccessDenied', 'Field x-amz-checksum-sha256 does not match the policy');
  }
  return policy;
}

/** Checks that the uploaded bytes have the signed size and sha256. */
function checkFile(file: Buffer, policy: UploadPolicy): void {
  if (file.length < policy.size) {
    const message = `Upload of ${file.length} bytes is smaller than the signed ${policy.size}`;
    throw s3Error(400, 'EntityTooSmall', message);
  }
  if (file.length > policy.size) {
    const message = `Upload of ${file.length} bytes is larger than the signed ${policy.size}`;
    throw s3Error(400, 'EntityTooLarge', message);
  }
  const digest = createHash('sha256').update(file).digest('base64');
  if (digest !== policy.checksumBase64) {
    throw s3Error(400, 'BadDigest', 'sha256 of the upload does not match x-amz-checksum-sha256');
  }
}

async function uploadObject(
  request: RouteRequest,
  context: ServiceContext,
): Promise<RouteResponse> {
  const { fields, file } = await readForm(request);
  const policy = checkPolicy(fields, context);
  checkFile(file, policy);

  context.sandboxes.put(policy.key, file);
  context.log.info({ key: policy.key, bytes: file.length }, 'sandbox stored');
  return { status: 204 };
}

/** Presigned storage endpoints: no bearer token, the URL or the policy is the credential. */
export const storageRoutes: Route[] = [
  {
    name: 'POST /s3/{bucket}',
    method: 'POST',
    pattern: new RegExp(`^/s3/${SANDBOX_BUCKET}/?$`),
    tokenKinds: [],
    // Room for the multipart framing and the form fields around a maximal archive.
    maxBodyBytes: MAX_SANDBOX_BYTES + 1024 * 1024,
    handle: withXmlErrors(uploadObject),
  },
  {
    name: 'GET /s3/{bucket}/{key}',
    method: 'GET',
    pattern: new RegExp(`^/s3/${SANDBOX_BUCKET}/(?<key>.+)$`),
    tokenKinds: [],
    handle: withXmlErrors(downloadObject),
  },
];
