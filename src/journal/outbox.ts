import { wmsErrorAction } from '../wms/index.js';
import type { JobBatchResult, JobId, SandboxUpload, StatusRecord } from '../wms/types.js';
import type { Logger } from '../log.js';
import type { Journal, JournalAction, OutboxAction } from './journal.js';

/** The calls of the central-service client that an outbox makes. */
export interface OutboxClient {
  sendStatus(records: Record<string, StatusRecord[]>): Promise<JobBatchResult>;
  uploadSandbox(jobId: JobId, file: string, upload: SandboxUpload): Promise<string>;
  assignOutputSandbox(jobId: JobId, pfn: string): Promise<void>;
  reschedule(jobIds: JobId[]): Promise<JobBatchResult>;
  stampFor(jobId: JobId): string;
}

// After a call fails with a passing fault, the outbox tries again this much later.
const RETRY_DELAY_MS = 15_000;

/**
 * Everything one job still owes the central service, sent strictly in order: status
 * records, the output sandbox upload and its assignment, a reschedule. Each action is in
 * the journal before it is tried and marked done after it succeeded, so a failure or a
 * crash only delays it. Actions the service rejects for good are logged and dropped, so one
 * bad record cannot hold back the job's final status.
 */
export class JobOutbox {
  private running: Promise<void> | undefined;
  private emptyWaiters: (() => void)[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private fatal: unknown;

  constructor(
    private readonly journal: Journal,
    private readonly jobId: JobId,
    private readonly client: OutboxClient,
    private readonly log: Logger,
    private readonly recordTransfer?: (bytes: number, seconds: number) => void,
  ) {}

  /** Number of actions not done yet. */
  get pendingCount(): number {
    return this.journal.job(this.jobId)?.actions.length ?? 0;
  }

  /**
   * Journals the actions, with status records stamped now in the service's clock, and sends
   * everything pending. Resolves once the queue is empty or waits for a retry.
   */
  enqueue(actions: OutboxAction[]): Promise<void> {
    const stamped = actions.map((action) =>
      action.kind === 'status' && action.record.timestamp === undefined
        ? { ...action, record: { ...action.record, timestamp: this.client.stampFor(this.jobId) } }
        : action,
    );
    this.journal.addActions(this.jobId, stamped);
    return this.flush();
  }

  /** Sends pending actions in order; resolves when none are left or one must wait. */
  flush(): Promise<void> {
    this.running ??= this.process().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves once every action of the job is done (retries included). */
  whenEmpty(): Promise<void> {
    if (this.pendingCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Stops retrying in the background; pending actions stay in the journal. */
  dispose(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** An error that must stop the pilot (a second 401), seen by the last flush. */
  get stopError(): unknown {
    return this.fatal;
  }

  private async process(): Promise<void> {
    for (;;) {
      const next = this.journal.job(this.jobId)?.actions[0];
      if (!next) {
        for (const resolve of this.emptyWaiters.splice(0)) resolve();
        return;
      }
      try {
        const pfn = await this.perform(next);
        this.journal.markDone(this.jobId, next.seq, pfn === undefined ? {} : { pfn });
      } catch (error) {
        const action = wmsErrorAction(error);
        if (action === 'give-up') {
          this.log.error(
            { err: error, action: next.action.kind, seq: next.seq },
            'service rejected a job action; dropped',
          );
          this.journal.markDone(this.jobId, next.seq);
          continue;
        }
        if (action === 'stop-pilot') this.fatal = error;
        this.log.warn({ err: error, action: next.action.kind }, 'job action failed; will retry');
        this.scheduleRetry();
        return;
      }
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, RETRY_DELAY_MS);
    this.retryTimer.unref();
  }

  private async perform({ action }: JournalAction): Promise<string | undefined> {
    switch (action.kind) {
      case 'status':
        await this.sendStatus(action.record);
        return undefined;
      case 'upload': {
        const started = Date.now();
        const { archive, ...upload } = action;
        const pfn = await this.client.uploadSandbox(this.jobId, archive, {
          sha256: upload.sha256,
          size: upload.size,
          format: upload.format,
        });
        this.recordTransfer?.(upload.size, (Date.now() - started) / 1000);
        return pfn;
      }
      case 'assign': {
        const pfn = this.journal.job(this.jobId)?.uploadedPfn;
        if (pfn === undefined) throw new Error(`job ${this.jobId} has no uploaded sandbox`);
        // The client counts a repeated assignment's "already assigned" error as success.
        await this.client.assignOutputSandbox(this.jobId, pfn);
        return undefined;
      }
      case 'reschedule':
        await this.client.reschedule([this.jobId]);
        return undefined;
    }
  }

  private async sendStatus(record: StatusRecord): Promise<void> {
    const result = await this.client.sendStatus({ [String(this.jobId)]: [record] });
    const failure = result.failed[String(this.jobId)];
    if (failure) this.log.warn({ record, detail: failure.detail }, 'status record rejected');
    else this.log.debug({ record }, 'status sent');
  }
}
