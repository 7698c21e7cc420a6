import { mkdir, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { packSandbox, unpackSandbox } from '../archive/index.js';
import { formatProgressLine, runDocument, type RunDocumentResult } from '../cwl/index.js';
import { PilotError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { HeartbeatLoop } from '../pilot/heartbeat-loop.js';
import type { MatchedJob } from '../wms/types.js';
import { resolveJobInputs } from './inputs.js';
import { TailedFileStream } from './output-tail.js';
import { prepareSandboxOutputs, selectSandboxOutputs, streamOutputIds } from './outputs.js';
import { measureProcessTree } from './process-stats.js';
import { StatusReporter } from './status-reporter.js';
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
}

/** Folders of one job, all under its own job folder. */
interface JobFolders {
  root: string;
  sandbox: string;
  downloads: string;
  archives: string;
  result: string;
  outputs: string;
  logs: string;
  tmp: string;
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
    const folders = await makeFolders(context.jobsDir, job.job_id);
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

async function makeFolders(jobsDir: string, jobId: number): Promise<JobFolders> {
  const root = join(jobsDir, `${jobId}-${Date.now().toString(36)}`);
  const result = join(root, 'result');
  const folders: JobFolders = {
    root,
    sandbox: join(root, 'sandbox'),
    downloads: join(root, 'downloads'),
    archives: join(root, 'archives'),
    result,
    outputs: join(result, 'outputs'),
    logs: join(result, 'logs'),
    tmp: join(root, 'tmp'),
  };
  for (const folder of Object.values(folders)) await mkdir(folder, { recursive: true });
  return folders;
}

class JobRun {
  private readonly abort = new AbortController();
  private readonly payloadPids: number[] = [];
  private readonly startedAt = Date.now();
  private readonly stdout: TailedFileStream;
  private readonly stderr: TailedFileStream;
  private killed = false;
  private stopReason: string | undefined;
  private payloadFinished = false;
  private readonly progress: ProgressReporter;

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
      result = await this.runPayload(inputs);
      if (result.status !== 'success') failure = `CWL run ended with status ${result.status}`;
    } catch (error) {
      if (this.killed) return this.finishKilled();
      if (this.stopReason !== undefined) return this.finishStopped();
      if (error instanceof JobStop) return this.stopEarly(error);
      failure = describeError(error);
      this.log.error({ err: error }, 'payload failed');
    }
    this.payloadFinished = true;
    this.progress.stop();
    if (this.killed) return this.finishKilled();
    if (this.stopReason !== undefined) return this.finishStopped();
    return this.complete(result, failure);
  }

  private async prepareInputs(): Promise<Record<string, unknown>> {
    await this.status.report({ minorStatus: 'Downloading InputSandbox' });
    try {
      for (const [index, pfn] of this.job.input_sandbox.entries()) {
        const archive = join(this.folders.archives, `input-${index}`);
        const started = Date.now();
        await this.context.client.downloadSandbox(this.job.job_id, pfn, archive);
        this.recordTransfer(archive, started);
        await unpackSandbox({ archive, targetDir: this.folders.sandbox });
        this.log.info({ pfn }, 'input sandbox unpacked');
      }
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
      onProcessStart: (pid) => this.payloadPids.push(pid),
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
    const selection = selectSandboxOutputs(this.job.workflow);
    const prepared = prepareSandboxOutputs(
      outputs,
      this.folders.result,
      selection,
      streamOutputIds(this.job.workflow),
    );
    await writeFile(
      join(this.folders.result, 'outputs.json'),
      `${JSON.stringify(prepared.outputs, null, 2)}\n`,
    );
    await this.context.client.flushJobLog?.();

    const logs = (await readdir(this.folders.logs)).map((name) => `logs/${name}`);
    const archive = await packSandbox({
      sourceDir: this.folders.result,
      members: ['outputs.json', ...logs, ...prepared.members],
      outFile: join(this.folders.archives, 'output-sandbox'),
    });
    const pfn = await this.uploadArchive(archive);
    await this.context.client.assignOutputSandbox(this.job.job_id, pfn);
    this.log.info({ pfn, bytes: archive.size }, 'output sandbox uploaded');
    await this.status.report({ minorStatus: 'Output Sandbox Uploaded' });
  }

  private async uploadArchive(archive: {
    path: string;
    sha256: string;
    size: number;
    format: string;
  }): Promise<string> {
    const started = Date.now();
    const pfn = await this.context.client.uploadSandbox(this.job.job_id, archive.path, {
      sha256: archive.sha256,
      size: archive.size,
      format: archive.format as 'tar.zst' | 'tar.bz2',
    });
    this.context.recordTransfer?.(archive.size, (Date.now() - started) / 1000);
    return pfn;
  }

  private recordTransfer(file: string, startedAt: number): void {
    const seconds = (Date.now() - startedAt) / 1000;
    void stat(file)
      .then((info) => this.context.recordTransfer?.(info.size, seconds))
      .catch(() => undefined);
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
      logs = await this.uploadLogsOnly();
    } catch (error) {
      this.log.warn({ err: error }, 'log upload of a stopped job failed');
    }
    await this.status.report({
      minorStatus: 'Job stopped by the pilot',
      applicationStatus: truncate(logs ? `${reason}; logs in ${logs}` : reason),
    });
    return this.reschedule('Job stopped by the pilot');
  }

  private async uploadLogsOnly(): Promise<string> {
    const logs = (await readdir(this.folders.logs)).map((name) => `logs/${name}`);
    const archive = await packSandbox({
      sourceDir: this.folders.result,
      members: logs,
      outFile: join(this.folders.archives, 'stopped-logs'),
    });
    return this.uploadArchive(archive);
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
    const usage = await measureProcessTree(this.payloadPids);
    const disk = await statfs(this.folders.root).catch(() => undefined);
    return {
      LoadAverage: Number((loadavg()[0] ?? 0).toFixed(2)),
      MemoryUsed: Math.round(usage.rssMb),
      Vsize: Math.round(usage.vsizeMb),
      AvailableDiskSpace: disk ? Math.floor((disk.bavail * disk.bsize) / 1e6) : undefined,
      CPUConsumed: Math.round(usage.cpuSeconds),
      WallClockTime: Math.round((Date.now() - this.startedAt) / 1000),
      StandardOutput: this.stdout.tailText().slice(-2048) || undefined,
    };
  }
}

function truncate(text: string | undefined): string {
  const value = (text ?? '').replace(/\s+/g, ' ').trim();
  return value.length > 250 ? `${value.slice(0, 247)}...` : value;
}
