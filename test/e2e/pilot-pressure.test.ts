/**
 * The pilot under pressure, end to end with real payload processes: jobs side by side in
 * slots, one heartbeat request for all jobs, batch-system signals, the drain file and the
 * wall-time budget.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startReferenceService, type ReferenceService } from '../reference-service/index.js';
import { runPilot, startPilot, unpackOutputSandbox, processesWith } from './pilot-harness.js';

/** A tool that reports the share it was given, then sleeps. */
const SHARE_TOOL = `
cwlVersion: v1.2
class: CommandLineTool
requirements: {ShellCommandRequirement: {}}
inputs:
  seconds: {type: int, default: 2}
arguments:
  - valueFrom: 'echo cores=$(runtime.cores) ram=$(runtime.ram) omp=$OMP_NUM_THREADS blas=$OPENBLAS_NUM_THREADS; sleep $(inputs.seconds)'
    shellQuote: false
stdout: share.txt
outputs:
  share: {type: stdout}
`;

/** Returns a tool whose payload leaves a background child in its process group. */
function sleeperTool(marker: number): string {
  return `
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'sleep ${marker + 1} & echo started; sleep ${marker}']
inputs: []
outputs: []
`;
}

let service: ReferenceService | undefined;

afterEach(async () => {
  await service?.close();
  service = undefined;
});

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(100);
  }
}

describe('pilot slots', () => {
  it('runs jobs side by side with their own share', async () => {
    service = await startReferenceService({ heartbeatInterval: 1 });
    const ids = [
      await service.submitJob({ workflow: SHARE_TOOL, requirements: { cores: 1, 'ram-mb': 500 } }),
      await service.submitJob({ workflow: SHARE_TOOL, requirements: { cores: 1, 'ram-mb': 700 } }),
    ];
    const run = await runPilot({ service, args: ['--cores', '2', '--ram-mb', '2000'] });

    expect(run.exitCode).toBe(0);
    const texts = [];
    for (const id of ids) {
      const job = service.getJob(id);
      expect(job.status).toBe('Done');
      const unpacked = await unpackOutputSandbox(service, job.outputSandboxes[0] as string);
      texts.push(await readFile(join(unpacked.dir, 'outputs', 'share.txt'), 'utf8'));
    }
    expect(texts[0]).toMatch(/cores=1 ram=500 omp=1 blas=1/);
    expect(texts[1]).toMatch(/cores=1 ram=700 omp=1 blas=1/);
    // Both jobs started before either finished: they ran side by side.
    const started = run.logLines.filter((line) => line.msg === 'job matched' && line.share);
    const firstFinish = run.logLines.find((line) => line.msg === 'job finished');
    expect(started).toHaveLength(2);
    expect(String(started[1]?.time) < String(firstFinish?.time)).toBe(true);
  });

  it('beats every running job in one request', async () => {
    service = await startReferenceService({ heartbeatInterval: 1 });
    const ids = [
      await service.submitJob({ workflow: SHARE_TOOL, workflow_params: { seconds: 4 } }),
      await service.submitJob({ workflow: SHARE_TOOL, workflow_params: { seconds: 4 } }),
    ];

    await runPilot({ service, args: ['--cores', '2'] });

    const requests = service.requestCounts()['PATCH /api/jobs/heartbeat'] ?? 0;
    const beats = ids.map((id) => service?.getJob(id).heartbeats ?? 0);
    for (const count of beats) expect(count).toBeGreaterThanOrEqual(3);
    // Separate requests per job would need at least the sum of both counts.
    expect(requests).toBeLessThan((beats[0] ?? 0) + (beats[1] ?? 0));
    const last = service.getJob(ids[0] as number).lastHeartbeat;
    expect(last).toHaveProperty('CPUConsumed');
    expect(last).toHaveProperty('MemoryUsed');
    expect(last).toHaveProperty('WallClockTime');
  });
});

