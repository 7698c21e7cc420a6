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
import { StatusReporter } from './status-reporter.js';
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

/** How a job ended, from the pilot's point of view. */
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
}

/** Stops a job early with a status and minor status that say why. */
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
  const status = new StatusReporter(context.client, job.job_id, log);
  return new JobRun(context, folders, status, log, closeLog);
}

class JobRun {
  private readonly abort = new AbortController();
  private readonly stdout: TailedFileStream;
  private readonly stderr: TailedFileStream;
  private readonly progress: ProgressReporter;
  private readonly transfer: SandboxTransfer;
  private readonly guard: PayloadGuard;
  private killed = false;
  private stopReason: string | undefined;
  private violation: WatchdogViolation | undefined;
  private payloadFinished = false;

  constructor(
    private readonly context: JobRunContext,
    private readonly folders: JobFolders,
    private readonly status: StatusReporter,
    private readonly log: Logger,
    private readonly closeLog: () => Promise<void>,
  ) {
    this.progress = new ProgressReporter(status);
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
      getOutputBytes: () => this.stdout.bytesWritten + this.stderr.bytesWritten,
      log,
    });
  }

  private get job(): MatchedJob {
    return this.context.job;
  }

  /** Runs the job, then removes it from the heartbeat and cleans its folder. */
  async executeAndClose(): Promise<JobOutcome> {
    try {
      return await this.execute();
    } finally {
      this.context.heartbeats.remove(this.job.job_id);
      await this.closeLog();
      if (!this.context.keepJobDir) {
        await rm(this.folders.root, { recursive: true, force: true });
      }
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
  }

  private async execute(): Promise<JobOutcome> {
    const first = this.status.report({ status: 'Running', minorStatus: 'Job Initialization' });
    await first;
    await this.context.heartbeats.add(this.job.job_id, {
      intervalSeconds: this.job.heartbeat_interval || 60,
      collect: () => this.collectHeartbeat(),
      onCommand: (command) => {
        if (command.command === 'Kill') this.kill();
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
      OMP_NUM_THREADS: cores,
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
    await this.status.report({
      status: 'Completing',
      minorStatus: succeeded
        ? 'Application Finished Successfully'
        : 'Application Finished With Errors',
      applicationStatus: succeeded ? 'Finished' : truncate(failure),
    });
    await this.endStreams();

    try {
      await this.uploadOutputs(result?.outputs ?? {});
    } catch (error) {
      this.log.error({ err: error }, 'output sandbox upload failed');
      await this.status.report({
        status: 'Failed',
        minorStatus: 'Failed Uploading Output Sandbox',
        applicationStatus: truncate(describeError(error)),
      });
      return 'Failed';
    }

    if (!succeeded) {
      await this.status.report({
        status: 'Failed',
        minorStatus: 'Application Finished With Errors',
      });
      return 'Failed';
    }
    await this.status.report({ status: 'Done', minorStatus: 'Execution Complete' });
    return 'Done';
  }

  private async uploadOutputs(outputs: Record<string, unknown>): Promise<void> {
    await this.status.report({ minorStatus: 'Uploading Output Sandbox' });
    await this.transfer.uploadOutputs(outputs);
    await this.status.report({ minorStatus: 'Output Sandbox Uploaded' });
  }

  /**
   * Ends a job the watchdog stopped: its output and logs up to that point are shipped as its
   * output sandbox, then it fails with the limit's minor status.
   */
  private async finishViolation(violation: WatchdogViolation): Promise<JobOutcome> {
    await this.status.report({
      status: 'Completing',
      minorStatus: 'Application Finished With Errors',
      applicationStatus: truncate(violation.applicationStatus),
    });
    await this.endStreams();
    try {
      await this.uploadOutputs({});
    } catch (error) {
      this.log.error({ err: error }, 'output sandbox upload failed');
    }
    await this.status.report({
      status: 'Failed',
      minorStatus: violation.minorStatus,
      applicationStatus: truncate(violation.applicationStatus),
    });
    return 'Failed';
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
    let logs = '';
    try {
      logs = await this.transfer.uploadLogsOnly();
    } catch (error) {
      this.log.warn({ err: error }, 'log upload of a stopped job failed');
    }
    await this.status.report({
      minorStatus: 'Job stopped by the pilot',
      applicationStatus: truncate(logs ? `${reason}; logs in ${logs}` : reason),
    });
    return this.reschedule('Job stopped by the pilot');
  }

  private async reschedule(minorStatus: string): Promise<JobOutcome> {
    try {
      await this.context.client.reschedule([this.job.job_id]);
      return 'Rescheduled';
    } catch (error) {
      this.log.error({ err: error }, 'reschedule failed');
      await this.status.report({ status: 'Failed', minorStatus });
      return 'Failed';
    }
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
    await this.status.report({
      minorStatus: stop.minorStatus,
      applicationStatus: truncate(stop.message),
    });
    return this.reschedule(stop.minorStatus);
  }

  private kill(): void {
    if (this.killed) return;
    this.killed = true;
    this.log.warn('kill requested by the central service');
    this.abort.abort(new Error('killed by the central service'));
  }

  private async finishKilled(): Promise<JobOutcome> {
    this.progress.stop();
    await this.endStreams();
    // The service has already set Killed; a record with a Status would queue another Kill.
    await this.status.report({ minorStatus: 'Received Kill signal' });
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

function truncate(text: string | undefined): string {
  const value = (text ?? '').replace(/\s+/g, ' ').trim();
  return value.length > 250 ? `${value.slice(0, 247)}...` : value;
}
