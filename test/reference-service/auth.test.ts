import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startReferenceService, type ReferenceService } from './index.js';
import { call, loginPilot } from './test-client.js';

let service: ReferenceService;

beforeEach(async () => {
  service = await startReferenceService({ tokenLifetimeSeconds: 600 });
});

afterEach(async () => {
  await service.close();
});

function exchange(body: Record<string, unknown>) {
  return call(service, 'POST', '/api/auth/secret-exchange', { json: body });
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
}

describe('POST /api/auth/secret-exchange', () => {
  it('accepts a secret once', async () => {
    service.addPilotSecret('stamp-1', 'secret-1');
    const first = await exchange({ pilot_stamp: 'stamp-1', pilot_secret: 'secret-1' });
    const second = await exchange({ pilot_stamp: 'stamp-1', pilot_secret: 'secret-1' });

    expect(first.status).toBe(200);
    expect(first.json.token_type).toBe('Bearer');
    expect(second.status).toBe(401);
    expect(second.json).toEqual({ detail: 'bad pilot_secret' });
  });

  it('reports the secret lifetime as expires_in', async () => {
    service.addPilotSecret('stamp-2', 'secret-2', { lifetimeSeconds: 7200 });
    const answer = await exchange({ pilot_stamp: 'stamp-2', pilot_secret: 'secret-2' });
    const claims = payloadOf(answer.json.access_token);

    expect(answer.json.expires_in).toBe(7200);
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
  });

  it('rejects an unknown secret', async () => {
    const answer = await exchange({ pilot_stamp: 'stamp-3', pilot_secret: 'nothing' });

    expect(answer.status).toBe(401);
    expect(answer.json).toEqual({ detail: 'bad credentials' });
  });

  it('rejects a secret of another stamp', async () => {
    service.addPilotSecret('stamp-4', 'secret-4');
    const answer = await exchange({ pilot_stamp: 'stamp-5', pilot_secret: 'secret-4' });

    expect(answer.status).toBe(401);
    expect(answer.json).toEqual({ detail: 'bad pilot_stamp' });
  });

  it('rejects an expired secret', async () => {
    service.addPilotSecret('stamp-6', 'secret-6', { lifetimeSeconds: 60 });
    service.advanceClock(61);
    const answer = await exchange({ pilot_stamp: 'stamp-6', pilot_secret: 'secret-6' });

    expect(answer.status).toBe(401);
    expect(answer.json).toEqual({ detail: 'secret expired' });
  });

  it('registers a new pilot from its fields', async () => {
    service.addPilotSecret(null, 'any-stamp-secret');
    const answer = await exchange({
      pilot_stamp: 'fresh',
      pilot_secret: 'any-stamp-secret',
      vo: 'ctao',
      grid_type: 'SSH',
      grid_site: 'CTAO.Test.org',
      status: 'Running',
    });

    expect(answer.status).toBe(200);
    expect(service.pilots.get('fresh')?.gridSite).toBe('CTAO.Test.org');
  });

  it('rejects a stamp longer than 32 characters with 422', async () => {
    service.addPilotSecret(null, 'long-stamp-secret');
    const answer = await exchange({
      pilot_stamp: 'x'.repeat(33),
      pilot_secret: 'long-stamp-secret',
    });

    expect(answer.status).toBe(422);
  });
});

describe('POST /api/auth/pilot-token', () => {
  it('rotates the refresh token', async () => {
    const tokens = await loginPilot(service, 'rotating');
    const body = { pilot_stamp: 'rotating', refresh_token: tokens.refresh_token };
    const first = await call(service, 'POST', '/api/auth/pilot-token', { json: body });
    const reused = await call(service, 'POST', '/api/auth/pilot-token', { json: body });
    const next = await call(service, 'POST', '/api/auth/pilot-token', {
      json: { pilot_stamp: 'rotating', refresh_token: first.json.refresh_token },
    });

    expect(first.status).toBe(200);
    expect(first.json.refresh_token).not.toBe(tokens.refresh_token);
    expect(reused.status).toBe(401);
    expect(next.status).toBe(200);
  });
});

describe('POST /api/auth/token', () => {
  it('renews a user token with a refresh grant', async () => {
    const user = service.createUserTokens();
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: user.refresh_token,
      client_id: 'ctao-pilot',
    });
    const answer = await call(service, 'POST', '/api/auth/token', {
      body: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

    expect(answer.status).toBe(200);
    expect(answer.json.expires_in).toBe(600);
    expect(payloadOf(answer.json.access_token).preferred_username).toBe('jdoe');
  });
});

