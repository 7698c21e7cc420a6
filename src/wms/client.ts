/**
 * The pilot's client for the central service: every route the pilot uses, with tokens,
 * retries and the service's clock handled inside.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, WmsError } from '../errors.js';
import type { Logger } from '../log.js';
import { PILOT_VERSION } from '../version.js';
import { responseError, expectShape, parseJson } from './responses.js';
import { ServiceClock } from './clock.js';
import { WmsErrorCode, errorDetail } from './errors.js';
import { JobTokens } from './job-tokens.js';
import { downloadSandbox, uploadSandbox, type SandboxCalls } from './sandbox.js';
import { buildStatusBody, readBatchResult } from './status.js';
import { PilotTokens, type WmsCredentials } from './tokens.js';
import {
  DEFAULT_RETRY_POLICY,
  HttpTransport,
  headerValue,
  parseRetryAfter,
  type CallContext,
  type HttpResponse,
  type HttpRequest,
  type RetryPolicy,
} from './transport.js';
import type {
  CallOptions,
  HeartbeatData,
  HeartbeatResult,
  JobBatchResult,
  JobCommand,
  JobId,
  JobToken,
  MatchRequest,
  MatchResult,
  MatchedJob,
  PilotFields,
  PilotLogLine,
  PilotRegistration,
  SandboxUpload,
  StatusRecord,
} from './types.js';

/** Options of {@link WmsClient}. */
export interface WmsClientOptions {
  /** `https://host[:port]`, or `http://` for tests on loopback. */
  baseUrl: string;
  /** The pilot's stamp: 1 to 32 characters. */
  pilotStamp: string;
  /** Value of the `DiracX-Client-Version` header (semver). */
  clientVersion: string;
  /** Version sent as `pilot_version` in match requests. Default: this build's version. */
  pilotVersion?: string;
  credentials: WmsCredentials;
  log: Logger;
  /** PEM file of the CA certificates that sign the service's certificate. */
  caFile?: string;
  /** Time for one attempt's headers, and between chunks of its body, in ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** Back-off and deadline of calls. Default {@link DEFAULT_RETRY_POLICY}. */
  retry?: Partial<RetryPolicy>;
}

/** Route parts of a request; the client adds the base URL and the token. */
type RouteRequest = Omit<HttpRequest, 'url'> & { path: string };

/** Where a call's bearer token comes from. */
type TokenOwner = { kind: 'pilot' } | { kind: 'job'; jobId: JobId };

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Client of the central service. Create one per pilot; it is safe for concurrent calls. */
export class WmsClient {
  readonly pilotStamp: string;
  private readonly baseUrl: URL;
  private readonly pilotVersion: string;
  private readonly log: Logger;
  private readonly clock = new ServiceClock();
  private readonly transport: HttpTransport;
  private readonly pilotTokens: PilotTokens;
  private readonly jobTokens: JobTokens;

  /** Checks the options and prepares the connection pool; sends nothing yet. */
  constructor(options: WmsClientOptions) {
    this.baseUrl = parseBaseUrl(options.baseUrl);
    this.pilotStamp = checkPilotStamp(options.pilotStamp);
    this.pilotVersion = options.pilotVersion ?? PILOT_VERSION;
    this.log = options.log;
    this.transport = new HttpTransport({
      clientVersion: options.clientVersion,
      log: options.log,
      clock: this.clock,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      ca: options.caFile === undefined ? undefined : readCaFile(options.caFile),
    });
    const tokenContext = {
      baseUrl: this.baseUrl,
      pilotStamp: this.pilotStamp,
      transport: this.transport,
      clock: this.clock,
      log: this.log,
    };
    this.pilotTokens = new PilotTokens(options.credentials, tokenContext);
    this.jobTokens = new JobTokens(
      (jobId, context) => this.fetchJobToken(jobId, context),
      this.clock,
      this.log,
    );
  }

  /**
   * Obtains the pilot's tokens: exchanges the pilot secret once (with `registration` for a
   * pilot not registered beforehand), or uses the refresh token. Other calls log in by
   * themselves when needed. Raises WMS_UNAUTHORIZED when the credentials are rejected.
   */
  async login(registration?: PilotRegistration, options?: CallOptions): Promise<void> {
    await this.pilotTokens.login(registration, this.context(options));
  }

  /** Sets fields of this pilot's record, such as `Status` and `StatusReason`. */
  async setPilotStatus(fields: PilotFields, options?: CallOptions): Promise<void> {
    const label = 'PATCH /api/pilots/metadata';
    const body = JSON.stringify({ [this.pilotStamp]: fields });
    const response = await this.call({ kind: 'pilot' }, jsonRequest(label, body), options);
    if (response.status !== 204 && response.status !== 200) throw responseError(label, response);
  }

