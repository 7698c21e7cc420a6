/** Measures of payload activity that the stall check compares over time. */
export interface ProgressSignals {
  /** CPU time of the job's process tree, in seconds. */
  cpuSeconds: number;
  /** Sum of the I/O counters (rchar, wchar, read_bytes, write_bytes) of the living tree. */
  ioBytes: number;
  /** Bytes the payload wrote to its standard output and standard error. */
  outputBytes: number;
  /** Fingerprint of the job folder's files (see scanJobFolder). */
  folderFingerprint: string;
}

/** Options of {@link StallDetector}. */
export interface StallDetectorOptions {
  /** Milliseconds without progress after which a job is stalled. */
  windowMs: number;
  /**
   * CPU time, as a fraction of the elapsed wall-clock time, below which CPU use does not count
   * as progress, so a payload that only wakes to poll still stalls. Default 0.01.
   */
  minCpuFraction?: number;
}

/** Result of one {@link StallDetector.update}. */
export interface StallState {
  stalled: boolean;
  /** Time of the last progress, in milliseconds since the epoch. */
  lastProgressAt: number;
  /** Signals that moved in this update. Empty when nothing moved. */
  moved: (keyof ProgressSignals)[];
}

/**
 * Decides whether a payload is stalled from several signals together: a job is stalled only
 * when none of CPU time, I/O bytes, output bytes and job folder files moved during the window.
 */
export class StallDetector {
  private readonly minCpuFraction: number;
  private baseline: ProgressSignals | undefined;
  private baselineAt = 0;

  constructor(private readonly options: StallDetectorOptions) {
    this.minCpuFraction = options.minCpuFraction ?? 0.01;
  }

  /** Compares `signals`, measured at `now` (ms since the epoch), with the last progress. */
  update(signals: ProgressSignals, now: number): StallState {
    if (this.baseline === undefined) {
      this.baseline = signals;
      this.baselineAt = now;
      return { stalled: false, lastProgressAt: now, moved: [] };
    }

    const moved = this.findMoved(this.baseline, signals, now - this.baselineAt);
    if (moved.length > 0) {
      this.baseline = signals;
      this.baselineAt = now;
    }
    return {
      stalled: now - this.baselineAt >= this.options.windowMs,
      lastProgressAt: this.baselineAt,
      moved,
    };
  }

  private findMoved(
    before: ProgressSignals,
    after: ProgressSignals,
    elapsedMs: number,
  ): (keyof ProgressSignals)[] {
    const moved: (keyof ProgressSignals)[] = [];
    const cpuGain = after.cpuSeconds - before.cpuSeconds;
    if (cpuGain > 0 && cpuGain >= (this.minCpuFraction * elapsedMs) / 1000)
      moved.push('cpuSeconds');
    // I/O counters can fall when a process exits, and an exit is activity too.
    if (after.ioBytes !== before.ioBytes) moved.push('ioBytes');
    if (after.outputBytes !== before.outputBytes) moved.push('outputBytes');
    if (after.folderFingerprint !== before.folderFingerprint) moved.push('folderFingerprint');
    return moved;
  }
}
