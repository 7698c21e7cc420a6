/**
 * The job watchdog: samples a running payload every few seconds and reports the first limit it
 * breaks, with the DIRAC minor status that names it.
 */
import { statfs } from 'node:fs/promises';
import { silentLogger, type Logger } from '../log.js';
import { readProcessIo, type ProcessInfo } from '../sandbox/index.js';
import { scanJobFolder } from './job-folder-scan.js';
import { StallDetector } from './stall-detector.js';
import { TreeCpuMeter } from './tree-cpu.js';

/** Limits of one job. A limit that is undefined or 0 is not checked. */
export interface WatchdogLimits {
  /** Wall-clock time of the payload, in seconds. */
  wallClockSeconds?: number;
  /** CPU time of the whole process tree, in seconds. */
  cpuSeconds?: number;
  /** Resident memory of the whole process tree, in bytes. */
  maxRssBytes?: number;
  /** Minimum free space in the job folder's file system, in bytes. Default 1 GB (1e9). */
  minFreeDiskBytes?: number;
  /** Maximum disk space used by the job folder, in bytes. */
  maxJobDirBytes?: number;
  /** Milliseconds without any progress after which the job is stalled. Default 30 min. */
  stallWindowMs?: number;
  /** CPU fraction of wall-clock time below which CPU use is no progress. Default 0.01. */
  stallMinCpuFraction?: number;
}

/** Source of the job's processes, such as a ProcessTreeKiller. */
export interface JobProcessSource {
  listJobProcesses(): Promise<ProcessInfo[]>;
  /** CPU seconds of the job's cgroup, exited processes included, when there is one. */
  cgroupCpuSeconds?(): Promise<number | undefined>;
}

/** Options of {@link Watchdog}. */
export interface WatchdogOptions {
  limits: WatchdogLimits;
  /** Milliseconds between checks. Default 5000. */
  intervalMs?: number;
  /** The job folder: its size and file changes are watched, and its file system's free space. */
  jobDir: string;
  processes: JobProcessSource;
  /** Returns the bytes the payload wrote to standard output and error so far. */
  getOutputBytes?: () => number;
  /** Absolute paths in the job folder that the pilot writes, such as its own log. */
  ignoredPaths?: readonly string[];
  log?: Logger;
}

/** One set of measurements of the running job. */
export interface WatchdogSample {
  /** Time of the sample, in milliseconds since the epoch. */
  takenAt: number;
  wallClockSeconds: number;
  cpuSeconds: number;
  rssBytes: number;
  vsizeBytes: number;
  processCount: number;
  /** Free space of the job folder's file system, in bytes, or undefined when statfs failed. */
  freeDiskBytes: number | undefined;
  jobDirBytes: number;
  ioBytes: number;
  outputBytes: number;
  /** Time of the last progress seen by the stall check, in milliseconds since the epoch. */
  lastProgressAt: number;
  stalled: boolean;
}

/** Limit a violation broke. */
export type WatchdogReason = 'wallClock' | 'cpu' | 'memory' | 'disk' | 'stalled';

/** A broken limit, with what the job's final status record needs. */
export interface WatchdogViolation {
  reason: WatchdogReason;
  /** Stable error code, such as `WATCHDOG_STALLED`. */
  code: string;
  /** DIRAC minor status for the Failed record. */
  minorStatus: string;
  /** Measured value and limit, in words, for the application status. */
  applicationStatus: string;
  sample: WatchdogSample;
}

/** Minor statuses, with DIRAC's wording (JobMinorStatus.py) for continuity of monitoring. */
export const WATCHDOG_MINOR_STATUS: Record<WatchdogReason, string> = {
  wallClock: 'Job has exceeded maximum wall clock time',
  cpu: 'Job has reached the CPU limit of the queue',
  // NOTE: DIRAC defines no minor status for memory (its Watchdog only logs a warning), so
  // this wording is this project's own.
  memory: 'Job has exceeded maximum memory',
  disk: 'Job has insufficient disk space to continue',
  stalled: 'Watchdog identified this job as stalled',
};

const CODES: Record<WatchdogReason, string> = {
  wallClock: 'WATCHDOG_WALL_CLOCK',
  cpu: 'WATCHDOG_CPU_LIMIT',
  memory: 'WATCHDOG_MEMORY_LIMIT',
  disk: 'WATCHDOG_DISK_SPACE',
  stalled: 'WATCHDOG_STALLED',
};

const DEFAULT_MIN_FREE_DISK_BYTES = 1e9;
const DEFAULT_STALL_WINDOW_MS = 30 * 60_000;

/**
 * Checks a running job against its limits. Start it when the payload starts and stop it when
 * the payload ends. It reports at most one violation, then stops checking, and the caller
 * kills the job.
 */
export class Watchdog {
  private readonly intervalMs: number;
  private readonly log: Logger;
  private readonly ignoredPaths: ReadonlySet<string>;
  private readonly cpuMeter = new TreeCpuMeter();
  private readonly stall: StallDetector;
  private startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private started = false;
  private pending: Promise<WatchdogSample> | undefined;
  private latest: WatchdogSample | undefined;

  constructor(private readonly options: WatchdogOptions) {
    this.intervalMs = options.intervalMs ?? 5000;
    this.log = options.log ?? silentLogger;
    this.ignoredPaths = new Set(options.ignoredPaths ?? []);
    this.stall = new StallDetector({
      windowMs: options.limits.stallWindowMs ?? DEFAULT_STALL_WINDOW_MS,
      minCpuFraction: options.limits.stallMinCpuFraction,
    });
  }

  /** Latest sample, or undefined before the first one. */
  get latestSample(): WatchdogSample | undefined {
    return this.latest;
  }

