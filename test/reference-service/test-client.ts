import { randomBytes } from 'node:crypto';

import type { ReferenceService, TokenResponse } from './index.js';

/** A response of the service, with its body read as text and, when possible, as JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** Options of {@link call}. */
export interface CallOptions {
  token?: string;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
}

/** Sends one request to the service over loopback and reads the whole response. */
export async function call(
  service: ReferenceService,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) {
    headers.authorization = `Bearer ${options.token}`;
  }
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const response = await fetch(`${service.url}${path}`, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Registers a secret for `stamp` and exchanges it; returns the pilot's token pair. */
export async function loginPilot(service: ReferenceService, stamp: string): Promise<TokenResponse> {
  const secret = randomBytes(16).toString('hex');
  service.addPilotSecret(stamp, secret);
  const answer = await call(service, 'POST', '/api/auth/secret-exchange', {
    json: { pilot_stamp: stamp, pilot_secret: secret },
  });
  if (answer.status !== 200) {
    throw new Error(`Secret exchange for ${stamp} failed with ${answer.status}: ${answer.text}`);
  }
  return answer.json as TokenResponse;
}

/** Slot values of a match request; every field may be overridden. */
export interface SlotOverrides {
  cores?: number;
  'ram-mb'?: number;
  'wall-time'?: number;
  benchmark?: number;
  gpus?: number;
  tags?: string[];
  pilotVersion?: string;
}

/** Builds the body of `POST /api/pilots/internal/match` for one free slot. */
export function matchBody(stamp: string, slot: SlotOverrides = {}) {
  return {
    pilot_stamp: stamp,
    node: {
      site: 'CTAO.Test.org',
      grid_ce: 'ce.test.invalid',
      queue: 'long',
      system: { name: 'linux', glibc: '2.36', 'user-namespaces': true },
      'wall-time': 86000,
      'cpu-work': 86000 * 10,
      cpu: { 'num-nodes': 1, 'num-cores': 8, 'ram-mb': 16000 },
      gpu: { count: slot.gpus ?? 0 },
      tags: slot.tags ?? ['apptainer'],
    },
    slot: {
      cores: slot.cores ?? 4,
      'ram-mb': slot['ram-mb'] ?? 8000,
      'wall-time': slot['wall-time'] ?? 86000,
      'scratch-mb': 50000,
    },
    pilot_version: slot.pilotVersion ?? '0.1.0',
    benchmark: slot.benchmark ?? 10,
  };
}

/** Requests a job for one slot and returns the response. */
export function requestMatch(
  service: ReferenceService,
  token: string,
  stamp: string,
  slot: SlotOverrides = {},
): Promise<Answer> {
  return call(service, 'POST', '/api/pilots/internal/match', {
    token,
    json: matchBody(stamp, slot),
  });
}

/** Formats a service time in microseconds as an ISO 8601 timestamp with an offset. */
export function isoAt(millis: number, extraMicros = 0): string {
  const base = new Date(millis).toISOString().slice(0, 23);
  return `${base}${String(extraMicros).padStart(3, '0')}+00:00`;
}
