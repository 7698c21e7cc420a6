import type { StatusReporter } from './status-reporter.js';

/**
 * Turns a workflow's progress into the job's ApplicationStatus, at most once per interval:
 * a 1,000-job scatter changes its progress thousands of times, and each change would be a
 * status record at the central service.
 */
export class ProgressReporter {
  private lastSentAt = 0;
  private lastSent: string | undefined;
  private pending: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /**
   * @param status the job's status reporter
   * @param intervalMs shortest time between two progress records (default 15 s)
   */
  constructor(
    private readonly status: StatusReporter,
    private readonly intervalMs = 15_000,
  ) {}

  /** Records the latest progress line; it is sent now or when the interval has passed. */
  update(text: string): void {
    if (this.stopped || text === this.lastSent) return;
    this.pending = text;

    const wait = this.lastSentAt + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.sendPending();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.sendPending();
    }, wait);
    this.timer.unref();
  }

  /** Drops what was not sent yet; later updates are ignored. Call before the final status. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private sendPending(): void {
    if (this.pending === undefined || this.stopped) return;
    this.lastSent = this.pending;
    this.lastSentAt = Date.now();
    this.pending = undefined;
    void this.status.report({ applicationStatus: this.lastSent });
  }
}