  /** Sends a batch of the pilot's log lines. Raises WMS_NOT_FOUND when the route is missing. */
  async sendPilotLogs(lines: PilotLogLine[], options?: CallOptions): Promise<void> {
    const label = 'POST /api/pilots/internal/message';
    const response = await this.call(
      { kind: 'pilot' },
      jsonRequest(label, JSON.stringify({ lines })),
      options,
    );
    if (response.status !== 204 && response.status !== 200) throw responseError(label, response);
  }

  /**
   * Asks for one job that fits `slot`. Returns the job (its token is kept for its sandbox
   * calls), nothing with the service's `Retry-After`, or the refusal of this pilot version.
   */
  async match(request: MatchRequest, options?: CallOptions): Promise<MatchResult> {
    const label = 'POST /api/pilots/internal/match';
    const body = JSON.stringify({
      pilot_stamp: this.pilotStamp,
      node: request.node,
      slot: request.slot,
      pilot_version: this.pilotVersion,
      benchmark: request.benchmark,
    });
    // NOTE: a retry after a response lost in transit can match a second job while the first
    // stays Matched on the service until it is declared stalled.
    const response = await this.call({ kind: 'pilot' }, jsonRequest(label, body), options);

    if (response.status === 204) {
      const retryAfterMs = parseRetryAfter(headerValue(response.headers['retry-after']));
      if (retryAfterMs === undefined) return { kind: 'none' };
      return { kind: 'none', retryAfterSeconds: Math.ceil(retryAfterMs / 1000) };
    }
    if (response.status === 409) {
      return { kind: 'refused', detail: errorDetail(response.text) };
    }
    if (response.status !== 200) throw responseError(label, response);

    const job = parseJson<MatchedJob>(label, response);
    checkMatchedJob(label, job);
    this.jobTokens.store(job.job_id, job.credentials.access_token, job.credentials.expires_in);
    this.log.info({ jobId: job.job_id }, 'job matched');
    return { kind: 'job', job };
  }

  /** Returns a valid token for a matched job, renewing it when it nears expiry. */
  async jobToken(jobId: JobId, options?: CallOptions): Promise<JobToken> {
    await this.jobTokens.get(jobId, this.context(options));
    const held = this.jobTokens.peek(jobId);
    expectShape(held !== undefined, 'job token renewal', 'a token');
    return { accessToken: held!.value, expiresAt: new Date(held!.expiresAt) };
  }

  /**
   * Sends status records of one or more jobs. Records without a timestamp are stamped with
   * {@link stampFor}. Returns per job whether the service applied them; a job the service
   * does not know is listed under `failed`, never raised.
   */
  async sendStatus(
    records: Record<JobId, StatusRecord[]>,
    options?: CallOptions,
  ): Promise<JobBatchResult> {
    const label = 'PATCH /api/jobs/status';
    const body = buildStatusBody(records, this.clock);
    const response = await this.call({ kind: 'pilot' }, jsonRequest(label, body), options);
    return readBatchResult(label, response, Object.keys(records));
  }

  /**
   * Sends heartbeats of the pilot's running jobs and returns the commands in the response.
   * A job the service does not know comes back in `unknownJobIds` instead of raising.
   */
  async heartbeat(
    data: Record<JobId, HeartbeatData>,
    options?: CallOptions,
  ): Promise<HeartbeatResult> {
    if (Object.keys(data).length === 0) return { commands: [], unknownJobIds: [] };
    return this.heartbeatIn(data, this.context(options));
  }

  private async heartbeatIn(
    data: Record<JobId, HeartbeatData>,
    context: CallContext,
  ): Promise<HeartbeatResult> {
    const label = 'PATCH /api/jobs/heartbeat';
    const jobIds = Object.keys(data).map(Number);
    // DiracX returns a bare 500 for the whole call when one job is unknown, so a 500 is not
    // retried: the jobs are sent one by one to find which one the service rejects.
    const request = { ...jsonRequest(label, JSON.stringify(data)), retryOn500: false };
    const response = await this.callIn({ kind: 'pilot' }, request, context);

    if (response.status === 200) {
      return { commands: readCommands(label, response), unknownJobIds: [] };
    }
    if (response.status !== 500) throw responseError(label, response);
    if (jobIds.length === 1) {
      this.log.warn({ jobId: jobIds[0] }, 'heartbeat failed with 500, job may be unknown');
      return { commands: [], unknownJobIds: jobIds };
    }
    return this.heartbeatOneByOne(data, jobIds, context);
  }

