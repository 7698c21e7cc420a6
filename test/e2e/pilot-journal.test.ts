/**
 * Delivery without loss or duplicates. A pilot killed with SIGKILL during an upload and
 * restarted on the same work folder must deliver every job's final status and output sandbox
 * exactly once. So must a pilot run against a service that misbehaves on every route.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startReferenceService, type ReferenceService } from '../reference-service/index.js';
import { TOKEN_ROUTES } from '../reference-service/faults.js';
import { runPilot, startPilot, unpackOutputSandbox, processesWith } from './pilot-harness.js';

const ECHO_TOOL = `
cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  message: {type: string, inputBinding: {position: 1}}
stdout: said.txt
outputs:
  said: {type: stdout}
`;

let service: ReferenceService | undefined;

afterEach(async () => {
  await service?.close();
  service = undefined;
});

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}

async function expectDeliveredOnce(target: ReferenceService, id: number, message: string) {
  const job = target.getJob(id);
  expect(job.status).toBe('Done');
  expect(job.outputSandboxes).toHaveLength(1);
  const unpacked = await unpackOutputSandbox(target, job.outputSandboxes[0] as string);
  expect(unpacked.outputs.said).toMatchObject({ class: 'File', size: message.length + 1 });
}

describe('pilot journal', () => {
  it('delivers once after SIGKILL during an upload', { timeout: 180_000 }, async () => {
    // Uploads to storage are held back for 4 s, so the pilot can be killed mid-upload.
    service = await startReferenceService({
      faults: { rate: 1, kinds: ['delay'], routes: ['POST /s3/{bucket}'], delaySeconds: [4, 4] },
    });
    const id = await service.submitJob({
      workflow: ECHO_TOOL,
      workflow_params: { message: 'kept' },
    });
    const first = await startPilot({ service, args: ['--pilot-stamp', 'restart-1'] });
    const target = service;
    await waitFor(() => (target.requestCounts()['POST /s3/{bucket}'] ?? 0) > 0);

    first.child.kill('SIGKILL');
    await first.done;
    expect(service.getJob(id).status).not.toBe('Done');
    service.setFaults(undefined);
    const second = await runPilot({
      service,
      workDir: first.workDir,
      args: ['--pilot-stamp', 'restart-1'],
    });

    expect(second.exitCode).toBe(0);
    expect(second.stderr).toMatch(/job left by an earlier pilot/);
    await expectDeliveredOnce(service, id, 'kept');
    expect(service.audit()).toEqual([]);
  });

  it('ends the payload of a dead pilot and reschedules', { timeout: 120_000 }, async () => {
    service = await startReferenceService();
    const id = await service.submitJob({
      workflow: `
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'sleep 4741']
inputs: []
outputs: []
`,
    });
    const first = await startPilot({ service, args: ['--pilot-stamp', 'restart-2'] });
    const target = service;
    await waitFor(() => target.getJob(id).minorStatus === 'Application');
    await waitFor(() => false, 500).catch(() => undefined);

    first.child.kill('SIGKILL');
    await first.done;
    expect(await processesWith('sleep 4741')).not.toEqual([]);
    // The drain file keeps the restarted pilot from matching the rescheduled job again.
    await writeFile(join(first.workDir, 'DRAIN'), '');
    const second = await runPilot({
      service,
      workDir: first.workDir,
      args: ['--pilot-stamp', 'restart-2'],
    });

    expect(second.exitCode).toBe(0);
    expect(await processesWith('sleep 4741')).toEqual([]);
    expect(service.getJob(id).status).toBe('Received');
    expect(service.getJob(id).minorStatus).toBe('Job Rescheduled');
  });

  it('finishes every job through steady faults', { timeout: 600_000 }, async () => {
    service = await startReferenceService({
      heartbeatInterval: 2,
      faults: {
        rate: 0.15,
        kinds: ['error', 'delay', 'drop', 'lost', 'expire', 'unauthorized'],
        delaySeconds: [0.2, 1],
        seed: 11,
        // A match response lost after the service acted strands the job at the service, which
        // no client can repair. Lost token responses consume single-use credentials the same way.
        lostExcludedRoutes: [...TOKEN_ROUTES, 'POST /api/pilots/internal/match'],
      },
    });
    const messages = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const ids: number[] = [];
    for (const message of messages) {
      ids.push(await service.submitJob({ workflow: ECHO_TOOL, workflow_params: { message } }));
    }

    const run = await runPilot({
      service,
      idleTimeout: 8,
      args: ['--cores', '2', '--service-deadline', '60'],
    });

    expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);
    for (const [index, id] of ids.entries()) {
      await expectDeliveredOnce(service, id, messages[index] as string);
    }
    expect(service.audit()).toEqual([]);
    const injected = Object.values(service.faultCounts()).length;
    expect(injected).toBeGreaterThan(0);
  });
});
