import type { Route, ServiceContext } from './context.js';
import {
  HttpError,
  bodyIssue,
  parseObjectBody,
  validationError,
  type ValidationIssue,
} from './http-util.js';
import type { TokenClaims, TokenResponse } from './tokens.js';
import type { PilotRecord } from './types.js';

const PILOT_STATES = ['Submitted', 'Waiting', 'Running', 'Done', 'Failed', 'Aborted', 'Unknown'];

/** Fields a pilot that was not registered beforehand adds to the secret exchange. */
const REGISTRATION_FIELDS = ['vo', 'grid_type', 'grid_site', 'status'] as const;

function requireString(
  body: Record<string, unknown>,
  field: string,
  issues: ValidationIssue[],
): string {
  const value = body[field];
  if (typeof value !== 'string') {
    issues.push(bodyIssue([field], 'Field required as a string', value));
    return '';
  }
  return value;
}

function checkStamp(stamp: string, issues: ValidationIssue[]): void {
  if (stamp.length < 1 || stamp.length > 32) {
    issues.push(bodyIssue(['pilot_stamp'], 'String should have 1 to 32 characters', stamp));
  }
}

/** Issues an access and refresh token pair for a pilot. */
function pilotTokens(context: ServiceContext, pilot: PilotRecord): TokenResponse {
  const { tokenLifetimeSeconds, refreshTokenLifetimeSeconds } = context.options;
  const base = { sub: `pilot:${pilot.stamp}`, vo: pilot.vo, pilot_stamp: pilot.stamp };
  return {
    access_token: context.tokens.sign({ ...base, kind: 'pilot' }, tokenLifetimeSeconds),
    // Both pilot routes report the secret's lifetime here, not the token's.
    expires_in: pilot.secretLifetimeSeconds,
    token_type: 'Bearer',
    refresh_token: context.tokens.sign(
      { ...base, kind: 'refresh', grants: 'pilot' },
      refreshTokenLifetimeSeconds,
    ),
  };
}

function registerPilot(
  context: ServiceContext,
  stamp: string,
  body: Record<string, unknown>,
  lifetimeSeconds: number,
): PilotRecord {
  const issues: ValidationIssue[] = [];
  const fields = Object.fromEntries(
    REGISTRATION_FIELDS.map((field) => [field, requireString(body, field, issues)]),
  );
  if (fields.status && !PILOT_STATES.includes(fields.status)) {
    issues.push(bodyIssue(['status'], `Input should be one of ${PILOT_STATES.join(', ')}`));
  }
  if (issues.length > 0) {
    throw validationError(...issues);
  }
  const pilot: PilotRecord = {
    stamp,
    vo: fields.vo as string,
    gridType: fields.grid_type,
    gridSite: fields.grid_site,
    status: fields.status as string,
    reason: undefined,
    metadata: {},
    messages: [],
    secretLifetimeSeconds: lifetimeSeconds,
  };
  context.pilots.set(stamp, pilot);
  return pilot;
}

/** `POST /api/auth/secret-exchange`: a single-use pilot secret for a token pair. */
function exchangeSecret(body: Record<string, unknown>, context: ServiceContext): TokenResponse {
  const issues: ValidationIssue[] = [];
  const stamp = requireString(body, 'pilot_stamp', issues);
  const secretText = requireString(body, 'pilot_secret', issues);
  checkStamp(stamp, issues);
  if (issues.length > 0) {
    throw validationError(...issues);
  }

  const secret = context.secrets.get(secretText);
  if (!secret) {
    throw new HttpError(401, 'bad credentials');
  }
  if (secret.stamp !== null && secret.stamp !== stamp) {
    throw new HttpError(401, 'bad pilot_stamp');
  }
  if (secret.used) {
    throw new HttpError(401, 'bad pilot_secret');
  }
  if (secret.expiresAt <= context.nowSeconds()) {
    throw new HttpError(401, 'secret expired');
  }

  const pilot =
    context.pilots.get(stamp) ?? registerPilot(context, stamp, body, secret.lifetimeSeconds);
  secret.used = true;
  pilot.secretLifetimeSeconds = secret.lifetimeSeconds;
  context.log.info({ pilotStamp: stamp }, 'pilot secret exchanged');
  return pilotTokens(context, pilot);
}