  /**
   * Sends one heartbeat per job. Commands are delivered once, so the commands already
   * received are returned even when a later call fails; that failure is logged instead.
   */
  private async heartbeatOneByOne(
    data: Record<JobId, HeartbeatData>,
    jobIds: JobId[],
    context: CallContext,
  ): Promise<HeartbeatResult> {
    const result: HeartbeatResult = { commands: [], unknownJobIds: [] };
    let succeeded = 0;
    let firstError: unknown;
    for (const jobId of jobIds) {
      try {
        const single = await this.heartbeatIn({ [jobId]: data[jobId] as HeartbeatData }, context);
        result.commands.push(...single.commands);
        result.unknownJobIds.push(...single.unknownJobIds);
        succeeded += 1;
      } catch (error) {
        this.log.warn({ jobId, err: error }, 'heartbeat failed');
        firstError ??= error;
      }
    }
    if (succeeded === 0) throw firstError;
    return result;
  }

  /** Sets job attributes such as `HostName` or `PayloadPID`, keyed by job id. */
  async setJobMetadata(
    metadata: Record<JobId, Record<string, unknown>>,
    options?: CallOptions,
  ): Promise<void> {
    const label = 'PATCH /api/jobs/metadata';
    const body = JSON.stringify(metadata);
    const response = await this.call({ kind: 'pilot' }, jsonRequest(label, body), options);
    if (response.status !== 204 && response.status !== 200) throw responseError(label, response);
  }

  /**
   * Asks the service to reschedule jobs that could not run through no fault of their own.
   * The service allows it only from `Running`.
   */
  async reschedule(jobIds: JobId[], options?: CallOptions): Promise<JobBatchResult> {
    const label = 'POST /api/jobs/reschedule';
    const request = jsonRequest(label, JSON.stringify({ job_ids: jobIds }));
    const response = await this.call({ kind: 'pilot' }, request, options);
    return readBatchResult(label, response, jobIds.map(String));
  }

  /**
   * Downloads an input sandbox to `destFile` through its presigned URL and checks its sha256
   * against the reference. Raises WMS_CHECKSUM_MISMATCH and leaves no file when they differ.
   */
  async downloadSandbox(
    jobId: JobId,
    pfn: string,
    destFile: string,
    options?: CallOptions,
  ): Promise<void> {
    await downloadSandbox(this.sandboxCalls(jobId), pfn, destFile, this.context(options));
  }

  /**
   * Uploads a packed sandbox for a job and returns its reference. Skips the transfer when the
   * service already has these bytes.
   */
  async uploadSandbox(
    jobId: JobId,
    file: string,
    archive: SandboxUpload,
    options?: CallOptions,
  ): Promise<string> {
    return uploadSandbox(this.sandboxCalls(jobId), file, archive, this.context(options));
  }

  /**
   * Assigns an uploaded sandbox to a job as its output sandbox. A 400 saying that the same
   * sandbox is already assigned counts as success, because an earlier try got through.
   */
  async assignOutputSandbox(jobId: JobId, pfn: string, options?: CallOptions): Promise<void> {
    const label = `PATCH /api/jobs/${jobId}/sandbox/output`;
    const request = jsonRequest(label, JSON.stringify(pfn));
    const response = await this.call({ kind: 'job', jobId }, request, options);
    if (response.status === 200 || response.status === 204) return;
    if (response.status === 400 && /already assigned/i.test(response.text)) {
      this.log.info({ jobId }, 'output sandbox was already assigned');
      return;
    }
    throw responseError(label, response);
  }

  /** Returns the service's current time, estimated from the `Date` headers of its responses. */
  serviceNow(): Date {
    return this.clock.serviceNow();
  }

  /**
   * Returns an ISO 8601 timestamp in the service's clock, strictly later than every earlier
   * one returned for this job.
   */
  stampFor(jobId: JobId): string {
    return this.clock.stampFor(jobId);
  }

  /** Drops the token and timestamp state of a job that has ended. */
  forgetJob(jobId: JobId): void {
    this.jobTokens.forget(jobId);
    this.clock.forgetJob(jobId);
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.transport.close();
  }

  private context(options: CallOptions | undefined): CallContext {
    return this.transport.context(options?.deadlineMs, options?.signal);
  }

  private async call(
    owner: TokenOwner,
    request: RouteRequest,
    options: CallOptions | undefined,
  ): Promise<HttpResponse> {
    return this.callIn(owner, request, this.context(options));
  }

