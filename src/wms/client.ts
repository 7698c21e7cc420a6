/**
 * The pilot's client for the central service: every route the pilot uses, with tokens,
 * retries and the service's clock handled inside.
 */
import type { Logger } from '../log.js';
import { AuthorizedSender, type RouteRequest, type TokenOwner, jsonRequest } from './authorized.js';
import { ServiceClock } from './clock.js';
import { errorDetail } from './errors.js';
import { sendHeartbeats } from './heartbeat.js';
import { JobTokens, fetchJobToken } from './job-tokens.js';
import { type WmsClientOptions, resolveClientOptions } from './options.js';
import { checkMatchedJob, parseJson, responseError } from './responses.js';
import { type SandboxCalls, downloadSandbox, uploadSandbox } from './sandbox.js';
import { buildStatusBody, readBatchResult } from './status.js';
import { PilotTokens } from './tokens.js';
import {
  type CallContext,
  type HttpResponse,
  HttpTransport,
  headerValue,
  parseRetryAfter,
} from './transport.js';
import type {
  CallOptions,
  HeartbeatData,
  HeartbeatResult,
  JobBatchResult,
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

const PILOT: TokenOwner = { kind: 'pilot' };

/** Client of the central service. Create one per pilot; it is safe for concurrent calls. */
export class WmsClient {
  readonly pilotStamp: string;
  private readonly pilotVersion: string;
  private readonly log: Logger;
  private readonly clock = new ServiceClock();
  private readonly transport: HttpTransport;
  private readonly pilotTokens: PilotTokens;
  private readonly jobTokens: JobTokens;
  private readonly sender: AuthorizedSender;

  /** Checks the options and prepares the connection pool; sends nothing yet. */
  constructor(options: WmsClientOptions) {
    const resolved = resolveClientOptions(options);
    this.pilotStamp = resolved.pilotStamp;
    this.pilotVersion = resolved.pilotVersion;
    this.log = options.log;
    this.transport = new HttpTransport({
      clientVersion: resolved.clientVersion,
      log: options.log,
      clock: this.clock,
      retry: resolved.retry,
      requestTimeoutMs: resolved.requestTimeoutMs,
      ca: resolved.ca,
    });
    this.pilotTokens = new PilotTokens(options.credentials, {
      baseUrl: resolved.baseUrl,
      pilotStamp: this.pilotStamp,
      transport: this.transport,
      clock: this.clock,
      log: this.log,
    });
    this.jobTokens = new JobTokens(
      (jobId, context) => fetchJobToken(this.sender, jobId, context),
      this.clock,
      this.log,
    );
    this.sender = new AuthorizedSender({
      baseUrl: resolved.baseUrl,
      transport: this.transport,
      pilotTokens: this.pilotTokens,
      jobTokens: this.jobTokens,
      log: this.log,
    });
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
    const body = JSON.stringify({ [this.pilotStamp]: fields });
    await this.sendExpectingNoContent('PATCH /api/pilots/metadata', body, options);
  }

  /** Sends a batch of the pilot's log lines. Raises WMS_NOT_FOUND when the route is missing. */
  async sendPilotLogs(lines: PilotLogLine[], options?: CallOptions): Promise<void> {
    const body = JSON.stringify({ lines });
    await this.sendExpectingNoContent('POST /api/pilots/internal/message', body, options);
  }

  /**
   * Requests one job that fits `request.slot`. Returns the job (its token is kept for its
   * sandbox calls), no job with the service's `Retry-After`, or the rejection of this pilot
   * version.
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
    const response = await this.send(PILOT, jsonRequest(label, body), options);

    if (response.status === 204) {
      const retryAfterMs = parseRetryAfter(headerValue(response.headers['retry-after']));
      if (retryAfterMs === undefined) return { kind: 'none' };
      return { kind: 'none', retryAfterSeconds: Math.ceil(retryAfterMs / 1000) };
    }
    if (response.status === 409) return { kind: 'refused', detail: errorDetail(response.text) };
    if (response.status !== 200) throw responseError(label, response);

    const job = parseJson<MatchedJob>(label, response);
    checkMatchedJob(label, job);
    this.jobTokens.store(job.job_id, job.credentials.access_token, job.credentials.expires_in);
    this.log.debug({ jobId: job.job_id }, 'match returned a job');
    return { kind: 'job', job };
  }

  /** Returns a valid token for a matched job, renewing it when it nears expiry. */
  async jobToken(jobId: JobId, options?: CallOptions): Promise<JobToken> {
    const accessToken = await this.jobTokens.get(jobId, this.context(options));
    const expiresAt = this.jobTokens.peek(jobId)?.expiresAt ?? Date.now();
    return { accessToken, expiresAt: new Date(expiresAt) };
  }

  /**
   * Sends status records of one or more jobs. Records without a timestamp are stamped with
   * {@link stampFor}. Returns per job whether the service applied them, and lists a job
   * the service does not know under `failed` instead of raising.
   */
  async sendStatus(
    records: Record<JobId, StatusRecord[]>,
    options?: CallOptions,
  ): Promise<JobBatchResult> {
    const label = 'PATCH /api/jobs/status';
    const body = buildStatusBody(records, this.clock);
    const response = await this.send(PILOT, jsonRequest(label, body), options);
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
    return sendHeartbeats(this.sender, data, this.context(options), this.log);
  }

  /** Sets job attributes such as `HostName` or `PayloadPID`, keyed by job id. */
  async setJobMetadata(
    metadata: Record<JobId, Record<string, unknown>>,
    options?: CallOptions,
  ): Promise<void> {
    await this.sendExpectingNoContent(
      'PATCH /api/jobs/metadata',
      JSON.stringify(metadata),
      options,
    );
  }

  /**
   * Requests that the service reschedules jobs that could not run through no fault of their
   * own. The service allows it only from `Running`.
   */
  async reschedule(jobIds: JobId[], options?: CallOptions): Promise<JobBatchResult> {
    const label = 'POST /api/jobs/reschedule';
    const request = jsonRequest(label, JSON.stringify({ job_ids: jobIds }));
    const response = await this.send(PILOT, request, options);
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
   * Assigns an uploaded sandbox to a job as its output sandbox. A 400 stating that the same
   * sandbox is already assigned counts as success, because an earlier try got through.
   */
  async assignOutputSandbox(jobId: JobId, pfn: string, options?: CallOptions): Promise<void> {
    const label = `PATCH /api/jobs/${jobId}/sandbox/output`;
    const request = jsonRequest(label, JSON.stringify(pfn));
    const response = await this.send({ kind: 'job', jobId }, request, options);
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

  private async send(
    owner: TokenOwner,
    request: RouteRequest,
    options: CallOptions | undefined,
  ): Promise<HttpResponse> {
    return this.sender.send(owner, request, this.context(options));
  }

  private async sendExpectingNoContent(
    label: string,
    body: string,
    options: CallOptions | undefined,
  ): Promise<void> {
    const response = await this.send(PILOT, jsonRequest(label, body), options);
    if (response.status !== 204 && response.status !== 200) throw responseError(label, response);
  }

  private sandboxCalls(jobId: JobId): SandboxCalls {
    return {
      jobId,
      transport: this.transport,
      log: this.log,
      jobCall: (request, context) => this.sender.send({ kind: 'job', jobId }, request, context),
    };
  }
}
