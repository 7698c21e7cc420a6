import type { Logger } from '../log.js';
import type { HeartbeatData, HeartbeatResult, JobCommand, JobId } from '../wms/types.js';

/** Data source and command handler of one running job, as the heartbeat loop uses it. */
export interface HeartbeatSource {
  /** Collects the job's current numbers; called once per beat. */
  collect(): Promise<HeartbeatData>;
  /** Receives a command the service sent for the job. Commands arrive once: act on each. */
  onCommand(command: JobCommand): void;
  /** Seconds between heartbeats, as the match response requested. */
  intervalSeconds: number;
}

/** The part of the central-service client the loop uses. */
export interface HeartbeatSender {
  heartbeat(data: Record<string, HeartbeatData>): Promise<HeartbeatResult>;
}

// A job whose heartbeat gets a bare 500 this many beats in a row is dropped. DiracX returns
// 500 for a job it does not know, but a passing fault looks the same.
const UNKNOWN_JOB_BEATS_BEFORE_DROP = 3;

/**
 * Sends one heartbeat request for every running job of the pilot. A job is beaten at once
 * when it is added (so the service marks it alive before its input sandbox is fetched), then
 * every interval; the interval is the shortest any running job asked for.
 */
export class HeartbeatLoop {
  private readonly sources = new Map<JobId, HeartbeatSource>();
  private readonly unknownCounts = new Map<JobId, number>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private pending = false;

  constructor(
    private readonly sender: HeartbeatSender,
    private readonly log: Logger,
  ) {}

  /** Adds a job and beats at once. */
  add(jobId: JobId, source: HeartbeatSource): Promise<void> {
    this.sources.set(jobId, source);
    this.reschedule();
    return this.beatNow();
  }

  /** Removes a job; its final status is sent by its wrapper. */
  remove(jobId: JobId): void {
    this.sources.delete(jobId);
    this.unknownCounts.delete(jobId);
    this.reschedule();
  }

  /** Stops the timer; no beat starts after this returns. */
  async stop(): Promise<void> {
    this.sources.clear();
    this.reschedule();
    await this.beating;
  }

  /** Sends a heartbeat now, or right after the one in flight. */
  beatNow(): Promise<void> {
    if (this.beating) {
      this.pending = true;
      return this.beating;
    }
    this.beating = this.beat().finally(() => {
      this.beating = undefined;
      if (this.pending) {
        this.pending = false;
        void this.beatNow();
      }
    });
    return this.beating;
  }

  private reschedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.sources.size === 0) return;

    const seconds = Math.min(...[...this.sources.values()].map((source) => source.intervalSeconds));
    this.timer = setInterval(() => void this.beatNow(), Math.max(1, seconds) * 1000);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const entries = [...this.sources.entries()];
    if (entries.length === 0) return;

    const data: Record<string, HeartbeatData> = {};
    await Promise.all(
      entries.map(async ([jobId, source]) => {
        data[String(jobId)] = await source.collect();
      }),
    );

    let result: HeartbeatResult;
    try {
      result = await this.sender.heartbeat(data);
    } catch (error) {
      this.log.warn({ err: error, jobIds: Object.keys(data) }, 'heartbeat failed');
      return;
    }
    this.deliverCommands(result.commands);
    this.countUnknownJobs(result.unknownJobIds);
  }

  private deliverCommands(commands: JobCommand[]): void {
    for (const command of commands) {
      const source = this.sources.get(command.job_id);
      if (!source) {
        this.log.warn(
          { jobId: command.job_id, command: command.command },
          'command for a job not running here',
        );
        continue;
      }
      this.log.info({ jobId: command.job_id, command: command.command }, 'job command received');
      source.onCommand(command);
    }
  }

  private countUnknownJobs(jobIds: JobId[]): void {
    const unknown = new Set(jobIds);
    for (const jobId of this.sources.keys()) {
      if (!unknown.has(jobId)) {
        this.unknownCounts.delete(jobId);
        continue;
      }
      const count = (this.unknownCounts.get(jobId) ?? 0) + 1;
      this.unknownCounts.set(jobId, count);
      if (count >= UNKNOWN_JOB_BEATS_BEFORE_DROP) {
        this.log.error(
          { jobId, beats: count },
          'service does not know the job; heartbeats stopped',
        );
        this.sources.delete(jobId);
        this.unknownCounts.delete(jobId);
      }
    }
  }
}
