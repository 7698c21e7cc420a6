/** Request body and response of the job status and reschedule routes. */
import { WmsError } from '../errors.js';
import { responseError, parseJson } from './responses.js';
import { hasTimezone, type ServiceClock } from './clock.js';
import { WmsErrorCode } from './errors.js';
import type { HttpResponse } from './transport.js';
import type { JobBatchResult, JobId, StatusRecord } from './types.js';

/**
 * Builds `{"<job id>": {"<timestamp>": {Status?, MinorStatus?, ApplicationStatus?, Source}}}`.
 * Records without a timestamp get one from `clock`. Given timestamps must carry a timezone and
 * be distinct within a job, because the service keys records by them.
 */
export function buildStatusBody(
  records: Record<JobId, StatusRecord[]>,
  clock: ServiceClock,
): string {
  const body: Record<string, Record<string, Omit<StatusRecord, 'timestamp'>>> = {};
  for (const [jobId, jobRecords] of Object.entries(records)) {
    const byTime: Record<string, Omit<StatusRecord, 'timestamp'>> = {};
    for (const record of jobRecords) {
      const { timestamp, ...fields } = record;
      const stamp = timestamp ?? clock.stampFor(jobId);
      checkTimestamp(jobId, stamp, byTime);
      if (timestamp !== undefined) clock.noteStamp(jobId, timestamp);
      byTime[stamp] = fields;
    }
    body[jobId] = byTime;
  }
  return JSON.stringify(body);
}

function checkTimestamp(jobId: string, stamp: string, byTime: Record<string, unknown>): void {
  if (!hasTimezone(stamp)) {
    throw new WmsError(
      WmsErrorCode.InvalidRequest,
      `status record of job ${jobId} has timestamp ${stamp} without a timezone: use stampFor()`,
    );
  }
  if (stamp in byTime) {
    throw new WmsError(
      WmsErrorCode.InvalidRequest,
      `two status records of job ${jobId} share timestamp ${stamp}: give each its own`,
    );
  }
}

/**
 * Reads `{success, failed}`. A 404 means that no job succeeded, and it becomes a result with
 * every job under `failed`. Callers thus handle one unknown job and all unknown jobs alike.
 */
export function readBatchResult(
  label: string,
  response: HttpResponse,
  jobIds: string[],
): JobBatchResult {
  if (response.status === 404) return allFailed(label, response, jobIds);
  if (response.status !== 200) throw responseError(label, response);

  const body = parseJson<Partial<JobBatchResult>>(label, response);
  return { success: body.success ?? {}, failed: body.failed ?? {} };
}

function allFailed(label: string, response: HttpResponse, jobIds: string[]): JobBatchResult {
  const body = parseJson<{ detail?: unknown }>(label, response);
  const detail = body.detail;
  // A 404 may carry the per-job map itself, either bare or as `{failed: {...}}`.
  if (detail !== null && typeof detail === 'object') {
    const map = ('failed' in detail ? detail.failed : detail) as JobBatchResult['failed'];
    return { success: {}, failed: map };
  }
  const text = typeof detail === 'string' ? detail : 'Not found';
  return { success: {}, failed: Object.fromEntries(jobIds.map((id) => [id, { detail: text }])) };
}