/** `POST /api/auth/pilot-token`: a pilot refresh token for a new, rotated pair. */
function refreshPilotToken(body: Record<string, unknown>, context: ServiceContext): TokenResponse {
  const issues: ValidationIssue[] = [];
  const stamp = requireString(body, 'pilot_stamp', issues);
  const refreshToken = requireString(body, 'refresh_token', issues);
  if (issues.length > 0) {
    throw validationError(...issues);
  }
  const claims = context.tokens.consumeRefreshToken(refreshToken);
  const pilot = context.pilots.get(stamp);
  if (claims.grants !== 'pilot' || claims.pilot_stamp !== stamp || !pilot) {
    throw new HttpError(401, 'bad pilot_stamp');
  }
  return pilotTokens(context, pilot);
}

/** `POST /api/auth/token` with a refresh grant: a user's token pair, rotated. */
function refreshUserToken(form: URLSearchParams, context: ServiceContext): TokenResponse {
  const issues: ValidationIssue[] = [];
  for (const field of ['grant_type', 'refresh_token', 'client_id']) {
    if (!form.get(field)) {
      issues.push({ type: 'missing', loc: ['body', field], msg: 'Field required' });
    }
  }
  if (issues.length > 0) {
    throw validationError(...issues);
  }
  if (form.get('grant_type') !== 'refresh_token') {
    throw new HttpError(400, `Unsupported grant_type ${form.get('grant_type')}; use refresh_token`);
  }
  const claims = context.tokens.consumeRefreshToken(form.get('refresh_token') as string);
  if (claims.grants !== 'user') {
    throw new HttpError(401, 'Invalid refresh token: not a user refresh token');
  }
  return userTokens(context, claims);
}

/** Issues a user's access and refresh token pair, with `expires_in` the real lifetime. */
export function userTokens(
  context: ServiceContext,
  identity: Pick<TokenClaims, 'sub' | 'vo' | 'preferred_username' | 'dirac_group'>,
): TokenResponse {
  const { tokenLifetimeSeconds, refreshTokenLifetimeSeconds } = context.options;
  const base = {
    sub: identity.sub,
    vo: identity.vo,
    preferred_username: identity.preferred_username,
    dirac_group: identity.dirac_group,
  };
  return {
    access_token: context.tokens.sign({ ...base, kind: 'user' }, tokenLifetimeSeconds),
    expires_in: tokenLifetimeSeconds,
    token_type: 'Bearer',
    refresh_token: context.tokens.sign(
      { ...base, kind: 'refresh', grants: 'user' },
      refreshTokenLifetimeSeconds,
    ),
  };
}

/** Health and token routes: none of them takes a bearer token. */
export const authRoutes: Route[] = [
  {
    name: 'GET /api/health/live',
    method: 'GET',
    pattern: /^\/api\/health\/live$/,
    tokenKinds: [],
    handle: () => ({ status: 200, json: { status: 'live' } }),
  },
  {
    name: 'GET /api/health/ready',
    method: 'GET',
    pattern: /^\/api\/health\/ready$/,
    tokenKinds: [],
    handle: () => ({ status: 200, json: { status: 'ready' } }),
  },
  {
    name: 'POST /api/auth/secret-exchange',
    method: 'POST',
    pattern: /^\/api\/auth\/secret-exchange$/,
    tokenKinds: [],
    handle: (request, context) => ({
      status: 200,
      json: exchangeSecret(parseObjectBody(request.body), context),
    }),
  },
  {
    name: 'POST /api/auth/pilot-token',
    method: 'POST',
    pattern: /^\/api\/auth\/pilot-token$/,
    tokenKinds: [],
    handle: (request, context) => ({
      status: 200,
      json: refreshPilotToken(parseObjectBody(request.body), context),
    }),
  },
  {
    name: 'POST /api/auth/token',
    method: 'POST',
    pattern: /^\/api\/auth\/token$/,
    tokenKinds: [],
    handle: (request, context) => ({
      status: 200,
      json: refreshUserToken(new URLSearchParams(request.body.toString('utf8')), context),
    }),
  },
];