describe('pilot signals', () => {
  it('reschedules running jobs on SIGTERM and leaves', async () => {
    service = await startReferenceService({ heartbeatInterval: 1 });
    const id = await service.submitJob({ workflow: sleeperTool(4711) });
    const pilot = await startPilot({ service, args: ['--signal-budget', '20'] });
    const target = service;
    await waitFor(() => target.getJob(id).minorStatus === 'Application');
    await waitFor(() => false, 500).catch(() => undefined);

    const signalledAt = Date.now();
    pilot.child.kill('SIGTERM');
    const run = await pilot.done;

    expect(run.exitCode).toBe(5);
    expect(Date.now() - signalledAt).toBeLessThan(20_000);
    expect(service.getJob(id).status).toBe('Received');
    expect(service.getJob(id).minorStatus).toBe('Job Rescheduled');
    expect(await processesWith('sleep 4711')).toEqual([]);
    expect(await processesWith('sleep 4712')).toEqual([]);
    const record = [...service.pilots.values()][0];
    expect(record?.status).toBe('Aborted');
    expect(record?.reason).toMatch(/SIGTERM/);
  });

  it('leaves sooner on a second signal', async () => {
    service = await startReferenceService({ heartbeatInterval: 1 });
    // A duration of its own, so that payloads of other test runs on this machine do not count.
    const payload = `sleep ${40_000 + Math.floor(Math.random() * 10_000)}`;
    const stubborn = `
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, "trap '' TERM; ${payload}"]
inputs: []
outputs: []
`;
    const id = await service.submitJob({ workflow: stubborn });
    const pilot = await startPilot({
      service,
      args: ['--signal-budget', '60', '--kill-grace', '60'],
    });
    const target = service;
    await waitFor(() => target.getJob(id).minorStatus === 'Application');
    // The payload must be running (not only about to start) when the signals arrive.
    for (let tries = 0; (await processesWith(payload)).length === 0; tries += 1) {
      if (tries > 100) throw new Error('payload did not start');
      await sleep(100);
    }

    const signalledAt = Date.now();
    pilot.child.kill('SIGUSR1');
    await sleep(500);
    pilot.child.kill('SIGTERM');
    const run = await pilot.done;

    expect(run.exitCode).toBe(5);
    expect(Date.now() - signalledAt).toBeLessThan(15_000);
    expect(run.stderr).toMatch(/second signal/);
    expect(await processesWith(payload)).toEqual([]);
  });

  it('drains on the drain file and lets the job finish', async () => {
    service = await startReferenceService({ heartbeatInterval: 1 });
    const first = await service.submitJob({ workflow: SHARE_TOOL });
    const pilot = await startPilot({ service, args: ['--cores', '1'] });
    const target = service;
    await waitFor(() => target.getJob(first).minorStatus === 'Application');
    const second = await service.submitJob({ workflow: SHARE_TOOL });

    await writeFile(join(pilot.workDir, 'DRAIN'), '');
    const run = await pilot.done;

    expect(run.exitCode).toBe(0);
    expect(service.getJob(first).status).toBe('Done');
    expect(service.getJob(second).status).not.toBe('Done');
    expect(run.stderr).toMatch(/drain file/);
  });
});

describe('pilot time budget', () => {
  it('asks for no job it cannot finish', async () => {
    service = await startReferenceService();
    const id = await service.submitJob({ workflow: SHARE_TOOL });

    const run = await runPilot({
      service,
      args: ['--wall-time', '200', '--min-job-wall-time', '300'],
    });

    expect(run.exitCode).toBe(0);
    expect(service.getJob(id).status).not.toBe('Done');
    expect(service.requestCounts()['POST /api/pilots/internal/match'] ?? 0).toBe(0);
    expect(run.stderr).toMatch(/wall time left/);
  });

  it('offers only the wall time left less the reserve', async () => {
    service = await startReferenceService();
    const fits = await service.submitJob({
      workflow: SHARE_TOOL,
      requirements: { 'wall-time': 500 },
    });
    const tooLong = await service.submitJob({
      workflow: SHARE_TOOL,
      requirements: { 'wall-time': 5000 },
    });

    await runPilot({
      service,
      args: ['--wall-time', '1000', '--upload-reserve', '100', '--min-job-wall-time', '60'],
    });

    expect(service.getJob(fits).status).toBe('Done');
    expect(service.getJob(tooLong).status).toBe('Waiting');
  });
});
