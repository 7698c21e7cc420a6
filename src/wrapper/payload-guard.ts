import { loadavg } from 'node:os';
import type { Logger } from '../log.js';
import { ProcessTreeKiller } from '../sandbox/index.js';
import type { HeartbeatData } from '../wms/types.js';
import { Watchdog, type WatchdogLimits, type WatchdogViolation } from './watchdog.js';

/** Watchdog and kill settings of a job, from the pilot's configuration and the job. */
export interface GuardSettings {
  limits: WatchdogLimits;
  /** Seconds between two watchdog checks. */
  intervalSeconds: number;
  /** Seconds between TERM and KILL when the payload is stopped. */
  killGraceSeconds: number;
}

/** Options of {@link PayloadGuard}. */
export interface PayloadGuardOptions {
  jobId: number;
  /** The job's own folder, watched for size and changes. */
  jobDir: string;
  /** Files the wrapper itself writes in the job folder; they are not payload progress. */
  ignoredPaths: string[];
  settings: GuardSettings;
  /** Marker for the payload's environment, journalled so a later pilot can find the job. */
  marker: string;
  /** Bytes the payload has written to its standard output and error so far. */
  getOutputBytes: () => number;
  log: Logger;
}

/**
 * Watches and ends one job's payload. Every payload process carries the job's marker and,
 * where the machine allows, joins the job's control group. The watchdog checks the limits on
 * the whole process tree, and `finish` leaves no process of the job running.
 */
export class PayloadGuard {
  private readonly killer: ProcessTreeKiller;
  private readonly watchdog: Watchdog;
  private readonly startedAt = Date.now();
  private termination: Promise<void> | undefined;

  constructor(private readonly options: PayloadGuardOptions) {
    this.killer = new ProcessTreeKiller({
      jobId: options.jobId,
      graceMs: options.settings.killGraceSeconds * 1000,
      marker: options.marker,
      log: options.log,
    });
    this.watchdog = new Watchdog({
      limits: options.settings.limits,
      intervalMs: options.settings.intervalSeconds * 1000,
      jobDir: options.jobDir,
      processes: this.killer,
      getOutputBytes: options.getOutputBytes,
      ignoredPaths: options.ignoredPaths,
      log: options.log,
    });
  }

  /** Variables every payload process must carry so that the guard finds it. */
  get environment(): Record<string, string> {
    return this.killer.environment;
  }

  /** Sets up the job's control group, when there is one, and starts the watchdog. */
  async start(onViolation: (violation: WatchdogViolation) => void): Promise<void> {
    await this.killer.prepare();
    this.watchdog.start(onViolation);
  }

  /** Registers a payload process as soon as it started. */
  addProcess(pid: number): void {
    void this.killer.addProcess(pid).catch((error: unknown) => {
      this.options.log.debug({ err: error, pid }, 'payload process not added to the job group');
    });
  }

  /** Numbers for the job's heartbeat, from the watchdog's latest look at the process tree. */
  heartbeatData(): HeartbeatData {
    const sample = this.watchdog.latestSample;
    const wallClock = Math.round((Date.now() - this.startedAt) / 1000);
    const data: HeartbeatData = {
      LoadAverage: Number((loadavg()[0] ?? 0).toFixed(2)),
      WallClockTime: wallClock,
    };
    if (!sample) return data;
    data.MemoryUsed = Math.round(sample.rssBytes / 1e6);
    data.Vsize = Math.round(sample.vsizeBytes / 1e6);
    data.CPUConsumed = Math.round(sample.cpuSeconds);
    if (sample.freeDiskBytes !== undefined) {
      data.AvailableDiskSpace = Math.floor(sample.freeDiskBytes / 1e6);
    }
    return data;
  }

  /** Sends SIGKILL at once to every process of the job, for a pilot out of time. */
  async killNow(): Promise<void> {
    this.watchdog.stop();
    await this.killer.kill(0);
  }

  /**
   * Starts ending every process of the job now: TERM, the grace period, then KILL. Used when
   * the job is stopped, so a payload that ignores TERM does not wait for its own runner.
   */
  terminate(): Promise<void> {
    this.watchdog.stop();
    this.termination ??= this.killTree();
    return this.termination;
  }

  /** Stops the watchdog and ends every process of the job that is still running. */
  async finish(): Promise<void> {
    try {
      await this.terminate();
    } finally {
      await this.killer.dispose();
    }
  }

  private async killTree(): Promise<void> {
    const result = await this.killer.kill();
    if (result.survivors.length > 0) {
      this.options.log.error({ pids: result.survivors }, 'payload processes survived KILL');
    } else if (result.terminated.length + result.killed.length > 0) {
      this.options.log.info(
        { terminated: result.terminated.length, killed: result.killed.length },
        'leftover payload processes ended',
      );
    }
  }
}
