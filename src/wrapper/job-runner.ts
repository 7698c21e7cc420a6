import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatProgressLine, runDocument, type RunDocumentResult } from '../cwl/index.js';
import { PilotError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { HeartbeatLoop } from '../pilot/heartbeat-loop.js';
import type { MatchedJob } from '../wms/types.js';
import { resolveJobInputs } from './inputs.js';
import { TailedFileStream } from './output-tail.js';
import { makeJobFolders, type JobFolders } from './job-folders.js';
import { PayloadGuard, type GuardSettings } from './payload-guard.js';
import { SandboxTransfer } from './sandbox-transfer.js';
import { StatusReporter, statusAction, type StatusChange } from './status-reporter.js';
import { JobOutbox, type Journal } from '../journal/index.js';
import type { PackResult } from '../archive/index.js';
import type { WatchdogViolation } from './watchdog.js';
import { ProgressReporter } from './progress-reporter.js';

import type { JobServiceClient } from './service-client.js';
import { createJobLogger } from './job-log.js';

/** A job the wrapper is running, and how to stop it early. */
export interface RunningJob {
  jobId: number;
  /** Resolves with the job's outcome once its final status was sent; never rejects. */
  outcome: Promise<JobOutcome>;
  /**
   * Stops the job because the pilot must leave: a payload still running is killed and the
   * job rescheduled, with the logs so far uploaded. A job already past its payload finishes.
   */
  stop(reason: string): void;
  /** Sends SIGKILL to every process of the job at once, when the pilot has no time left. */
  killNow(): Promise<void>;
}

/** Outcome of a job, from the pilot's point of view. */
export type JobOutcome = 'Done' | 'Failed' | 'Rescheduled' | 'Killed';

/** Everything {@link runJob} needs. */
export interface JobRunContext {
  client: JobServiceClient;
  job: MatchedJob;
  heartbeats: HeartbeatLoop;
  /** Folder that receives this job's own folder. */
  jobsDir: string;
  /** Cores and memory (MB) of the slot the job runs in. */
  slot: { cores: number; ramMb: number };
  /** Folders put before PATH in the payload's environment. */
  payloadPathPrepend: string[];
  keepJobDir: boolean;
  log: Logger;
  /** Receives the size and duration of each sandbox transfer, to measure bandwidth. */
  recordTransfer?: (bytes: number, seconds: number) => void;
  /** Watchdog and kill settings; the job's own limits are added from its requirements. */
  guard: GuardSettings;
  /** The pilot's journal: every record and upload of the job goes through it. */
  journal: Journal;
  /** Receives a promise that settles once everything the job owes the service was sent. */
  onDeliveryPending?: (delivered: Promise<void>) => void;
}

/** Error that stops a job early, with the status and minor status that give the reason. */
class JobStop extends PilotError {
  constructor(
    readonly outcome: 'Failed' | 'Rescheduled',
    readonly minorStatus: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('JOB_STOPPED', message, options);
  }
}

/**
 * Starts one matched job, which runs from its first heartbeat to its final status: input
 * sandbox, CWL run, output sandbox with the payload's output and the wrapper's log, then
 * Done, Failed or a reschedule. Every failure ends as a job status.
 */
export function startJob(context: JobRunContext): RunningJob {
  let stopReason: string | undefined;
  let run: JobRun | undefined;
  const outcome = (async () => {
    const { job } = context;
    const folders = await makeJobFolders(context.jobsDir, job.job_id);
    run = await openJobRun(context, folders);
    if (stopReason !== undefined) run.stop(stopReason);
    return run.executeAndClose();
  })().catch((error: unknown) => {
    context.log.error({ err: error }, 'job wrapper failed');
    return 'Failed' as const;
  });

  return {
    jobId: context.job.job_id,
    outcome,
    stop(reason: string) {
      stopReason ??= reason;
      run?.stop(reason);
    },
    async killNow() {
      await run?.killNow();
    },
  };
}

/** Runs one matched job to its final status; see {@link startJob}. */
export function runJob(context: JobRunContext): Promise<JobOutcome> {
  return startJob(context).outcome;
}

async function openJobRun(context: JobRunContext, folders: JobFolders): Promise<JobRun> {
  const { job } = context;
  const { log, close: closeLog } = createJobLogger(
    context.log,
    join(folders.logs, 'wrapper.log'),
    job.job_id,
  );
  const marker = randomBytes(12).toString('hex');
  context.journal.addJob(job.job_id, folders.root, marker);
  const outbox = new JobOutbox(
    context.journal,
    job.job_id,
    context.client,
    log,
    context.recordTransfer,
  );
  return new JobRun(context, folders, outbox, log, closeLog, marker);
}

class JobRun {
  private readonly abort = new AbortController();
  private readonly stdout: TailedFileStream;
  private readonly stderr: TailedFileStream;
  private readonly progress: ProgressReporter;
  private readonly transfer: SandboxTransfer;
  private readonly guard: PayloadGuard;
  private readonly status: StatusReporter;
  private killed = false;
  private stopReason: string | undefined;
  private violation: WatchdogViolation | undefined;
  private payloadFinished = false;

  constructor(
    private readonly context: JobRunContext,
    private readonly folders: JobFolders,
    private readonly outbox: JobOutbox,
    private readonly log: Logger,
    private readonly closeLog: () => Promise<void>,
    marker: string,
  ) {
    this.status = new StatusReporter(outbox);
    this.progress = new ProgressReporter(this.status);
    this.stdout = new TailedFileStream(join(folders.logs, 'payload.stdout'));
    this.stderr = new TailedFileStream(join(folders.logs, 'payload.stderr'));
    this.transfer = new SandboxTransfer(
      context.client,
      context.job,
      folders,
      log,
      context.recordTransfer,
    );
    this.guard = new PayloadGuard({
      jobId: context.job.job_id,
      jobDir: folders.root,
      ignoredPaths: [join(folders.logs, 'wrapper.log')],
      settings: context.guard,
      marker,
      getOutputBytes: () => this.stdout.bytesWritten + this.stderr.bytesWritten,
      log,
    });
  }

  private get job(): MatchedJob {
    return this.context.job;
  }

  /**
   * Runs the job, then removes it from the heartbeat. Its folder and journal entry stay until
   * everything it owes the service was sent, which may happen after this returns.
   */
  async executeAndClose(): Promise<JobOutcome> {
    try {
      return await this.execute();
    } finally {
      this.context.heartbeats.remove(this.job.job_id);
      await this.closeLog();
      const delivered = this.outbox.whenEmpty().then(() => this.closeJob());
      this.context.onDeliveryPending?.(delivered);
    }
  }

  private async closeJob(): Promise<void> {
    this.outbox.dispose();
    this.context.journal.closeJob(this.job.job_id);
    if (!this.context.keepJobDir) {
      await rm(this.folders.root, { recursive: true, force: true });
    }
  }

  /** See {@link RunningJob.killNow}. */
  killNow(): Promise<void> {
    return this.guard.killNow();
  }

  /** Stops the job for the pilot's own reason; see {@link RunningJob.stop}. */
  stop(reason: string): void {
    if (this.stopReason !== undefined || this.payloadFinished) return;
    this.stopReason = reason;
    this.log.warn({ reason }, 'job stopped by the pilot');
    this.abort.abort(new Error(reason));
    void this.guard.terminate();
  }

  private async execute(): Promise<JobOutcome> {
    const first = this.status.report({ status: 'Running', minorStatus: 'Job Initialization' });
    await first;
    await this.context.heartbeats.add(this.job.job_id, {
      intervalSeconds: this.job.heartbeat_interval || 60,
      collect: () => this.collectHeartbeat(),
      onCommand: (command) => {
        if (command.command !== 'Kill') return;
        // A command is delivered once: it is on disk before it is acted on.
        this.context.journal.addCommand(this.job.job_id, 'Kill');
        this.kill();
      },
    });

    let result: RunDocumentResult | undefined;
    let failure: string | undefined;
    try {
      const inputs = await this.prepareInputs();
      if (this.stopReason !== undefined) return this.finishStopped();
      result = await this.runGuardedPayload(inputs);
      if (result.status !== 'success') failure = `CWL run ended with status ${result.status}`;
    } catch (error) {
      if (error instanceof JobStop) return this.stopEarly(error);
      failure = describeError(error);
      if (!this.killed && !this.stopReason && !this.violation) {
        this.log.error({ err: error }, 'payload failed');
      }
    }
    this.payloadFinished = true;
    this.progress.stop();
    if (this.killed) return this.finishKilled();
    if (this.violation) return this.finishViolation(this.violation);
    if (this.stopReason !== undefined) return this.finishStopped();
    return this.complete(result, failure);
  }

  /** Runs the payload under the watchdog and ends every process it left behind. */
  private async runGuardedPayload(inputs: Record<string, unknown>): Promise<RunDocumentResult> {
    await this.guard.start((violation) => {
      if (this.violation || this.payloadFinished) return;
      this.violation = violation;
      this.log.error({ code: violation.code, sample: violation.sample }, 'watchdog limit reached');
      this.abort.abort(new Error(violation.applicationStatus));
      void this.guard.terminate();
    });
    try {
      return await this.runPayload(inputs);
    } finally {
      await this.guard.finish();
    }
  }

  private async prepareInputs(): Promise<Record<string, unknown>> {
    await this.status.report({ minorStatus: 'Downloading InputSandbox' });
    try {
      await this.transfer.downloadInputs();
    } catch (error) {
      throw new JobStop('Rescheduled', 'Failed Downloading InputSandbox', describeError(error), {
        cause: error,
      });
    }

    if (Object.keys(this.job.workflow_params ?? {}).length === 0) return {};
    await this.status.report({ minorStatus: 'Input Data Resolution' });
    try {
      return await resolveJobInputs(this.job.workflow_params, {
        sandboxRoot: this.folders.sandbox,
        downloadDir: this.folders.downloads,
      });
    } catch (error) {
      throw new JobStop('Failed', 'Input Data Not Available', describeError(error), {
        cause: error,
      });
    }
  }

  private async runPayload(inputs: Record<string, unknown>): Promise<RunDocumentResult> {
    const document = join(this.folders.sandbox, `job-${this.job.job_id}.cwl`);
    await writeFile(document, this.job.workflow);
    await this.status.report({ minorStatus: 'Application', applicationStatus: 'Running' });
    this.log.info({ document }, 'payload starting');

    return runDocument({
      document,
      documentText: this.job.workflow,
      job: inputs,
      jobBaseDir: this.folders.sandbox,
      outdir: this.folders.outputs,
      tmpdirPrefix: this.folders.tmp,
      runtime: {
        cores: this.context.slot.cores,
        ramMb: this.context.slot.ramMb,
        wholeShare: true,
      },
      payloadStdout: this.stdout,
      payloadStderr: this.stderr,
      baseEnv: this.payloadEnvironment(),
      signal: this.abort.signal,
      parallel: true,
      onProgress: (snapshot) => this.progress.update(formatProgressLine(snapshot, 255)),
      onProcessStart: (pid) => this.guard.addProcess(pid),
      log: this.log,
    });
  }

  private payloadEnvironment(): Record<string, string> {
    const cores = String(this.context.slot.cores);
    const path = [...this.context.payloadPathPrepend, process.env.PATH ?? '/usr/bin:/bin'];
    return {
      PATH: path.join(':'),
      LANG: process.env.LANG ?? 'C.UTF-8',
      // Thread pools of OpenMP, BLAS libraries, numexpr and Numba size themselves from these.
      OMP_NUM_THREADS: cores,
      OPENBLAS_NUM_THREADS: cores,
      MKL_NUM_THREADS: cores,
      NUMEXPR_NUM_THREADS: cores,
      NUMBA_NUM_THREADS: cores,
      CTAO_PILOT_CORES: cores,
      CTAO_PILOT_RAM_MB: String(this.context.slot.ramMb),
      CTAO_PILOT_JOB_ID: String(this.job.job_id),
      DIRACJOBID: String(this.job.job_id),
      ...this.guard.environment,
    };
  }

  private async complete(
    result: RunDocumentResult | undefined,
    failure: string | undefined,
  ): Promise<JobOutcome> {
    const succeeded = failure === undefined;
    const completing: StatusChange = {
      status: 'Completing',
      minorStatus: succeeded
        ? 'Application Finished Successfully'
        : 'Application Finished With Errors',
      applicationStatus: succeeded ? 'Finished' : truncate(failure),
    };
    const final: StatusChange = succeeded
      ? { status: 'Done', minorStatus: 'Execution Complete' }
      : { status: 'Failed', minorStatus: 'Application Finished With Errors' };
    return this.shipAndEnd(result?.outputs ?? {}, completing, final);
  }

  /**
   * Packs the output sandbox, then journals the whole end of the job at once: the
   * Completing record, the upload, its assignment and the final status. From then on a
   * crash of the pilot loses nothing: a restarted pilot sends what was not sent.
   */
  private async shipAndEnd(
    outputs: Record<string, unknown>,
    completing: StatusChange,
    final: StatusChange,
  ): Promise<JobOutcome> {
    await this.endStreams();
    let archive: PackResult;
    try {
      archive = await this.transfer.packOutputs(outputs);
    } catch (error) {
      this.log.error({ err: error }, 'output sandbox packing failed');
      await this.outbox.enqueue([
        statusAction(completing),
        statusAction({
          status: 'Failed',
          minorStatus: 'Failed Uploading Output Sandbox',
          applicationStatus: truncate(describeError(error)),
        }),
      ]);
      return 'Failed';
    }

    await this.outbox.enqueue([
      statusAction(completing),
      statusAction({ minorStatus: 'Uploading Output Sandbox' }),
      uploadAction(archive),
      { kind: 'assign' },
      statusAction({ minorStatus: 'Output Sandbox Uploaded' }),
      statusAction(final),
    ]);
    return final.status === 'Done' ? 'Done' : 'Failed';
  }

  /**
   * Ends a job the watchdog stopped: its output and logs up to that point are shipped as its
   * output sandbox, then it fails with the limit's minor status.
   */
  private async finishViolation(violation: WatchdogViolation): Promise<JobOutcome> {
    const applicationStatus = truncate(violation.applicationStatus);
    return this.shipAndEnd(
      {},
      { status: 'Completing', minorStatus: 'Application Finished With Errors', applicationStatus },
      { status: 'Failed', minorStatus: violation.minorStatus, applicationStatus },
    );
  }

  /**
   * Ends a job the pilot stopped before its payload finished: the logs so far are uploaded
   * (not assigned, since the next attempt assigns its own output sandbox) and named in the
   * status record, then the job is rescheduled.
   */
  private async finishStopped(): Promise<JobOutcome> {
    this.progress.stop();
    const reason = this.stopReason ?? 'pilot stopping';
    await this.endStreams();
    try {
      const archive = await this.transfer.packLogsOnly();
      await this.outbox.enqueue([uploadAction(archive)]);
    } catch (error) {
      this.log.warn({ err: error }, 'log upload of a stopped job failed');
    }
    const logs = this.context.journal.job(this.job.job_id)?.uploadedPfn;
    await this.outbox.enqueue([
      statusAction({
        minorStatus: 'Job stopped by the pilot',
        applicationStatus: truncate(logs ? `${reason}; logs in ${logs}` : reason),
      }),
      { kind: 'reschedule' },
    ]);
    return 'Rescheduled';
  }

  private async stopEarly(stop: JobStop): Promise<JobOutcome> {
    this.log.error({ err: stop, minorStatus: stop.minorStatus }, 'job stopped before the payload');
    await this.endStreams();
    if (stop.outcome === 'Failed') {
      await this.status.report({
        status: 'Failed',
        minorStatus: stop.minorStatus,
        applicationStatus: truncate(stop.message),
      });
      return 'Failed';
    }
    await this.outbox.enqueue([
      statusAction({ minorStatus: stop.minorStatus, applicationStatus: truncate(stop.message) }),
      { kind: 'reschedule' },
    ]);
    return 'Rescheduled';
  }

  private kill(): void {
    if (this.killed) return;
    this.killed = true;
    this.log.warn('kill requested by the central service');
    this.abort.abort(new Error('killed by the central service'));
    void this.guard.terminate();
  }

  private async finishKilled(): Promise<JobOutcome> {
    this.progress.stop();
    await this.endStreams();
    // The service has already set Killed; a record with a Status would queue another Kill.
    await this.status.report({ minorStatus: 'Received Kill signal' });
    this.context.journal.markCommandDone(this.job.job_id, 'Kill');
    return 'Killed';
  }

  private async endStreams(): Promise<void> {
    await Promise.all(
      [this.stdout, this.stderr].map(
        (stream) => new Promise<void>((resolve) => stream.end(() => resolve())),
      ),
    );
  }

  private async collectHeartbeat() {
    const data = this.guard.heartbeatData();
    const tail = this.stdout.tailText().slice(-2048);
    if (tail) data.StandardOutput = tail;
    return data;
  }
}

function uploadAction(archive: PackResult) {
  return {
    kind: 'upload' as const,
    archive: archive.path,
    sha256: archive.sha256,
    size: archive.size,
    format: archive.format as 'tar.zst' | 'tar.bz2',
  };
}

function truncate(text: string | undefined): string {
  const value = (text ?? '').replace(/\s+/g, ' ').trim();
  return value.length > 250 ? `${value.slice(0, 247)}...` : value;
}
