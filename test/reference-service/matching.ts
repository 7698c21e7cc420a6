import { bodyIssue, isObject, validationError, type ValidationIssue } from './http-util.js';
import type { JobState } from './types.js';

/** The parts of a match request that decide which job fits. */
export interface MatchRequest {
  pilotStamp: string;
  pilotVersion: string;
  /** DB12 power of one core of the node. */
  benchmark: number;
  slotCores: number;
  slotRamMb: number;
  /** Seconds. */
  slotWallTime: number;
  nodeGpuCount: number;
  nodeTags: string[];
}

function numberAt(
  parent: Record<string, unknown>,
  field: string,
  loc: string[],
  issues: ValidationIssue[],
): number {
  const value = parent[field];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    issues.push(bodyIssue([...loc, field], 'Input should be a non-negative number', value));
    return 0;
  }
  return value;
}

function objectAt(
  parent: Record<string, unknown>,
  field: string,
  loc: string[],
  issues: ValidationIssue[],
): Record<string, unknown> {
  const value = parent[field];
  if (!isObject(value)) {
    issues.push(bodyIssue([...loc, field], 'Input should be a valid dictionary', value));
    return {};
  }
  return value;
}

/** Validates the body of `POST /api/pilots/internal/match`; any invalid field is a 422. */
export function parseMatchRequest(body: Record<string, unknown>): MatchRequest {
  const issues: ValidationIssue[] = [];
  const node = objectAt(body, 'node', [], issues);
  const slot = objectAt(body, 'slot', [], issues);
  const gpu = isObject(node.gpu) ? node.gpu : { count: 0 };
  const tags = node.tags ?? [];
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) {
    issues.push(bodyIssue(['node', 'tags'], 'Input should be a list of strings', tags));
  }
  for (const field of ['pilot_stamp', 'pilot_version']) {
    if (typeof body[field] !== 'string' || body[field] === '') {
      issues.push(bodyIssue([field], 'Field required as a non-empty string', body[field]));
    }
  }
  const request: MatchRequest = {
    pilotStamp: body.pilot_stamp as string,
    pilotVersion: body.pilot_version as string,
    benchmark: numberAt(body, 'benchmark', [], issues),
    slotCores: numberAt(slot, 'cores', ['slot'], issues),
    slotRamMb: numberAt(slot, 'ram-mb', ['slot'], issues),
    slotWallTime: numberAt(slot, 'wall-time', ['slot'], issues),
    nodeGpuCount: numberAt(gpu, 'count', ['node', 'gpu'], issues),
    nodeTags: Array.isArray(tags) ? (tags as string[]) : [],
  };
  if (issues.length > 0) {
    throw validationError(...issues);
  }
  return request;
}

/**
 * True when a job fits a slot: cores, RAM and wall time at most the slot's, CPU work at most
 * the slot's wall time × the benchmark, GPUs at most the node's, and every required tag
 * among the node's. A requirement the job does not give always fits.
 */
export function jobFits(job: JobState, match: MatchRequest): boolean {
  const needs = job.requirements;
  const checks = [
    (needs.cores ?? 0) <= match.slotCores,
    (needs['ram-mb'] ?? 0) <= match.slotRamMb,
    (needs['wall-time'] ?? 0) <= match.slotWallTime,
    (needs['cpu-work'] ?? 0) <= match.slotWallTime * match.benchmark,
    (needs.gpu ?? 0) <= match.nodeGpuCount,
    (needs.tags ?? []).every((tag) => match.nodeTags.includes(tag)),
  ];
  return checks.every(Boolean);
}

/** Returns the oldest Waiting job that fits the slot, or undefined. */
export function findMatchingJob(jobs: JobState[], match: MatchRequest): JobState | undefined {
  return jobs.find((job) => job.status === 'Waiting' && jobFits(job, match));
}
