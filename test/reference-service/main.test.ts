import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const MAIN = join(import.meta.dirname, 'main.ts');
const REPOSITORY = join(import.meta.dirname, '..', '..');

let folder: string;
let child: ChildProcessWithoutNullStreams | undefined;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'reference-main-'));
});

afterEach(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
  }
  child = undefined;
  await rm(folder, { recursive: true, force: true });
});

async function writeJobFiles(): Promise<string> {
  const jobs = join(folder, 'jobs');
  await mkdir(join(jobs, 'inputs'), { recursive: true });
  await writeFile(join(jobs, 'tool.cwl'), 'cwlVersion: v1.2\nclass: CommandLineTool\n');
  await writeFile(join(jobs, 'inputs', 'data.txt'), 'data\n');
  await writeFile(
    join(jobs, 'a-single.yaml'),
    'label: single\nworkflow: tool.cwl\ninput_sandbox_dir: inputs\nrequirements: {cores: 1}\n',
  );
  await writeFile(
    join(jobs, 'b-many.json'),
    JSON.stringify({ jobs: [{ workflow: 'tool.cwl' }, { workflow: 'tool.cwl', label: 'third' }] }),
  );
  await writeFile(join(jobs, 'notes.txt'), 'not a job file');
  return jobs;
}

/** Starts the command and resolves with its first stdout line, parsed. */
function startMain(args: string[]): Promise<{ url: string; jobs: number; secretFile: string }> {
  child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPOSITORY });
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line)));
    child!.once('exit', (code) => reject(new Error(`service exited early with ${code}`)));
  });
}

async function collectStdout(subprocess: ChildProcessWithoutNullStreams): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: subprocess.stdout })) {
    lines.push(line);
  }
  return lines;
}

describe('reference service command', () => {
  it('serves the jobs of a folder and prints a summary on SIGTERM', async () => {
    const jobs = await writeJobFiles();
    const secretFile = join(folder, 'secret');
    const started = await startMain(['--jobs', jobs, '--secret-file', secretFile]);
    const rest = collectStdout(child!);

    expect(started.jobs).toBe(3);
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started.secretFile).toBe(secretFile);
    expect((await stat(secretFile)).mode & 0o777).toBe(0o600);

    const secret = (await readFile(secretFile, 'utf8')).trim();
    const exchange = await fetch(`${started.url}/api/auth/secret-exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        pilot_stamp: 'cli-pilot',
        pilot_secret: secret,
        vo: 'ctao',
        grid_type: 'SSH',
        grid_site: 'CTAO.Test.org',
        status: 'Running',
      }),
    });
    expect(exchange.status).toBe(200);

    child!.kill('SIGTERM');
    const summary = JSON.parse((await rest).at(-1) as string);
    expect(summary.jobs.map((job: { label: string }) => job.label)).toEqual([
      'single',
      expect.stringContaining('b-many.json#0'),
      'third',
    ]);
    expect(summary.jobs[0].status).toBe('Waiting');
  });

  it('injects the faults of --faults and counts them', async () => {
    const jobs = await writeJobFiles();
    const started = await startMain([
      '--jobs',
      jobs,
      '--faults',
      'rate=1,kinds=error,statuses=503',
      '--route-faults',
      'rate=0,routes=GET /api/health/ready',
    ]);
    const rest = collectStdout(child!);
    const live = await fetch(`${started.url}/api/health/live`);
    const ready = await fetch(`${started.url}/api/health/ready`);

    expect(live.status).toBe(503);
    expect(ready.status).toBe(200);
    child!.kill('SIGTERM');
    const summary = JSON.parse((await rest).at(-1) as string);
    expect(summary.faults['GET /api/health/live'].error).toBe(1);
    expect(summary.audit).toHaveLength(3);
  });

  it('exits with 2 for an invalid --faults', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--jobs', folder, '--faults', 'x'], {
      cwd: REPOSITORY,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child!.once('exit', resolve));

    expect(code).toBe(2);
    expect(stderr).toContain('--faults item "x" has no key');
  });

  it('exits with 2 without --jobs', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: REPOSITORY });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child!.once('exit', resolve));

    expect(code).toBe(2);
    expect(stderr).toContain('--jobs is missing');
  });
});
