import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { PilotConfig } from '../config/index.js';
import { WmsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { NodeProbe } from '../probe/index.js';
import type { MatchedJob } from '../wms/types.js';
import type { WmsClient } from '../wms/index.js';
import {
  startJob,
  type GuardSettings,
  type JobOutcome,
  type RunningJob,
} from '../wrapper/index.js';
import { Backoff } from './backoff.js';
import type { Journal } from '../journal/index.js';
import type { HeartbeatLoop } from './heartbeat-loop.js';
import { SlotPool, type SlotShare } from './slots.js';
import type { WallTimeBudget } from './time-budget.js';

/** Counts of how the pilot's jobs ended. */
export type JobTally = Record<JobOutcome, number>;

/** Dependencies of the match loop, given by the pilot. */
export interface MatchLoopContext {
  config: PilotConfig;
  client: WmsClient;
  heartbeats: HeartbeatLoop;
  probe: NodeProbe;
  budget: WallTimeBudget;
  journal: Journal;
  log: Logger;
}

// Interval at which the waiting loop checks the drain file, the wall-time budget and finished
// jobs. It is short so that a drain or a stop takes effect within a second or two.
const CHECK_INTERVAL_MS = 1000;

/**
 * Requests jobs from the central service while a slot is free and runs them side by side,
 * each with its share of cores and memory. It ends when the pilot is idle for the configured
 * time, reaches its job limit, runs short of wall time or disk, finds the drain file, or is
 * stopped.
 */
export class MatchLoop {
  private readonly pool: SlotPool;
  private readonly running = new Map<number, { job: RunningJob; share: SlotShare }>();
  private readonly backoff: Backoff;
  private readonly tally: JobTally = { Done: 0, Failed: 0, Rescheduled: 0, Killed: 0 };
  private stopReason: string | undefined;
  private wake: (() => void) | undefined;
  private jobCount = 0;
  private readonly deliveries = new Set<Promise<void>>();
  private fastFailures: { jobId: number; seconds: number }[] = [];
  private blackHole: string | undefined;
  private lastRetryAfter: number | undefined;

  constructor(private readonly context: MatchLoopContext) {
    const { slot } = context.probe;
    this.pool = new SlotPool(slot.cores, slot['ram-mb']);
    this.backoff = new Backoff(context.config.matchBackoffMin, context.config.matchBackoffMax);
  }

  /** Jobs run so far, by outcome. */
  get jobs(): JobTally {
    return { ...this.tally };
  }

  /** The evidence, when the pilot stopped because its jobs kept failing fast. */
  get blackHoleEvidence(): string | undefined {
    return this.blackHole;
  }

  /** Number of jobs running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Stops asking for jobs. With `stopJobs`, running payloads are stopped and rescheduled. */
  stop(reason: string, stopJobs: boolean): void {
    this.stopReason ??= reason;
    if (stopJobs) {
      for (const { job } of this.running.values()) job.stop(reason);
    }
    this.wake?.();
  }

  /** Sends SIGKILL to every process of every running job, for a pilot out of time. */
  async killAllNow(): Promise<void> {
    await Promise.all([...this.running.values()].map(({ job }) => job.killNow()));
  }

  /** Runs until there is no more to do, waits for running jobs, and returns why it ended. */
  async run(): Promise<string> {
    const reason = await this.matchWhileUseful();
    this.stopReason ??= reason;
    while (this.running.size > 0) {
      this.checkWallTime();
      await this.waitForChange(CHECK_INTERVAL_MS);
    }
    await this.waitForDeliveries();
    return reason;
  }

  private trackDelivery(delivered: Promise<void>): void {
    const tracked = delivered.finally(() => this.deliveries.delete(tracked));
    this.deliveries.add(tracked);
  }

  /**
   * Waits, within the service deadline, for finished jobs whose records or output sandbox
   * are still being retried. What is left stays in the journal for the next pilot.
   */
  private async waitForDeliveries(): Promise<void> {
    if (this.deliveries.size === 0) return;
    const limitMs = this.context.config.serviceDeadline * 1000;
    this.context.log.info({ jobs: this.deliveries.size }, 'waiting for pending job deliveries');
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, limitMs).unref());
    await Promise.race([Promise.all(this.deliveries), timeout]);
    if (this.deliveries.size > 0) {
      this.context.log.warn({ jobs: this.deliveries.size }, 'job deliveries left in the journal');
    }
  }

  private async matchWhileUseful(): Promise<string> {
    let idleSince = Date.now();
    for (;;) {
      const reason = this.stopReason ?? (await this.reasonToStopMatching());
      if (reason !== undefined) return reason;
      this.checkWallTime();

      if (!this.pool.hasRoom) {
        await this.waitForChange(CHECK_INTERVAL_MS);
        continue;
      }
      const matched = await this.matchOne();
      if (matched) {
        idleSince = Date.now();
        continue;
      }

      if (this.running.size > 0) idleSince = Date.now();
      const idleSeconds = (Date.now() - idleSince) / 1000;
      if (idleSeconds >= this.context.config.idleTimeout) {
        return `no job matched for ${Math.round(idleSeconds)} s`;
      }
      const wait = Math.min(
        this.lastRetryAfter ?? this.backoff.next(),
        this.context.config.idleTimeout - idleSeconds,
      );
      this.context.log.debug({ waitSeconds: wait }, 'no job matched');
      await this.waitForChange(Math.max(0, wait) * 1000);
    }
  }

  /** Asks for one job for the free slot and starts it; returns false when none matched. */
  private async matchOne(): Promise<boolean> {
    const { client, probe } = this.context;
    const free = this.pool.free;
    const wallTime = this.context.budget.secondsForNewJob() ?? probe.slot['wall-time'];
    const result = await client.match({
      node: probe.node,
      slot: {
        cores: free.cores,
        'ram-mb': free.ramMb,
        'wall-time': wallTime,
        'scratch-mb': probe.slot['scratch-mb'],
      },
      benchmark: probe.benchmark,
    });
    if (result.kind === 'refused') {
      throw new WmsError(
        'WMS_VERSION_REFUSED',
        `central service refused this pilot: ${result.detail}`,
      );
    }
    if (result.kind === 'none') {
      this.lastRetryAfter = result.retryAfterSeconds;
      return false;
    }
    this.lastRetryAfter = undefined;
    this.backoff.reset();
    this.start(result.job);
    return true;
  }

  private start(job: MatchedJob): void {
    const log = this.context.log.child({ jobId: job.job_id });
    const share = this.pool.allocate(job.requirements ?? {});
    log.info({ owner: job.owner, requirements: job.requirements, share }, 'job matched');
    this.jobCount += 1;
    void this.context.client
      .setPilotStatus({ CurrentJobID: job.job_id })
      .catch((error: unknown) => {
        log.warn({ err: error }, 'pilot record update failed');
      });

    const running = startJob({
      client: this.context.client,
      job,
      heartbeats: this.context.heartbeats,
      jobsDir: join(this.context.config.workDir, 'jobs'),
      slot: share,
      payloadPathPrepend: this.context.config.payloadPathPrepend,
      keepJobDir: this.context.config.keepJobDirs,
      log,
      recordTransfer: (bytes, seconds) => this.context.budget.recordTransfer(bytes, seconds),
      guard: this.guardSettings(job, share),
      journal: this.context.journal,
      onDeliveryPending: (delivered) => this.trackDelivery(delivered),
    });
    this.running.set(job.job_id, { job: running, share });
    const startedAt = Date.now();
    void running.outcome.then((outcome) => {
      this.running.delete(job.job_id);
      this.pool.release(share);
      this.tally[outcome] += 1;
      log.info({ outcome }, 'job finished');
      this.checkBlackHole(job.job_id, outcome, (Date.now() - startedAt) / 1000);
      this.wake?.();
    });
  }

  /**
   * Counts jobs that fail soon after they start. After too many in a row the node counts as
   * a black hole, so the pilot stops matching and stops the jobs it still runs.
   */
  private checkBlackHole(jobId: number, outcome: JobOutcome, seconds: number): void {
    const { blackHoleJobs, blackHoleSeconds } = this.context.config;
    if (blackHoleJobs === 0 || this.blackHole !== undefined) return;
    if (outcome !== 'Failed' || seconds > blackHoleSeconds) {
      this.fastFailures = [];
      return;
    }
    this.fastFailures.push({ jobId, seconds: Math.round(seconds) });
    if (this.fastFailures.length < blackHoleJobs) return;

    const evidence = this.fastFailures.map((failure) => `${failure.jobId} (${failure.seconds} s)`);
    this.blackHole = `${this.fastFailures.length} jobs in a row failed within ${blackHoleSeconds} s of starting: ${evidence.join(', ')}`;
    this.context.log.error({ jobs: this.fastFailures }, 'black hole suspected; stopping');
    this.stop(`black hole: ${this.blackHole}`, true);
  }

  /**
   * Watchdog limits of a job: the wall time and CPU work it asked for, and the memory of its
   * share. CPU work is in benchmark units times seconds, so the CPU limit in seconds on this
   * node is the work divided by the node's benchmark.
   */
  private guardSettings(job: MatchedJob, share: SlotShare): GuardSettings {
    const { config, probe } = this.context;
    const requirements = job.requirements ?? {};
    const cpuWork = requirements['cpu-work'];
    return {
      intervalSeconds: config.watchdogInterval,
      killGraceSeconds: config.killGrace,
      limits: {
        wallClockSeconds: requirements['wall-time'],
        cpuSeconds: cpuWork && probe.benchmark > 0 ? cpuWork / probe.benchmark : undefined,
        maxRssBytes: share.ramMb * 1024 * 1024,
        minFreeDiskBytes: config.minRunningDiskMb * 1e6,
        maxJobDirBytes: config.maxJobDirMb > 0 ? config.maxJobDirMb * 1e6 : undefined,
        stallWindowMs: config.stallWindow * 1000,
      },
    };
  }

  private async reasonToStopMatching(): Promise<string | undefined> {
    const { config, budget } = this.context;
    if (config.maxJobs > 0 && this.jobCount >= config.maxJobs) return 'job limit reached';
    if (config.drainFile && existsSync(config.drainFile)) {
      this.context.log.warn({ drainFile: config.drainFile }, 'drain file found');
      return `drain file ${config.drainFile} found`;
    }
    const forNewJob = budget.secondsForNewJob();
    if (forNewJob !== undefined && forNewJob < config.minJobWallTime) {
      return `${forNewJob} s of wall time left for a new job, below ${config.minJobWallTime} s`;
    }
    return this.checkFreeDisk();
  }

  /** Stops running payloads once only the upload reserve is left, so their logs still ship. */
  private checkWallTime(): void {
    const left = this.context.budget.secondsLeft();
    if (left === undefined || this.running.size === 0) return;
    if (left > this.context.budget.uploadReserveSeconds()) return;
    this.stop(`wall time of the allocation nearly over (${Math.floor(left)} s left)`, true);
  }

  private async checkFreeDisk(): Promise<string | undefined> {
    const { config, log } = this.context;
    const stats = await statfs(config.workDir);
    const freeMb = (stats.bavail * stats.bsize) / 1e6;
    if (freeMb >= config.minFreeDiskMb) return undefined;
    log.error(
      { freeMb: Math.floor(freeMb), minFreeDiskMb: config.minFreeDiskMb },
      'not enough free disk',
    );
    return `free disk ${Math.floor(freeMb)} MB is below ${config.minFreeDiskMb} MB`;
  }

  /** Waits up to `ms`, or less when a job finishes or the loop is stopped. */
  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}
