import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { HttpError } from './http-util.js';

/** What a token grants: a pilot, one job's sandboxes, a plain user, or a refresh. */
export type TokenKind = 'pilot' | 'job' | 'user' | 'refresh';

/** Claims of every token the service issues. `exp` and `iat` are in seconds since the epoch. */
export interface TokenClaims {
  sub: string;
  kind: TokenKind;
  iat: number;
  exp: number;
  jti: string;
  vo: string;
  /** Pilot stamp, on pilot tokens and pilot refresh tokens. */
  pilot_stamp?: string;
  /** Job id, on job-scoped tokens. */
  job_id?: number;
  /** Owner and group, on job and user tokens. */
  preferred_username?: string;
  dirac_group?: string;
  /** On refresh tokens: the kind of access token this refresh token renews. */
  grants?: 'pilot' | 'user';
}

/** Body of a successful token route. `expires_in` is in seconds. */
export interface TokenResponse {
  access_token: string;
  expires_in: number;
  token_type: 'Bearer';
  refresh_token: string;
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeSegment(segment: string): unknown {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) {
    throw new HttpError(400, 'Invalid JWT: a segment is not base64url');
  }
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new HttpError(400, 'Invalid JWT: a segment is not JSON');
  }
}

/**
 * Signs and checks HS256 JWTs with a key made at start-up, and keeps the state of refresh
 * tokens so that each one works once (rotation).
 */
export class TokenIssuer {
  private readonly key = randomBytes(32);
  private readonly refreshStates = new Map<string, 'active' | 'used'>();
  /** Ids (`jti`) of tokens expired early by `expireEarly`. */
  private readonly expiredEarly = new Set<string>();
  private readonly nowSeconds: () => number;

  constructor(nowSeconds: () => number) {
    this.nowSeconds = nowSeconds;
  }

  /** Signs a token with the given claims, valid for `lifetimeSeconds` from now. */
  sign(claims: Omit<TokenClaims, 'iat' | 'exp' | 'jti'>, lifetimeSeconds: number): string {
    const iat = this.nowSeconds();
    const payload: TokenClaims = {
      ...claims,
      iat,
      exp: iat + lifetimeSeconds,
      jti: randomBytes(12).toString('hex'),
    };
    if (claims.kind === 'refresh') {
      this.refreshStates.set(payload.jti, 'active');
    }
    const unsigned = `${encodeSegment({ alg: 'HS256', typ: 'JWT' })}.${encodeSegment(payload)}`;
    return `${unsigned}.${this.signature(unsigned)}`;
  }

  /**
   * Checks a token and returns its claims. A token that is not a JWT is a 400; a bad
   * signature or an expired token is a 401.
   */
  verify(token: string): TokenClaims {
    const parts = token.split('.');
    if (parts.length !== 3) {
      throw new HttpError(400, 'Invalid JWT: expected three dot-separated segments');
    }
    const [header, payload, signature] = parts as [string, string, string];
    const headerValue = decodeSegment(header) as { alg?: unknown };
    const claims = decodeSegment(payload) as TokenClaims;
    if (headerValue.alg !== 'HS256' || typeof claims?.exp !== 'number') {
      throw new HttpError(400, 'Invalid JWT: unsupported algorithm or missing exp');
    }
    const expected = Buffer.from(this.signature(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new HttpError(401, 'Invalid JWT: signature does not match');
    }
    if (claims.exp <= this.nowSeconds() || this.expiredEarly.has(claims.jti)) {
      throw new HttpError(401, 'Token expired');
    }
    return claims;
  }

  /**
   * Makes a valid token count as expired from now on, as a server whose clock is ahead would.
   * Does nothing to a token that is already invalid.
   */
  expireEarly(token: string): void {
    try {
      this.expiredEarly.add(this.verify(token).jti);
    } catch (error) {
      if (!(error instanceof HttpError)) {
        throw error;
      }
    }
  }

  /**
   * Checks a refresh token and marks it used. A refresh token presented a second time is
   * rejected with 401, because a rotated token that comes back has probably been stolen.
   */
  consumeRefreshToken(token: string): TokenClaims {
    let claims: TokenClaims;
    try {
      claims = this.verify(token);
    } catch (error) {
      if (error instanceof HttpError) {
        throw new HttpError(401, `Invalid refresh token: ${String(error.detail)}`);
      }
      throw error;
    }
    if (claims.kind !== 'refresh') {
      throw new HttpError(401, 'Invalid refresh token: this is an access token');
    }
    const state = this.refreshStates.get(claims.jti);
    if (state !== 'active') {
      throw new HttpError(401, 'Invalid refresh token: already used');
    }
    this.refreshStates.set(claims.jti, 'used');
    return claims;
  }

  private signature(unsigned: string): string {
    return createHmac('sha256', this.key).update(unsigned).digest('base64url');
  }
}
