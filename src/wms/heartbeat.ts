/** Heartbeats of the pilot's running jobs, and the commands the service returns with them. */
import type { Logger } from '../log.js';
import { type AuthorizedSender, jsonRequest } from './authorized.js';
import { expectShape, parseJson, responseError } from './responses.js';
import type { CallContext } from './transport.js';
import type { HeartbeatData, HeartbeatResult, JobCommand, JobId } from './types.js';

const LABEL = 'PATCH /api/jobs/heartbeat';

/**
 * Sends one heartbeat call for all `data` and returns the commands. DiracX returns a bare 500
 * for the whole call when one job is unknown, so a 500 is not retried: the jobs are sent one
 * by one to find which one the service rejects.
 */
export async function sendHeartbeats(
  sender: AuthorizedSender,
  data: Record<JobId, HeartbeatData>,
  context: CallContext,
  log: Logger,
): Promise<HeartbeatResult> {
  const jobIds = Object.keys(data).map(Number);
  const request = { ...jsonRequest(LABEL, JSON.stringify(data)), retryOn500: false };
  const response = await sender.send({ kind: 'pilot' }, request, context);

  if (response.status === 200) {
    const commands = parseJson<unknown>(LABEL, response);
    expectShape(Array.isArray(commands), LABEL, 'a list of commands');
    return { commands: commands as JobCommand[], unknownJobIds: [] };
  }
  if (response.status !== 500) throw responseError(LABEL, response);

  if (jobIds.length === 1) {
    log.warn({ jobId: jobIds[0] }, 'heartbeat failed with 500, job may be unknown');
    return { commands: [], unknownJobIds: jobIds };
  }
  return sendOneByOne(sender, data, jobIds, context, log);
}

/**
 * Sends one heartbeat per job. Commands are delivered once, so the commands already
 * received are returned even when a later call fails; that failure is logged instead.
 */
async function sendOneByOne(
  sender: AuthorizedSender,
  data: Record<JobId, HeartbeatData>,
  jobIds: JobId[],
  context: CallContext,
  log: Logger,
): Promise<HeartbeatResult> {
  const result: HeartbeatResult = { commands: [], unknownJobIds: [] };
  let succeeded = 0;
  let firstError: unknown;

  for (const jobId of jobIds) {
    const single = { [jobId]: data[jobId] as HeartbeatData };
    try {
      const partial = await sendHeartbeats(sender, single, context, log);
      result.commands.push(...partial.commands);
      result.unknownJobIds.push(...partial.unknownJobIds);
      succeeded += 1;
    } catch (error) {
      log.warn({ jobId, err: error }, 'heartbeat failed');
      firstError ??= error;
    }
  }

  if (succeeded === 0) throw firstError;
  return result;
}
