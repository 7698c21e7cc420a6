/**
 * Job scheduler of a Workflow run: starts each job (one tool run of a step or of a scatter)
 * once its cores and memory fit in what the slot has free.
 *
 * Order: jobs start in the order they were queued. A later job may start ahead of earlier
 * waiting jobs (backfill) when it fits and they do not, but each waiting job can be overtaken
 * at most {@link MAX_OVERTAKES} times. Once any waiting job reaches that count, nothing starts
 * ahead of it and the running jobs drain until it fits. So at most {@link MAX_OVERTAKES} jobs
 * queued after a job start before it, and a big job cannot starve.
 */
import { ConfigError, CwlExecutionError } from '../../errors.js';

/** Cores and memory one job needs. */
export interface ResourceRequest {
  /** Number of cores; fractions are allowed, as in CWL's `coresMin`. */
  cores: number;
  /** Memory in MiB. */
  ramMb: number;
}

/** Options of {@link JobScheduler}. */
export interface JobSchedulerOptions {
  /** Cores of the whole slot; must be greater than 0. */
  cores: number;
  /** Memory of the whole slot in MiB; must be greater than 0. */
  ramMb: number;
  /** When false, one job runs at a time whatever its size. */
  parallel: boolean;
}

/**
 * How many times later jobs may start ahead of one waiting job. It bounds the extra wait of a
 * big job to the run time of a few small ones, while small jobs still fill the cores that the
 * big one leaves idle in the meantime.
 */
export const MAX_OVERTAKES = 16;

/** A job waiting for resources. Removed from the queue as soon as it starts or is rejected. */
interface QueuedJob {
  label: string;
  cores: number;
  ramMb: number;
  overtaken: number;
  start: () => void;
  reject: (error: Error) => void;
}

/** Runs jobs within the cores and memory of one slot. */
export class JobScheduler {
  private readonly totalCores: number;
  private readonly totalRamMb: number;
  private readonly parallel: boolean;
  private freeCores: number;
  private freeRamMb: number;
  private queue: QueuedJob[] = [];
  private readonly running = new Set<AbortController>();
  private stopReason: Error | undefined;
  private startScheduled = false;

  constructor(options: JobSchedulerOptions) {
    checkCapacity('cores', options.cores);
    checkCapacity('ramMb', options.ramMb);
    this.totalCores = options.cores;
    this.totalRamMb = options.ramMb;
    this.parallel = options.parallel;
    this.freeCores = options.cores;
    this.freeRamMb = options.ramMb;
  }

  /** True once {@link stop} was called. */
  get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  /**
   * Queues `task` and calls it once `request` fits in the free resources. A request larger than
   * the slot is reduced to the whole slot, so it waits until the slot is free. Resolves or rejects with the
   * task's own result. Rejects with `CWL_RUN_STOPPED` when the scheduler is stopped before the
   * task starts, and with a RangeError when a requested value is negative or not a number.
   */
  run<T>(
    label: string,
    request: ResourceRequest,
    task: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (this.stopReason !== undefined) {
      return Promise.reject(stoppedError(label, this.stopReason));
    }
    let cores: number;
    let ramMb: number;
    try {
      cores = Math.min(checkRequest(label, 'cores', request.cores), this.totalCores);
      ramMb = Math.min(checkRequest(label, 'ramMb', request.ramMb), this.totalRamMb);
    } catch (error) {
      return Promise.reject(error as Error);
    }

    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.execute(cores, ramMb, task).then(resolve, reject);
      };
      this.queue.push({ label, cores, ramMb, overtaken: 0, start, reject });
      this.startReadyJobs();
    });
  }

  /**
   * Stops the scheduler: aborts the signal of every running task with `reason`, rejects every
   * queued task with `CWL_RUN_STOPPED`, and makes later {@link run} calls reject the same way.
   * Running tasks keep their resources until their promises settle. Calls after the first one
   * do nothing.
   */
  stop(reason: Error): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = reason;

    const queued = this.queue;
    this.queue = [];
    for (const job of queued) job.reject(stoppedError(job.label, reason));
    for (const controller of this.running) controller.abort(reason);
  }

  /** Reserves the resources, runs the task and releases them when its promise settles. */
  private async execute<T>(
    cores: number,
    ramMb: number,
    task: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    this.running.add(controller);
    this.freeCores -= cores;
    this.freeRamMb -= ramMb;
    try {
      return await task(controller.signal);
    } finally {
      this.running.delete(controller);
      this.freeCores += cores;
      this.freeRamMb += ramMb;
      this.scheduleStart();
    }
  }

  /**
   * Starts queued jobs on the next turn of the event loop instead of at once. Promise
   * callbacks on a finished job, such as marking it done in the progress, then run before
   * the next job starts, and startReadyJobs never runs inside itself.
   */
  private scheduleStart(): void {
    if (this.startScheduled) return;
    this.startScheduled = true;
    setImmediate(() => {
      this.startScheduled = false;
      this.startReadyJobs();
    });
  }

  /** Starts queued jobs that fit, in queue order, within the overtaking limit. */
  private startReadyJobs(): void {
    let index = 0;
    while (index < this.queue.length) {
      const job = this.queue[index]!;
      if (this.fits(job)) {
        this.queue.splice(index, 1);
        // Every job still waiting ahead of this one has been overtaken once more.
        for (let ahead = 0; ahead < index; ahead++) this.queue[ahead]!.overtaken++;
        job.start();
        continue;
      }
      // A job that was overtaken often enough blocks everything behind it.
      if (job.overtaken >= MAX_OVERTAKES || !this.parallel) return;
      index++;
    }
  }

  private fits(job: QueuedJob): boolean {
    if (!this.parallel) return this.running.size === 0;
    return job.cores <= this.freeCores && job.ramMb <= this.freeRamMb;
  }
}

function checkCapacity(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(
      'CONFIG_BAD_VALUE',
      `invalid scheduler ${name} ${value}: expected a number greater than 0`,
    );
  }
}

function checkRequest(label: string, name: string, value: number): number {
  if (Number.isNaN(value) || value < 0) {
    throw new RangeError(`invalid ${name} request ${value} for job ${label}: expected 0 or more`);
  }
  return value;
}

function stoppedError(label: string, reason: Error): CwlExecutionError {
  return new CwlExecutionError(
    'CWL_RUN_STOPPED',
    `job ${label} not started because the run stopped: ${reason.message}`,
    { cause: reason },
  );
}
