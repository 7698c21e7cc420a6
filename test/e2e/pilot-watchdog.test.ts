/**
 * The watchdog and the whole-tree kill, end to end: payloads that exceed their memory,
 * stall, fill the job folder or leave daemons behind, run by the bundled pilot against the
 * reference central service.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startReferenceService, type ReferenceService } from '../reference-service/index.js';
import { runPilot, unpackOutputSandbox, processesWith } from './pilot-harness.js';

function shellTool(script: string): string {
  return `
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, ${JSON.stringify(script)}]
inputs: []
outputs: []
`;
}

const FAST_WATCHDOG = ['--watchdog-interval', '1', '--kill-grace', '2'];

let service: ReferenceService | undefined;

afterEach(async () => {
  await service?.close();
  service = undefined;
});

async function expectLogsShipped(jobId: number, text: string): Promise<void> {
  const job = service?.getJob(jobId);
  expect(job?.outputSandboxes).toHaveLength(1);
  const unpacked = await unpackOutputSandbox(
    service as ReferenceService,
    job?.outputSandboxes[0] as string,
  );
  expect(unpacked.members).toContain('logs/wrapper.log');
  const stdout = await readFile(`${unpacked.dir}/logs/payload.stdout`, 'utf8');
  expect(stdout).toContain(text);
}

describe('pilot watchdog', () => {
  it('fails a payload over its memory share', async () => {
    service = await startReferenceService();
    const id = await service.submitJob({
      workflow: shellTool(
        'echo allocating; python3 -c "import time; b = bytearray(300 * 1024 * 1024); time.sleep(60)"',
      ),
      requirements: { 'ram-mb': 100 },
    });

    await runPilot({ service, args: FAST_WATCHDOG });

    expect(service.getJob(id).status).toBe('Failed');
    expect(service.getJob(id).minorStatus).toBe('Job has exceeded maximum memory');
    await expectLogsShipped(id, 'allocating');
  });

  it('fails a stalled payload', async () => {
    service = await startReferenceService();
    const id = await service.submitJob({ workflow: shellTool('echo waiting; sleep 120') });

    await runPilot({ service, args: [...FAST_WATCHDOG, '--stall-window', '4'] });

    expect(service.getJob(id).status).toBe('Failed');
    expect(service.getJob(id).minorStatus).toBe('Watchdog identified this job as stalled');
    await expectLogsShipped(id, 'waiting');
  });

  it('fails a payload that fills its folder', async () => {
    service = await startReferenceService();
    const id = await service.submitJob({
      workflow: shellTool(
        'echo filling; for i in $(seq 1 100); do head -c 1000000 /dev/zero > f$i; sleep 0.05; done; sleep 60',
      ),
    });

    await runPilot({ service, args: [...FAST_WATCHDOG, '--max-job-dir-mb', '20'] });

    expect(service.getJob(id).status).toBe('Failed');
    expect(service.getJob(id).minorStatus).toBe('Job has insufficient disk space to continue');
    await expectLogsShipped(id, 'filling');
  });

  it('fails a payload over its wall time', async () => {
    service = await startReferenceService();
    const id = await service.submitJob({
      workflow: shellTool('echo started; sleep 60'),
      requirements: { 'wall-time': 2 },
    });

    await runPilot({ service, args: [...FAST_WATCHDOG, '--min-job-wall-time', '1'] });

    expect(service.getJob(id).status).toBe('Failed');
    expect(service.getJob(id).minorStatus).toBe('Job has exceeded maximum wall clock time');
  });
});

describe('pilot kill', () => {
  it('ends daemons and TERM-ignoring payloads with the job', async () => {
    service = await startReferenceService();
    const id = await service.submitJob({
      workflow: shellTool(
        "setsid sh -c 'sleep 4821' > /dev/null 2>&1 & (trap '' TERM; sleep 4822) & echo forked; wait",
      ),
      requirements: { 'wall-time': 3 },
    });

    await runPilot({ service, args: [...FAST_WATCHDOG, '--min-job-wall-time', '1'] });

    expect(service.getJob(id).status).toBe('Failed');
    expect(await processesWith('sleep 4821')).toEqual([]);
    expect(await processesWith('sleep 4822')).toEqual([]);
  });
});
