/**
 * Job-scoped tokens: the first comes with the match response, later ones from the job-token
 * route, asked for before expiry or after a 401.
 */
import type { Logger } from '../log.js';
import { type AuthorizedSender, jsonRequest } from './authorized.js';
import type { ServiceClock } from './clock.js';
import { wmsErrorAction } from './errors.js';
import { expectShape, parseJson, responseError } from './responses.js';
import { type HeldToken, holdToken } from './tokens.js';
import type { CallContext } from './transport.js';
import type { JobId } from './types.js';

/** Fetches a new token for a job: `{access_token, expires_in}` from the service. */
export type JobTokenFetcher = (
  jobId: JobId,
  context: CallContext,
) => Promise<{ access_token: string; expires_in: number }>;

/** Holds one token per job and renews it through a {@link JobTokenFetcher}. */
export class JobTokens {
  private readonly tokens = new Map<JobId, HeldToken>();
  private readonly pending = new Map<JobId, Promise<void>>();

  constructor(
    private readonly fetcher: JobTokenFetcher,
    private readonly clock: ServiceClock,
    private readonly log: Logger,
  ) {}

  /** Stores the token that came with a job's match response. */
  store(jobId: JobId, accessToken: string, expiresInSeconds: number): void {
    this.tokens.set(jobId, holdToken(accessToken, expiresInSeconds, this.clock));
  }

  /** Returns the current token of a job without renewing it, if there is one. */
  peek(jobId: JobId): HeldToken | undefined {
    return this.tokens.get(jobId);
  }

  /**
   * Returns a valid token for the job, renewing it first when it is past 75 % of its
   * lifetime. When the service cannot be reached for renewal, the old token is used until it
   * expires.
   */
  async get(jobId: JobId, context: CallContext): Promise<string> {
    const current = this.tokens.get(jobId);
    if (current !== undefined && Date.now() < current.refreshAt) return current.value;

    try {
      await this.renew(jobId, current?.value, context);
    } catch (error) {
      const usable = current !== undefined && Date.now() < current.expiresAt;
      if (!usable || wmsErrorAction(error) !== 'retry-later') throw error;
      this.log.warn({ jobId, err: error }, 'job token renewal failed, using the current token');
      return current!.value;
    }
    return (this.tokens.get(jobId) as HeldToken).value;
  }

  /** Renews the job's token unless another call already replaced `staleToken`. */
  async renew(jobId: JobId, staleToken: string | undefined, context: CallContext): Promise<void> {
    const current = this.tokens.get(jobId);
    if (current !== undefined && staleToken !== undefined && current.value !== staleToken) return;

    let pending = this.pending.get(jobId);
    if (pending === undefined) {
      pending = this.fetch(jobId, context).finally(() => this.pending.delete(jobId));
      this.pending.set(jobId, pending);
    }
    await pending;
  }

  /** Drops the token of a job that has ended. */
  forget(jobId: JobId): void {
    this.tokens.delete(jobId);
  }

  private async fetch(jobId: JobId, context: CallContext): Promise<void> {
    const response = await this.fetcher(jobId, context);
    this.store(jobId, response.access_token, response.expires_in);
    this.log.debug({ jobId }, 'job token renewed');
  }
}

/** Fetches a new token for a job from `POST /api/pilots/internal/job-token`. */
export async function fetchJobToken(
  sender: AuthorizedSender,
  jobId: JobId,
  context: CallContext,
): Promise<{ access_token: string; expires_in: number }> {
  const label = 'POST /api/pilots/internal/job-token';
  const request = jsonRequest(label, JSON.stringify({ job_id: jobId }));
  const response = await sender.send({ kind: 'pilot' }, request, context);
  if (response.status !== 200) throw responseError(label, response);

  const body = parseJson<{ access_token?: unknown; expires_in?: unknown }>(label, response);
  expectShape(
    typeof body.access_token === 'string' && typeof body.expires_in === 'number',
    label,
    'access_token and expires_in',
  );
  return body as { access_token: string; expires_in: number };
}
