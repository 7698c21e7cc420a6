/**
 * Access tokens of the pilot and of its jobs: obtaining, refreshing before expiry, and
 * renewing after a 401. Token values never reach a log line or an error message.
 */
import { WmsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ServiceClock } from './clock.js';
import { WmsErrorCode, errorDetail, wmsErrorAction } from './errors.js';
import { routeUrl } from './authorized.js';
import { responseError } from './responses.js';
import type { CallContext, HttpResponse, HttpTransport } from './transport.js';
import type { PilotRegistration, TokenResponse } from './types.js';

/** Credentials of the pilot. Values come from a file or the environment, never argv. */
export type WmsCredentials =
  | { kind: 'pilot-secret'; secret: string }
  | { kind: 'refresh-token'; token: string; clientId: string };

/** Share of a token's real lifetime after which it is refreshed. */
const REFRESH_AT_LIFETIME_SHARE = 0.75;

/**
 * Reads the `exp` claim (seconds since the epoch) of a JWT without checking its signature.
 * Returns undefined when the token is not a JWT or has no numeric `exp`.
 */
export function readJwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

/** A token with the local times (epoch milliseconds) to refresh it and when it expires. */
export interface HeldToken {
  value: string;
  refreshAt: number;
  expiresAt: number;
}

/**
 * Computes when to refresh a token received now. The JWT `exp` (in the service's clock) wins
 * over `expiresInSeconds`, because the pilot token routes return the secret's lifetime there.
 */
export function holdToken(value: string, expiresInSeconds: number, clock: ServiceClock): HeldToken {
  const receivedAt = Date.now();
  const exp = readJwtExpiry(value);
  const expiresAt =
    exp === undefined ? receivedAt + expiresInSeconds * 1000 : exp * 1000 - clock.offsetMs();
  const lifetimeMs = Math.max(0, expiresAt - receivedAt);
  return { value, expiresAt, refreshAt: receivedAt + lifetimeMs * REFRESH_AT_LIFETIME_SHARE };
}

/** Parses a token response, rejecting one without the fields the client needs. */
export function parseTokenResponse(response: HttpResponse, label: string): TokenResponse {
  let body: Partial<TokenResponse>;
  try {
    body = JSON.parse(response.text) as Partial<TokenResponse>;
  } catch {
    body = {};
  }
  if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
    throw new WmsError(
      WmsErrorCode.InvalidResponse,
      `${label} returned ${response.status} without access_token and expires_in`,
    );
  }
  return body as TokenResponse;
}

/** Settings shared by the token holders. */
export interface TokenContext {
  baseUrl: URL;
  pilotStamp: string;
  transport: HttpTransport;
  clock: ServiceClock;
  log: Logger;
}

