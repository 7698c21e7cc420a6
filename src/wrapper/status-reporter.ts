import type { JobOutbox, OutboxAction } from '../journal/index.js';
import type { StatusRecord } from '../wms/types.js';

/** Fields of one status change of a job. */
export interface StatusChange {
  status?: string;
  minorStatus?: string;
  applicationStatus?: string;
}

/**
 * Turns a job's status changes into journalled status records, sent in the order they were
 * made. The service keeps a transition it does not allow at the current state, so the job
 * must walk its path step by step and no record may overtake an earlier one.
 */
export class StatusReporter {
  constructor(private readonly outbox: JobOutbox) {}

  /** Queues a record; resolves once it was sent, or once its sending waits for a retry. */
  report(change: StatusChange): Promise<void> {
    return this.outbox.enqueue([statusAction(change)]);
  }
}

/** Builds the outbox action of one status change, with `Source` JobWrapper. */
export function statusAction(change: StatusChange): OutboxAction {
  const record: StatusRecord = { Source: 'JobWrapper' };
  if (change.status !== undefined) record.Status = change.status;
  if (change.minorStatus !== undefined) record.MinorStatus = change.minorStatus;
  if (change.applicationStatus !== undefined) {
    record.ApplicationStatus = change.applicationStatus.slice(0, 255);
  }
  return { kind: 'status', record };
}
