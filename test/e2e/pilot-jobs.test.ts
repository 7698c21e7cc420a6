/**
 * The bundled pilot against the reference central service: the status path of a good job,
 * and the clear end of a bad document, a bad input object, a failing payload, a kill
 * command and an unreachable service.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startReferenceService, type ReferenceService } from '../reference-service/index.js';
import { BUNDLE, runPilot, unpackOutputSandbox } from './pilot-harness.js';

const ECHO_TOOL = `
cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  message: {type: string, inputBinding: {position: 1}}
  count: {type: int, default: 1}
stdout: greeting.txt
outputs:
  greeting: {type: stdout}
`;

const FAILING_TOOL = `
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo half-done; echo broken pipe >&2; exit 3']
inputs: []
outputs: []
`;

const SLEEPING_TOOL = `
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sleep, '60']
inputs: []
outputs: []
`;

const TWO_STEP_WORKFLOW = `
cwlVersion: v1.2
class: Workflow
inputs: []
outputs:
  second: {type: File, outputSource: second/out}
steps:
  first:
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'sleep 1; echo one']
      inputs: []
      outputs: {out: stdout}
    in: []
    out: [out]
  second:
    run:
      class: CommandLineTool
      baseCommand: cat
      inputs: {text: {type: File, inputBinding: {position: 1}}}
      outputs: {out: stdout}
    in: {text: first/out}
    out: [out]
`;

let service: ReferenceService | undefined;

afterEach(async () => {
  await service?.close();
  service = undefined;
});

describe('pilot job outcomes', () => {
  it('walks the status path to Done', async () => {
    service = await startReferenceService();
    const id = await service.submitJob({ workflow: ECHO_TOOL, workflow_params: { message: 'hi' } });

    const run = await runPilot({ service });

    expect(run.exitCode).toBe(0);
    const job = service.getJob(id);
    expect(job.status).toBe('Done');
    expect(job.heartbeats).toBeGreaterThanOrEqual(1);
    const path = job.history
      .filter((entry) => entry.source.startsWith('JobWrapper'))
      .map((entry) => `${entry.status}/${entry.minorStatus}`);
    // The service writes "idem" for a record that leaves Status unchanged, as DIRAC does.
    expect(path).toEqual([
      'Running/Job Initialization',
      'idem/Downloading InputSandbox',
      'idem/Input Data Resolution',
      'idem/Application',
      'Completing/Application Finished Successfully',
      'idem/Uploading Output Sandbox',
      'idem/Output Sandbox Uploaded',
      'Done/Execution Complete',
    ]);
    const outputs = await unpackOutputSandbox(service, job.outputSandboxes[0] as string);
    expect(outputs.members).toContain('logs/wrapper.log');
    expect(outputs.outputs.greeting).toMatchObject({ class: 'File', size: 3 });
  });

  it('fails a bad document, a bad input and a failing payload', async () => {
    service = await startReferenceService();
    const badDocument = await service.submitJob({ workflow: 'class: NoSuchProcess\ninputs: [' });
    const badInput = await service.submitJob({
      workflow: ECHO_TOOL,
      workflow_params: { message: 'hi', count: 'three' },
    });
    const failing = await service.submitJob({ workflow: FAILING_TOOL });

    const run = await runPilot({ service });

    expect(run.exitCode).toBe(0);
    for (const id of [badDocument, badInput, failing]) {
      expect(service.getJob(id).status).toBe('Failed');
      expect(service.getJob(id).minorStatus).toBe('Application Finished With Errors');
    }
    expect(service.getJob(badInput).applicationStatus).toMatch(/count/);
    expect(service.getJob(failing).applicationStatus).toMatch(/3/);

    const failed = service.getJob(failing);
    const outputs = await unpackOutputSandbox(service, failed.outputSandboxes[0] as string);
    expect(outputs.members).toContain('logs/payload.stdout');
    expect(outputs.members).toContain('logs/payload.stderr');
  });

  it('stops a payload on a Kill command', async () => {
    service = await startReferenceService({ heartbeatInterval: 1 });
    const id = await service.submitJob({ workflow: SLEEPING_TOOL });
    const started = Date.now();
    const target = service;
    const killer = setInterval(() => {
      if (target.getJob(id).minorStatus === 'Application') {
        target.killJob(id);
        clearInterval(killer);
      }
    }, 100);

    const run = await runPilot({ service });
    clearInterval(killer);

    expect(run.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(service.getJob(id).status).toBe('Killed');
    expect(service.getJob(id).minorStatus).toBe('Received Kill signal');
  });
});

describe('pilot workflow jobs', () => {
  it('reports step progress in the application status', async () => {
    service = await startReferenceService();
    const id = await service.submitJob({ workflow: TWO_STEP_WORKFLOW });

    const run = await runPilot({ service });

    expect(run.exitCode).toBe(0);
    const job = service.getJob(id);
    expect(job.status).toBe('Done');
    const progress = job.history.map((entry) => entry.applicationStatus);
    expect(progress.some((text) => /step/.test(text))).toBe(true);
    const outputs = await unpackOutputSandbox(service, job.outputSandboxes[0] as string);
    expect(outputs.outputs.second).toMatchObject({ class: 'File', size: 4 });
  });
});

describe('pilot black-hole guard', () => {
  it('stops after jobs keep failing fast', async () => {
    service = await startReferenceService();
    const ids: number[] = [];
    for (let index = 0; index < 6; index += 1) {
      ids.push(await service.submitJob({ workflow: FAILING_TOOL }));
    }

    const run = await runPilot({
      service,
      args: ['--cores', '1', '--black-hole-jobs', '3', '--black-hole-seconds', '60'],
    });

    expect(run.exitCode).toBe(6);
    const statuses = ids.map((id) => service?.getJob(id).status);
    expect(statuses.filter((status) => status === 'Failed')).toHaveLength(3);
    expect(statuses.filter((status) => status === 'Waiting')).toHaveLength(3);
    const record = [...service.pilots.values()][0];
    expect(record?.status).toBe('Failed');
    expect(record?.reason).toMatch(/black hole: 3 jobs in a row failed/);
    expect(run.stderr).toMatch(/stopped as a black hole/);
  });
});

describe('pilot without a service', () => {
  it('exits 3 naming the unreachable URL', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'ctao-pilot-unreachable-'));
    const secretFile = join(folder, 'secret');
    await writeFile(secretFile, 'not-used\n', { mode: 0o600 });

    const result = spawnSync(
      process.execPath,
      [
        BUNDLE,
        'run',
        '--service-url',
        'http://127.0.0.1:1',
        '--secret-file',
        secretFile,
        '--service-deadline',
        '3',
      ],
      { cwd: folder, encoding: 'utf8', timeout: 120_000 },
    );

    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/127\.0\.0\.1:1/);
    expect(result.stderr).toMatch(/refused|cannot reach/i);
  });

  it('rejects a secret given as a flag', () => {
    const result = spawnSync(
      process.execPath,
      [BUNDLE, 'run', '--service-url', 'http://127.0.0.1:1', '--secret', 'x'],
      { encoding: 'utf8' },
    );

    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/never a flag/);
  });
});

describe('bundle without node_modules', () => {
  it('prints its version and runs exec', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'ctao-pilot-bundle-'));
    await copyFile(BUNDLE, join(folder, 'ctao-pilot.cjs'));
    await writeFile(join(folder, 'echo.cwl'), ECHO_TOOL);
    await writeFile(join(folder, 'job.yaml'), 'message: hello\n');

    const version = spawnSync(process.execPath, ['ctao-pilot.cjs', '--version'], {
      cwd: folder,
      encoding: 'utf8',
    });
    const exec = spawnSync(
      process.execPath,
      ['ctao-pilot.cjs', 'exec', '--outdir', 'out', 'echo.cwl', 'job.yaml'],
      { cwd: folder, encoding: 'utf8' },
    );

    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^ctao-pilot \d+\.\d+\.\d+/);
    expect(exec.status, exec.stderr).toBe(0);
    expect(JSON.parse(exec.stdout).greeting).toMatchObject({ basename: 'greeting.txt', size: 6 });
  });

  it('exits 1 with a message for an invalid input object', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'ctao-pilot-bundle-'));
    await writeFile(join(folder, 'echo.cwl'), ECHO_TOOL);
    await writeFile(join(folder, 'job.yaml'), 'message: [1, 2]\n');

    const exec = spawnSync(process.execPath, [BUNDLE, 'exec', 'echo.cwl', 'job.yaml'], {
      cwd: folder,
      encoding: 'utf8',
    });

    expect(exec.status).toBe(1);
    expect(exec.stderr).toMatch(/message/);
    expect(exec.stderr).not.toMatch(/^\s+at /m);
  });
});
