import type { Logger } from '../log.js';
import type { JobBatchResult, JobId, StatusRecord } from '../wms/types.js';

/** The part of the central-service client that status reporting uses. */
export interface StatusSender {
  sendStatus(records: Record<string, StatusRecord[]>): Promise<JobBatchResult>;
}

/** Fields of one status change of a job. */
export interface StatusChange {
  status?: string;
  minorStatus?: string;
  applicationStatus?: string;
}

/**
 * Sends a job's status records one after the other, in the order they were made. The service
 * keeps a transition it does not allow at the current state, so the job must walk its path
 * step by step and no record may overtake an earlier one.
 */
export class StatusReporter {
  private chain: Promise<void> = Promise.resolve();
  private last: StatusChange = {};

  constructor(
    private readonly sender: StatusSender,
    private readonly jobId: JobId,
    private readonly log: Logger,
  ) {}

  /** Status, minor status and application status last sent. */
  get current(): StatusChange {
    return { ...this.last };
  }

  /** Queues a record and resolves once it was sent (or its sending failed and was logged). */
  report(change: StatusChange): Promise<void> {
    this.last = {
      status: change.status ?? this.last.status,
      minorStatus: change.minorStatus ?? this.last.minorStatus,
      applicationStatus: change.applicationStatus ?? this.last.applicationStatus,
    };
    const record: StatusRecord = { Source: 'JobWrapper' };
    if (change.status !== undefined) record.Status = change.status;
    if (change.minorStatus !== undefined) record.MinorStatus = change.minorStatus;
    if (change.applicationStatus !== undefined) {
      record.ApplicationStatus = change.applicationStatus.slice(0, 255);
    }

    this.chain = this.chain.then(() => this.send(record));
    return this.chain;
  }

  private async send(record: StatusRecord): Promise<void> {
    try {
      const result = await this.sender.sendStatus({ [String(this.jobId)]: [record] });
      const failure = result.failed[String(this.jobId)];
      if (failure) this.log.warn({ record, detail: failure.detail }, 'status record rejected');
      else this.log.debug({ record }, 'status sent');
    } catch (error) {
      this.log.error({ err: error, record }, 'status update failed');
    }
  }
}
