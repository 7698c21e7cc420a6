import { mkdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PilotConfig } from '../config/index.js';
import { WmsError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { probeNode, type NodeProbe } from '../probe/index.js';
import { PILOT_VERSION } from '../version.js';
import { WmsClient } from '../wms/index.js';
import { runJob, type JobOutcome } from '../wrapper/index.js';
import { Backoff } from './backoff.js';
import { HeartbeatLoop } from './heartbeat-loop.js';

/** Exit codes of `ctao-pilot run`; `--help` lists them. */
export const PilotExitCode = {
  Finished: 0,
  Failed: 1,
  BadConfiguration: 2,
  ServiceUnavailable: 3,
  VersionRefused: 4,
} as const;

/** Counts of how the pilot's jobs ended. */
export type JobTally = Record<JobOutcome, number>;

/**
 * The pilot: logs in, registers as Running, asks for jobs that fit the node until it has
 * been idle for the configured time (or reached its job limit, or was asked to stop), runs
 * each job through the wrapper, and sets its record to Done or Failed before it leaves.
 */
export class Pilot {
  private readonly client: WmsClient;
  private readonly heartbeats: HeartbeatLoop;
  private readonly tally: JobTally = { Done: 0, Failed: 0, Rescheduled: 0, Killed: 0 };
  private stopReason: string | undefined;
  private failure: string | undefined;

  constructor(
    private readonly config: PilotConfig,
    private readonly log: Logger,
  ) {
    this.client = new WmsClient({
      baseUrl: config.serviceUrl,
      pilotStamp: config.pilotStamp,
      clientVersion: PILOT_VERSION,
      credentials: { kind: 'pilot-secret', secret: config.secret },
      caFile: config.caFile,
      retry: { deadlineMs: config.serviceDeadline * 1000 },
      log,
    });
    this.heartbeats = new HeartbeatLoop(this.client, log);
  }

  /** Jobs run so far, by outcome. */
  get jobs(): JobTally {
    return { ...this.tally };
  }

  /** Reason the pilot failed, or undefined; printed as a last plain line on standard error. */
  get failureMessage(): string | undefined {
    return this.failure;
  }

  /** Asks the pilot to stop matching; the running job finishes. */
  requestStop(reason: string): void {
    this.stopReason ??= reason;
  }

  /** Runs the pilot to its end and returns its exit code. */
  async run(): Promise<number> {
    try {
      await this.client.login({
        vo: this.config.vo,
        grid_type: this.config.gridType,
        grid_site: this.config.site,
        status: 'Running',
      });
    } catch (error) {
      this.log.error({ err: error, url: this.config.serviceUrl }, 'login failed');
      this.failure = `login failed: ${describeError(error)}`;
      return PilotExitCode.ServiceUnavailable;
    }

    let code: number = PilotExitCode.Finished;
    let reason: string;
    try {
      const probe = await this.probe();
      await this.client.setPilotStatus({
        Status: 'Running',
        GridSite: this.config.site,
        Queue: this.config.queue || undefined,
        BenchMark: probe.benchmark,
      });
      reason = await this.matchLoop(probe);
    } catch (error) {
      code =
        error instanceof WmsError && error.code === 'WMS_VERSION_REFUSED'
          ? PilotExitCode.VersionRefused
          : PilotExitCode.Failed;
      reason = describeError(error);
      this.failure = reason;
      this.log.error({ err: error }, 'pilot stopping after an error');
    }

    await this.heartbeats.stop();
    await this.finish(code === PilotExitCode.Finished ? 'Done' : 'Failed', reason);
    return code;
  }

  private async probe(): Promise<NodeProbe> {
    await mkdir(this.config.workDir, { recursive: true });
    const probe = await probeNode({
      workDir: this.config.workDir,
      site: this.config.site,
      ce: this.config.ce || undefined,
      queue: this.config.queue || undefined,
      cores: this.config.cores,
      ramMb: this.config.ramMb,
      wallTimeSeconds: this.config.wallTime,
      tags: this.config.tags,
      log: this.log,
    });
    this.log.info(
      { node: probe.node, slot: probe.slot, benchmark: probe.benchmark },
      'node probed',
    );
    return probe;
  }

  private async matchLoop(probe: NodeProbe): Promise<string> {
    const backoff = new Backoff(this.config.matchBackoffMin, this.config.matchBackoffMax);
    const jobsDir = join(this.config.workDir, 'jobs');
    let idleSince = Date.now();
    let jobCount = 0;

    while (this.stopReason === undefined) {
      if (this.config.maxJobs > 0 && jobCount >= this.config.maxJobs) return 'job limit reached';
      const lowDisk = await this.checkFreeDisk();
      if (lowDisk) return lowDisk;

      const result = await this.client.match({
        node: probe.node,
        slot: probe.slot,
        benchmark: probe.benchmark,
      });
      if (result.kind === 'refused') {
        throw new WmsError(
          'WMS_VERSION_REFUSED',
          `central service refused this pilot: ${result.detail}`,
        );
      }
      if (result.kind === 'job') {
        jobCount += 1;
        backoff.reset();
        await this.runMatchedJob(result.job, probe, jobsDir);
        idleSince = Date.now();
        continue;
      }

      const idleSeconds = (Date.now() - idleSince) / 1000;
      if (idleSeconds >= this.config.idleTimeout)
        return `no job matched for ${Math.round(idleSeconds)} s`;
      const wait = result.retryAfterSeconds ?? backoff.next();
      const remaining = this.config.idleTimeout - idleSeconds;
      this.log.debug({ waitSeconds: wait }, 'no job matched');
      await sleep(Math.max(0, Math.min(wait, remaining)) * 1000);
    }
    return this.stopReason;
  }

  private async runMatchedJob(
    job: Parameters<typeof runJob>[0]['job'],
    probe: NodeProbe,
    jobsDir: string,
  ): Promise<void> {
    const log = this.log.child({ jobId: job.job_id });
    log.info({ owner: job.owner, requirements: job.requirements }, 'job matched');
    await this.client.setPilotStatus({ CurrentJobID: job.job_id }).catch((error: unknown) => {
      log.warn({ err: error }, 'pilot record update failed');
    });

    const outcome = await runJob({
      client: this.client,
      job,
      heartbeats: this.heartbeats,
      jobsDir,
      slot: { cores: probe.slot.cores, ramMb: probe.slot['ram-mb'] },
      payloadPathPrepend: this.config.payloadPathPrepend,
      keepJobDir: this.config.keepJobDirs,
      log,
    });
    this.tally[outcome] += 1;
    log.info({ outcome }, 'job finished');
  }

  private async checkFreeDisk(): Promise<string | undefined> {
    const stats = await statfs(this.config.workDir);
    const freeMb = (stats.bavail * stats.bsize) / 1e6;
    if (freeMb >= this.config.minFreeDiskMb) return undefined;
    this.log.error(
      { freeMb: Math.floor(freeMb), minFreeDiskMb: this.config.minFreeDiskMb },
      'not enough free disk',
    );
    return `free disk ${Math.floor(freeMb)} MB is below ${this.config.minFreeDiskMb} MB`;
  }

  private async finish(status: 'Done' | 'Failed', reason: string): Promise<void> {
    this.log.info({ status, reason, jobs: this.tally }, 'pilot finished');
    try {
      await this.client.setPilotStatus({ Status: status, StatusReason: reason });
    } catch (error) {
      this.log.error({ err: error }, 'pilot record update failed');
    }
  }
}
