import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packSandbox, unpackSandbox, type PackResult } from '../archive/index.js';
import type { Logger } from '../log.js';
import type { MatchedJob } from '../wms/types.js';
import type { JobFolders } from './job-folders.js';
import { prepareSandboxOutputs, selectSandboxOutputs, streamOutputIds } from './outputs.js';
import type { JobServiceClient } from './service-client.js';

/** Moves one job's sandboxes between the job folder and the central service. */
export class SandboxTransfer {
  constructor(
    private readonly client: JobServiceClient,
    private readonly job: MatchedJob,
    private readonly folders: JobFolders,
    private readonly log: Logger,
    private readonly recordTransfer?: (bytes: number, seconds: number) => void,
  ) {}

  /** Downloads every input sandbox (checksum checked by the client) and unpacks it. */
  async downloadInputs(): Promise<void> {
    for (const [index, pfn] of this.job.input_sandbox.entries()) {
      const archive = join(this.folders.archives, `input-${index}`);
      const started = Date.now();
      await this.client.downloadSandbox(this.job.job_id, pfn, archive);
      const { size } = await stat(archive);
      this.recordTransfer?.(size, (Date.now() - started) / 1000);
      await unpackSandbox({ archive, targetDir: this.folders.sandbox });
      this.log.info({ pfn, bytes: size }, 'input sandbox unpacked');
    }
  }

  /** Writes `outputs.json` and packs it with the selected output files and every log. */
  async packOutputs(outputs: Record<string, unknown>): Promise<PackResult> {
    const workflow = this.job.workflow;
    const prepared = prepareSandboxOutputs(
      outputs,
      this.folders.result,
      selectSandboxOutputs(workflow),
      streamOutputIds(workflow),
    );
    await writeFile(
      join(this.folders.result, 'outputs.json'),
      `${JSON.stringify(prepared.outputs, null, 2)}\n`,
    );
    await this.client.flushJobLog?.();

    const logs = await this.listLogs();
    return packSandbox({
      sourceDir: this.folders.result,
      members: ['outputs.json', ...logs, ...prepared.members],
      outFile: join(this.folders.archives, 'output-sandbox'),
    });
  }

  /** Packs the logs alone, for a job that is rescheduled. */
  async packLogsOnly(): Promise<PackResult> {
    return packSandbox({
      sourceDir: this.folders.result,
      members: await this.listLogs(),
      outFile: join(this.folders.archives, 'stopped-logs'),
    });
  }

  private async listLogs(): Promise<string[]> {
    return (await readdir(this.folders.logs)).map((name) => `logs/${name}`);
  }
}
