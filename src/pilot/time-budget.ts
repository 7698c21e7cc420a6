/**
 * The pilot's wall-clock budget: when its allocation ends, and how much of the rest must be
 * kept for uploading output sandboxes, measured from the bandwidth seen so far.
 */
export class WallTimeBudget {
  private bytesPerSecond: number | undefined;

  /**
   * @param endsAt epoch milliseconds when the allocation ends, or undefined when unknown
   * @param minReserveSeconds time always kept for the last uploads
   * @param expectedUploadBytes output sandbox size the reserve is computed for
   */
  constructor(
    readonly endsAt: number | undefined,
    private readonly minReserveSeconds: number,
    private readonly expectedUploadBytes = 100 * 1024 * 1024,
  ) {}

  /** Seconds left in the allocation, or undefined when it has no known end. */
  secondsLeft(now = Date.now()): number | undefined {
    return this.endsAt === undefined ? undefined : Math.max(0, (this.endsAt - now) / 1000);
  }

  /**
   * Seconds kept for uploads: the time the largest output sandbox takes at the measured
   * bandwidth, never less than the configured minimum.
   */
  uploadReserveSeconds(): number {
    if (this.bytesPerSecond === undefined) return this.minReserveSeconds;
    const measured = this.expectedUploadBytes / this.bytesPerSecond;
    return Math.max(this.minReserveSeconds, Math.ceil(measured));
  }

  /** Wall time a new job may use, in seconds; undefined when the allocation has no known end. */
  secondsForNewJob(now = Date.now()): number | undefined {
    const left = this.secondsLeft(now);
    if (left === undefined) return undefined;
    return Math.max(0, Math.floor(left - this.uploadReserveSeconds()));
  }

  /** Records one transfer, so the reserve follows the bandwidth really seen. */
  recordTransfer(bytes: number, seconds: number): void {
    if (bytes < 64 * 1024 || seconds <= 0) return;
    const rate = bytes / seconds;
    // An exponential average follows a changing network without trusting one sample.
    this.bytesPerSecond =
      this.bytesPerSecond === undefined ? rate : 0.7 * this.bytesPerSecond + 0.3 * rate;
  }
}
