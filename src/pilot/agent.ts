import { mkdir } from 'node:fs/promises';
import type { PilotConfig } from '../config/index.js';
import { WmsError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { probeNode, type NodeProbe } from '../probe/index.js';
import { PILOT_VERSION } from '../version.js';
import { Journal, recoverJournal } from '../journal/index.js';
import { WmsClient } from '../wms/index.js';
import { HeartbeatLoop } from './heartbeat-loop.js';
import { MatchLoop, type JobTally } from './match-loop.js';
import { WallTimeBudget } from './time-budget.js';

export type { JobTally } from './match-loop.js';

/** Exit codes of `ctao-pilot run`; `--help` lists them. */
export const PilotExitCode = {
  Finished: 0,
  Failed: 1,
  BadConfiguration: 2,
  ServiceUnavailable: 3,
  VersionRefused: 4,
  Signalled: 5,
  BlackHole: 6,
} as const;

/** Signals a batch system sends to end or warn a job; each one stops the pilot. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGUSR1',
  'SIGUSR2',
  'SIGXCPU',
];

// After a second signal the pilot keeps at most this long for its last reports.
const SECOND_SIGNAL_BUDGET_SECONDS = 5;

/**
 * The pilot: logs in, registers as Running, runs the match loop, and sets its record to
 * Done, Failed or Aborted before it leaves. A batch-system signal stops matching and running
 * payloads, reschedules their jobs and makes the pilot leave within its signal budget.
 */
export class Pilot {
  private readonly client: WmsClient;
  private readonly heartbeats: HeartbeatLoop;
  private loop: MatchLoop | undefined;
  private signal: NodeJS.Signals | undefined;
  private signalDeadline: { at: number; expire: () => void } | undefined;
  private failure: string | undefined;
  private loggedIn = false;
  private readonly journal: Journal;
  private readonly config: PilotConfig;
  private readonly log: Logger;

  /** @param baseLog logger without the pilot stamp; the pilot binds the stamp it settles on */
  constructor(config: PilotConfig, baseLog: Logger) {
    this.journal = Journal.open(config.workDir, baseLog);
    const earlierStamp = this.journal.pilotStamp;
    // A pilot restarted on the same folder without a stamp of its own takes the stamp its
    // jobs were matched under, since the service gives job tokens only to that pilot.
    this.config =
      config.pilotStampGenerated && earlierStamp ? { ...config, pilotStamp: earlierStamp } : config;
    this.journal.start(this.config.pilotStamp);
    this.log = baseLog.child({ pilotStamp: this.config.pilotStamp });
    const log = this.log;
    this.client = new WmsClient({
      baseUrl: config.serviceUrl,
      pilotStamp: this.config.pilotStamp,
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
    return this.loop?.jobs ?? { Done: 0, Failed: 0, Rescheduled: 0, Killed: 0 };
  }

  /** The central-service client once the pilot has logged in, or undefined before. */
  get serviceClient(): WmsClient | undefined {
    return this.loggedIn ? this.client : undefined;
  }

  /** Reason the pilot failed, or undefined; printed as a last plain line on standard error. */
  get failureMessage(): string | undefined {
    return this.failure;
  }

  /**
   * Handles a signal from the batch system. The first one stops matching and every payload and
   * starts the signal budget. A second one cuts what is left of the budget to a few seconds.
   */
  handleSignal(signal: NodeJS.Signals): void {
    const now = Date.now();
    if (this.signal === undefined) {
      this.signal = signal;
      this.log.warn(
        { signal, budgetSeconds: this.config.signalBudget },
        'signal received; stopping',
      );
      this.setSignalDeadline(now + this.config.signalBudget * 1000);
      this.loop?.stop(`pilot stopped by ${signal}`, true);
      return;
    }
    const shortened = Math.min(
      this.signalDeadline?.at ?? Infinity,
      now + SECOND_SIGNAL_BUDGET_SECONDS * 1000,
    );
    this.log.warn(
      { signal, secondsLeft: (shortened - now) / 1000 },
      'second signal; leaving sooner',
    );
    this.setSignalDeadline(shortened);
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
    this.loggedIn = true;

    const work = this.work(this.journal);
    const deadline = new Promise<{ code: number; reason: string }>((resolve) => {
      this.signalDeadline = {
        at: Infinity,
        expire: () => resolve(this.signalOutcome('budget used up')),
      };
    });
    const { code, reason } = await Promise.race([work, deadline]);
    if (code === PilotExitCode.Signalled && this.loop && this.loop.runningCount > 0) {
      // The budget ran out before every payload ended: nothing of a job may outlive the pilot.
      await this.loop.killAllNow();
    }

    await this.heartbeats.stop();
    await this.finish(this.pilotStatus(code), reason);
    this.journal.close();
    return code;
  }

  private async work(journal: Journal): Promise<{ code: number; reason: string }> {
    try {
      const recovered = await recoverJournal(journal, this.client, this.log);
      if (recovered > 0) this.log.info({ jobs: recovered }, 'jobs of an earlier pilot delivered');
      const probe = await this.probe();
      await this.client.setPilotStatus({
        Status: 'Running',
        GridSite: this.config.site,
        Queue: this.config.queue || undefined,
        BenchMark: probe.benchmark,
      });
      const budget = this.makeBudget(probe);
      this.loop = new MatchLoop({
        config: this.config,
        client: this.client,
        heartbeats: this.heartbeats,
        probe,
        budget,
        journal,
        log: this.log,
      });
      if (this.signal !== undefined) this.loop.stop(`pilot stopped by ${this.signal}`, true);
      const reason = await this.loop.run();
      if (this.signal !== undefined) return this.signalOutcome('all jobs stopped');
      const blackHole = this.loop.blackHoleEvidence;
      if (blackHole !== undefined) {
        this.failure = `stopped as a black hole: ${blackHole}`;
        return { code: PilotExitCode.BlackHole, reason: this.failure };
      }
      return { code: PilotExitCode.Finished, reason };
    } catch (error) {
      const refused = error instanceof WmsError && error.code === 'WMS_VERSION_REFUSED';
      this.failure = describeError(error);
      this.log.error({ err: error }, 'pilot stopping after an error');
      return {
        code: refused ? PilotExitCode.VersionRefused : PilotExitCode.Failed,
        reason: this.failure,
      };
    }
  }

  private signalOutcome(detail: string): { code: number; reason: string } {
    const jobs = this.jobs;
    return {
      code: PilotExitCode.Signalled,
      reason: `stopped by ${this.signal ?? 'a signal'} from the batch system (${detail}); ${jobs.Rescheduled} jobs rescheduled, ${this.loop?.runningCount ?? 0} still running`,
    };
  }

  private setSignalDeadline(at: number): void {
    if (!this.signalDeadline) return;
    this.signalDeadline.at = at;
    const timer = setTimeout(() => this.signalDeadline?.expire(), Math.max(0, at - Date.now()));
    timer.unref();
  }

  private pilotStatus(code: number): 'Done' | 'Failed' | 'Aborted' {
    if (code === PilotExitCode.Finished) return 'Done';
    if (code === PilotExitCode.Signalled) return 'Aborted';
    return 'Failed';
  }

  private makeBudget(probe: NodeProbe): WallTimeBudget {
    const seconds = probe.timeBudget.wallTimeLeftSeconds;
    const endsAt = seconds === null ? undefined : probe.timeBudget.readAt + seconds * 1000;
    this.log.info({ wallTimeLeftSeconds: seconds, source: probe.timeBudget.source }, 'time budget');
    return new WallTimeBudget(endsAt, this.config.uploadReserve);
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

  private async finish(status: 'Done' | 'Failed' | 'Aborted', reason: string): Promise<void> {
    this.log.info({ status, reason, jobs: this.jobs }, 'pilot finished');
    try {
      await this.client.setPilotStatus({ Status: status, StatusReason: reason });
    } catch (error) {
      this.log.error({ err: error }, 'pilot record update failed');
    }
  }
}