  /**
   * Starts the checks and the wall clock. A watchdog starts only once, so `onViolation` is
   * called at most once and later calls of `start` do nothing.
   */
  start(onViolation: (violation: WatchdogViolation) => void): void {
    if (this.started) return;
    this.started = true;
    this.running = true;
    this.startedAt = Date.now();
    this.log.info({ limits: this.options.limits, intervalMs: this.intervalMs }, 'watchdog started');

    const tick = async (): Promise<void> => {
      const violation = await this.check();
      if (!this.running) return;
      if (violation !== undefined) {
        this.stop();
        this.log.error(
          {
            reason: violation.reason,
            minorStatus: violation.minorStatus,
            sample: violation.sample,
          },
          'watchdog limit exceeded',
        );
        onViolation(violation);
        return;
      }
      this.timer = setTimeout(() => void tick(), this.intervalMs);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  /** Stops the checks. A sample in progress still completes. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    this.log.info('watchdog stopped');
  }

  /**
   * Measures the job now and returns the numbers, so a heartbeat can reuse them. Concurrent
   * calls share one measurement.
   */
  sample(): Promise<WatchdogSample> {
    this.pending ??= this.measure().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async check(): Promise<WatchdogViolation | undefined> {
    try {
      return findViolation(await this.sample(), this.options.limits);
    } catch (error) {
      this.log.warn({ err: error }, 'watchdog sample failed');
      return undefined;
    }
  }

  private async measure(): Promise<WatchdogSample> {
    const now = Date.now();
    const processes = await this.options.processes.listJobProcesses();
    const cgroupCpu = (await this.options.processes.cgroupCpuSeconds?.()) ?? 0;
    const cpuSeconds = Math.max(this.cpuMeter.update(processes), cgroupCpu);
    const ioBytes = await sumIoBytes(processes);
    const folder = await scanJobFolder(this.options.jobDir, this.ignoredPaths);
    const disk = await statfs(this.options.jobDir).catch(() => undefined);
    const outputBytes = this.options.getOutputBytes?.() ?? 0;

    const stall = this.stall.update(
      { cpuSeconds, ioBytes, outputBytes, folderFingerprint: folder.fingerprint },
      now,
    );
    let rssBytes = 0;
    let vsizeBytes = 0;
    for (const info of processes) {
      rssBytes += info.rssBytes;
      vsizeBytes += info.vsizeBytes;
    }

    this.latest = {
      takenAt: now,
      wallClockSeconds: (now - this.startedAt) / 1000,
      cpuSeconds,
      rssBytes,
      vsizeBytes,
      processCount: processes.length,
      freeDiskBytes: disk ? disk.bavail * disk.bsize : undefined,
      jobDirBytes: folder.bytes,
      ioBytes,
      outputBytes,
      lastProgressAt: stall.lastProgressAt,
      stalled: stall.stalled,
    };
    this.log.debug({ sample: this.latest, moved: stall.moved }, 'watchdog sample');
    return this.latest;
  }
}

async function sumIoBytes(processes: readonly ProcessInfo[]): Promise<number> {
  const counters = await Promise.all(processes.map((info) => readProcessIo(info.pid)));
  let total = 0;
  for (const io of counters) {
    if (io) total += io.rchar + io.wchar + io.readBytes + io.writeBytes;
  }
  return total;
}

/**
 * Returns the first limit that `sample` breaks, checked in this order: wall clock, CPU,
 * memory, disk, stall. Returns undefined when the sample is within every limit.
 */
export function findViolation(
  sample: WatchdogSample,
  limits: WatchdogLimits,
): WatchdogViolation | undefined {
  const violation = (reason: WatchdogReason, applicationStatus: string): WatchdogViolation => ({
    reason,
    code: CODES[reason],
    minorStatus: WATCHDOG_MINOR_STATUS[reason],
    applicationStatus,
    sample,
  });

  if (limits.wallClockSeconds && sample.wallClockSeconds > limits.wallClockSeconds) {
    return violation(
      'wallClock',
      `wall clock ${seconds(sample.wallClockSeconds)} over the limit of ${seconds(limits.wallClockSeconds)}`,
    );
  }
  if (limits.cpuSeconds && sample.cpuSeconds > limits.cpuSeconds) {
    return violation(
      'cpu',
      `CPU time ${seconds(sample.cpuSeconds)} over the limit of ${seconds(limits.cpuSeconds)}`,
    );
  }
  if (limits.maxRssBytes && sample.rssBytes > limits.maxRssBytes) {
    return violation(
      'memory',
      `resident memory ${megabytes(sample.rssBytes)} over the limit of ${megabytes(limits.maxRssBytes)}`,
    );
  }
  const minFree = limits.minFreeDiskBytes ?? DEFAULT_MIN_FREE_DISK_BYTES;
  if (minFree > 0 && sample.freeDiskBytes !== undefined && sample.freeDiskBytes < minFree) {
    return violation(
      'disk',
      `free disk ${megabytes(sample.freeDiskBytes)} below the minimum of ${megabytes(minFree)}`,
    );
  }
  if (limits.maxJobDirBytes && sample.jobDirBytes > limits.maxJobDirBytes) {
    return violation(
      'disk',
      `job folder ${megabytes(sample.jobDirBytes)} over the limit of ${megabytes(limits.maxJobDirBytes)}`,
    );
  }
  if (sample.stalled) {
    const idle = seconds((sample.takenAt - sample.lastProgressAt) / 1000);
    return violation('stalled', `no CPU, I/O, output or file progress for ${idle}`);
  }
  return undefined;
}

function seconds(value: number): string {
  return `${Math.round(value)} s`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
