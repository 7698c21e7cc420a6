/** Shared set-up of the CWL engine tests: a scratch folder with documents and a runner. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import {
  runDocument,
  type RunDocumentOptions,
  type RunDocumentResult,
} from '../../src/cwl/index.js';

/** A scratch folder for one test file, removed by {@link Scratch.remove}. */
export class Scratch {
  private constructor(readonly dir: string) {}

  static async create(prefix: string): Promise<Scratch> {
    return new Scratch(await mkdtemp(path.join(os.tmpdir(), prefix)));
  }

  /** Writes `text` to `name` inside the folder and returns its absolute path. */
  async write(name: string, text: string): Promise<string> {
    const file = path.join(this.dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    return file;
  }

  /** Returns a new empty folder inside the scratch folder. */
  async folder(name: string): Promise<string> {
    const target = path.join(this.dir, name);
    await mkdir(target, { recursive: true });
    return target;
  }

  /**
   * Writes a CommandLineTool or ExpressionTool document (without the `cwlVersion` line) and runs
   * it with `job`. The payload's stdout and stderr are captured in `log`.
   */
  async run(
    name: string,
    documentBody: string,
    job: Record<string, unknown> = {},
    options: Partial<RunDocumentOptions> = {},
  ): Promise<RunDocumentResult & { outdir: string; log: () => string }> {
    const document = await this.write(name, `cwlVersion: v1.2\n${documentBody}`);
    const outdir = await this.folder(`out-${path.parse(name).name}-${Date.now()}`);
    const captured = new PassThrough();
    let text = '';
    captured.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const result = await runDocument({
      document,
      job,
      jobBaseDir: this.dir,
      outdir,
      tmpdirPrefix: path.join(this.dir, 'tmp'),
      payloadStdout: captured,
      payloadStderr: captured,
      ...options,
    });
    return { ...result, outdir, log: () => text };
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