/** Holds the pilot's access and refresh tokens. */
export class PilotTokens {
  private access: HeldToken | undefined;
  private refreshToken: string | undefined;
  /** Label of the token route that rejected the credentials; they are not sent again. */
  private rejectedBy: string | undefined;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly credentials: WmsCredentials,
    private readonly ctx: TokenContext,
  ) {
    if (credentials.kind === 'refresh-token') this.refreshToken = credentials.token;
  }

  /**
   * Exchanges the pilot secret for tokens, or uses the given refresh token. The secret is
   * sent again only after a failure that is not a 401, because the service consumes it.
   */
  async login(registration: PilotRegistration | undefined, context: CallContext): Promise<void> {
    if (this.access !== undefined) return;
    await this.singleFlight(() => this.obtain(registration, context));
  }

  /** Returns a valid access token, logging in or refreshing first when needed. */
  async accessToken(context: CallContext): Promise<string> {
    const current = this.access;
    if (current === undefined) {
      await this.login(undefined, context);
      return (this.access as HeldToken | undefined)!.value;
    }
    if (Date.now() < current.refreshAt) return current.value;

    try {
      await this.refresh(current.value, context);
    } catch (error) {
      // A refresh that could not reach the service leaves the current token usable until it
      // expires; a rejected refresh token can never be used again.
      if (wmsErrorAction(error) !== 'retry-later' || Date.now() >= current.expiresAt) throw error;
      this.ctx.log.warn({ err: error }, 'pilot token refresh failed, using the current token');
      return current.value;
    }
    return (this.access as HeldToken).value;
  }

  /**
   * Refreshes the tokens unless another call already replaced `staleToken`. A 401 from the
   * refresh route is final: it raises WMS_UNAUTHORIZED.
   */
  async refresh(staleToken: string, context: CallContext): Promise<void> {
    if (this.access !== undefined && this.access.value !== staleToken) return;
    await this.singleFlight(() => this.obtain(undefined, context));
  }

  private async singleFlight(work: () => Promise<void>): Promise<void> {
    if (this.pending === undefined) {
      this.pending = work().finally(() => {
        this.pending = undefined;
      });
    }
    await this.pending;
  }

  private async obtain(
    registration: PilotRegistration | undefined,
    context: CallContext,
  ): Promise<void> {
    if (this.rejectedBy !== undefined) {
      throw new WmsError(
        WmsErrorCode.Unauthorized,
        `the central service rejected the ${this.rejectedBy} earlier, so it is not sent again: start the pilot with new credentials`,
      );
    }
    const useSecret = this.credentials.kind === 'pilot-secret' && this.refreshToken === undefined;
    const response = useSecret
      ? await this.exchangeSecret(registration, context)
      : await this.sendRefresh(context);
    const label = useSecret ? 'pilot secret exchange' : 'token refresh';

    if (response.status === 401 || response.status === 403) {
      this.rejectedBy = useSecret ? 'pilot secret' : 'refresh token';
      throw new WmsError(
        WmsErrorCode.Unauthorized,
        `${label} rejected by the central service: ${errorDetail(response.text)}`,
        { status: response.status },
      );
    }
    if (response.status !== 200) throw responseError(label, response);

    const tokens = parseTokenResponse(response, label);
    this.access = holdToken(tokens.access_token, tokens.expires_in, this.ctx.clock);
    if (tokens.refresh_token !== undefined) this.refreshToken = tokens.refresh_token;
    const validForSeconds = Math.round((this.access.expiresAt - Date.now()) / 1000);
    this.ctx.log.info({ pilotStamp: this.ctx.pilotStamp, validForSeconds }, 'pilot token obtained');
  }

  private async exchangeSecret(
    registration: PilotRegistration | undefined,
    context: CallContext,
  ): Promise<HttpResponse> {
    if (this.credentials.kind !== 'pilot-secret') {
      throw new WmsError(WmsErrorCode.InvalidRequest, 'no pilot secret to exchange');
    }
    const body = {
      pilot_stamp: this.ctx.pilotStamp,
      pilot_secret: this.credentials.secret,
      ...registration,
    };
    return this.ctx.transport.send(
      {
        label: 'POST /api/auth/secret-exchange',
        method: 'POST',
        url: routeUrl(this.ctx.baseUrl, '/api/auth/secret-exchange'),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      context,
    );
  }

  private async sendRefresh(context: CallContext): Promise<HttpResponse> {
    const refreshToken = this.refreshToken as string;
    if (this.credentials.kind === 'pilot-secret') {
      return this.ctx.transport.send(
        {
          label: 'POST /api/auth/pilot-token',
          method: 'POST',
          url: routeUrl(this.ctx.baseUrl, '/api/auth/pilot-token'),
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ pilot_stamp: this.ctx.pilotStamp, refresh_token: refreshToken }),
        },
        context,
      );
    }
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: this.credentials.clientId,
    });
    return this.ctx.transport.send(
      {
        label: 'POST /api/auth/token',
        method: 'POST',
        url: routeUrl(this.ctx.baseUrl, '/api/auth/token'),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      },
      context,
    );
  }
}