  /**
   * Sends a request with a bearer token. After a 401 it renews the token once and sends it
   * again; a second 401 raises WMS_UNAUTHORIZED for the pilot token, or
   * WMS_JOB_UNAUTHORIZED for a job token.
   */
  private async callIn(
    owner: TokenOwner,
    request: RouteRequest,
    context: CallContext,
  ): Promise<HttpResponse> {
    const first = await this.tokenFor(owner, context);
    const response = await this.transport.send(this.withToken(request, first), context);
    if (response.status !== 401) return response;

    this.log.info({ route: request.label, tokenOwner: owner.kind }, 'token rejected, renewing');
    if (owner.kind === 'pilot') await this.pilotTokens.refresh(first, context);
    else await this.jobTokens.renew(owner.jobId, first, context);

    const second = await this.tokenFor(owner, context);
    const retried = await this.transport.send(this.withToken(request, second), context);
    if (retried.status !== 401) return retried;

    const code = owner.kind === 'pilot' ? WmsErrorCode.Unauthorized : WmsErrorCode.JobUnauthorized;
    const whose = owner.kind === 'pilot' ? 'the pilot token' : `the token of job ${owner.jobId}`;
    throw new WmsError(code, `${request.label} rejected ${whose} even after renewing it`, {
      status: 401,
    });
  }

  private async tokenFor(owner: TokenOwner, context: CallContext): Promise<string> {
    if (owner.kind === 'pilot') return this.pilotTokens.accessToken(context);
    return this.jobTokens.get(owner.jobId, context);
  }

  private withToken(request: RouteRequest, token: string): HttpRequest {
    const { path, ...rest } = request;
    return {
      ...rest,
      url: new URL(path, this.baseUrl),
      headers: { ...rest.headers, authorization: `Bearer ${token}` },
    };
  }

  private async fetchJobToken(
    jobId: JobId,
    context: CallContext,
  ): Promise<{ access_token: string; expires_in: number }> {
    const label = 'POST /api/pilots/internal/job-token';
    const request = jsonRequest(label, JSON.stringify({ job_id: jobId }));
    const response = await this.callIn({ kind: 'pilot' }, request, context);
    if (response.status !== 200) throw responseError(label, response);
    const body = parseJson<{ access_token?: unknown; expires_in?: unknown }>(label, response);
    expectShape(
      typeof body.access_token === 'string' && typeof body.expires_in === 'number',
      label,
      'access_token and expires_in',
    );
    return body as { access_token: string; expires_in: number };
  }

  private sandboxCalls(jobId: JobId): SandboxCalls {
    return {
      jobId,
      baseUrl: this.baseUrl,
      transport: this.transport,
      log: this.log,
      jobCall: (request, context) => this.callIn({ kind: 'job', jobId }, request, context),
    };
  }
}

/** Builds a JSON request from a label of the form `METHOD /path`. */
function jsonRequest(label: string, body: string): RouteRequest {
  const [method, path] = label.split(' ') as ['POST' | 'PATCH', string];
  return { label, method, path, headers: JSON_HEADERS, body };
}

function readCommands(label: string, response: HttpResponse): JobCommand[] {
  const commands = parseJson<unknown>(label, response);
  expectShape(Array.isArray(commands), label, 'a list of commands');
  return commands as JobCommand[];
}

function checkMatchedJob(label: string, job: MatchedJob): void {
  expectShape(typeof job === 'object' && job !== null, label, 'a job object');
  expectShape(Number.isInteger(job.job_id), label, 'a numeric job_id');
  expectShape(typeof job.workflow === 'string', label, 'the workflow text');
  expectShape(
    typeof job.credentials?.access_token === 'string' &&
      typeof job.credentials?.expires_in === 'number',
    label,
    'job credentials',
  );
}

function parseBaseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      'WMS_BAD_URL',
      `invalid central service URL ${JSON.stringify(value)}: use https://host[:port]`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(
      'WMS_BAD_URL',
      `central service URL ${value} is not http or https: use https://host[:port]`,
    );
  }
  return url;
}

function checkPilotStamp(stamp: string): string {
  if (stamp.length < 1 || stamp.length > 32) {
    throw new ConfigError(
      'PILOT_BAD_STAMP',
      `pilot stamp ${JSON.stringify(stamp)} has ${stamp.length} characters: use 1 to 32`,
    );
  }
  return stamp;
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      'WMS_BAD_CA_FILE',
      `cannot read the CA file ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