describe('bearer check', () => {
  const metadata = { json: { somebody: { Status: 'Running' } } };

  it('answers 401 without a token', async () => {
    const answer = await call(service, 'PATCH', '/api/pilots/metadata', metadata);

    expect(answer.status).toBe(401);
  });

  it('answers 400 for a malformed token', async () => {
    const answer = await call(service, 'PATCH', '/api/pilots/metadata', {
      ...metadata,
      token: 'not-a-jwt',
    });

    expect(answer.status).toBe(400);
  });

  it('answers 401 for a forged signature', async () => {
    const tokens = await loginPilot(service, 'forger');
    const [header, payload] = tokens.access_token.split('.');
    const answer = await call(service, 'PATCH', '/api/pilots/metadata', {
      json: { forger: { Status: 'Running' } },
      token: `${header}.${payload}.${'A'.repeat(43)}`,
    });

    expect(answer.status).toBe(401);
  });

  it('answers 401 once the token expired', async () => {
    const tokens = await loginPilot(service, 'expiring');
    const request = { json: { expiring: { Status: 'Running' } }, token: tokens.access_token };
    const before = await call(service, 'PATCH', '/api/pilots/metadata', request);
    service.advanceClock(601);
    const after = await call(service, 'PATCH', '/api/pilots/metadata', request);

    expect(before.status).toBe(204);
    expect(after.status).toBe(401);
    expect(after.json).toEqual({ detail: 'Token expired' });
  });

  it('sends a Date header on every answer', async () => {
    const answers = [
      await call(service, 'GET', '/api/health/live'),
      await call(service, 'PATCH', '/api/pilots/metadata', metadata),
      await call(service, 'GET', '/no/such/route'),
    ];

    for (const answer of answers) {
      expect(answer.headers.get('date')).toMatch(/GMT$/);
    }
  });

  it('shows the advanced clock in the Date header', async () => {
    service.advanceClock(3600);
    const answer = await call(service, 'GET', '/api/health/ready');
    const skew = Date.parse(answer.headers.get('date') as string) - Date.now();

    expect(skew).toBeGreaterThan(3590_000);
    expect(skew).toBeLessThan(3610_000);
  });
});

describe('PATCH /api/pilots/metadata', () => {
  it('stores the status and reason', async () => {
    const tokens = await loginPilot(service, 'meta');
    const answer = await call(service, 'PATCH', '/api/pilots/metadata', {
      token: tokens.access_token,
      json: { meta: { Status: 'Done', StatusReason: 'no more jobs', BenchMark: 17.2 } },
    });

    expect(answer.status).toBe(204);
    expect(service.pilots.get('meta')?.status).toBe('Done');
    expect(service.pilots.get('meta')?.reason).toBe('no more jobs');
  });

  it('answers 404 for an unknown stamp', async () => {
    const user = service.createUserTokens();
    const answer = await call(service, 'PATCH', '/api/pilots/metadata', {
      token: user.access_token,
      json: { ghost: { Status: 'Done' } },
    });

    expect(answer.status).toBe(404);
  });
});

describe('POST /api/pilots/internal/message', () => {
  it('stores the shipped lines', async () => {
    const tokens = await loginPilot(service, 'logger');
    const line = {
      timestamp: '2026-12-04T15:00:00+00:00',
      severity: 'INFO',
      message: 'started',
      scope: 'pilot',
    };
    const answer = await call(service, 'POST', '/api/pilots/internal/message', {
      token: tokens.access_token,
      json: { lines: [line] },
    });

    expect(answer.status).toBe(204);
    expect(service.pilots.get('logger')?.messages).toEqual([line]);
  });
});

describe('routing and client version', () => {
  it('answers 404 for an unknown path and 405 for a wrong method', async () => {
    const unknown = await call(service, 'GET', '/api/nothing/here');
    const wrongMethod = await call(service, 'DELETE', '/api/jobs/heartbeat');

    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ detail: 'Not Found' });
    expect(wrongMethod.status).toBe(405);
  });

  it('counts requests per route', async () => {
    await call(service, 'GET', '/api/health/live');
    await call(service, 'GET', '/api/health/live');
    await call(service, 'GET', '/api/nothing/here');

    expect(service.requestCounts()['GET /api/health/live']).toBe(2);
    expect(service.requestCounts().unmatched).toBe(1);
  });

  it('rejects an old client version with 400', async () => {
    const strict = await startReferenceService({ minClientVersion: '0.2.0' });
    try {
      const old = await call(strict, 'GET', '/api/health/live', {
        headers: { 'DiracX-Client-Version': '0.1.9' },
      });
      const current = await call(strict, 'GET', '/api/health/live', {
        headers: { 'DiracX-Client-Version': '0.2.0' },
      });

      expect(old.status).toBe(400);
      expect(current.status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('rejects an unregistered pilot without its fields', async () => {
    service.addPilotSecret(null, 'bare-secret');
    const answer = await exchange({ pilot_stamp: 'bare', pilot_secret: 'bare-secret' });
    const retry = await exchange({
      pilot_stamp: 'bare',
      pilot_secret: 'bare-secret',
      vo: 'ctao',
      grid_type: 'SSH',
      grid_site: 'CTAO.Test.org',
      status: 'Running',
    });

    expect(answer.status).toBe(422);
    expect(answer.json.detail.map((issue: { loc: string[] }) => issue.loc[1])).toEqual([
      'vo',
      'grid_type',
      'grid_site',
      'status',
    ]);
    expect(retry.status).toBe(200);
  });
});
