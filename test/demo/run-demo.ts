/**
 * The demo: starts the reference central service on 127.0.0.1 with the jobs of
 * examples/demo-jobs, runs the bundled pilot from an empty folder until the queue is empty,
 * and prints each job's final status and outputs. Exits 0 when every job ended Done.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadJobFiles } from '../reference-service/job-files.js';
import { startReferenceService, type ReferenceService } from '../reference-service/index.js';
import { REPOSITORY_ROOT, runPilot, unpackOutputSandbox } from '../e2e/pilot-harness.js';

const JOBS_DIR = join(REPOSITORY_ROOT, 'examples', 'demo-jobs');

const SHARED_DIR = resolve(REPOSITORY_ROOT, '..', 'shared');

async function main(): Promise<number> {
  const hasShared = existsSync(SHARED_DIR);
  const specs = await loadJobFiles(JOBS_DIR, hasShared ? undefined : documentExists);
  if (!hasShared) {
    console.log(
      `${SHARED_DIR} does not exist, so the demo runs only the jobs whose CWL documents are in ` +
        'this repository. Clone the repository next to that folder to run the DIRAC and CTAO ' +
        'jobs too.',
    );
  }
  const service = await startReferenceService();
  try {
    const labels = new Map<number, string>();
    for (const spec of specs) labels.set(await service.submitJob(spec), spec.label ?? '');
    console.log(
      `reference service at ${service.url} with ${specs.length} jobs; starting the pilot`,
    );

    const run = await runPilot({
      service,
      idleTimeout: 2,
      args: ['--payload-path-prepend', join(REPOSITORY_ROOT, 'examples', 'bin')],
    });
    console.log(`pilot exited with code ${run.exitCode ?? run.signal}\n`);
    if (run.exitCode !== 0) process.stderr.write(run.stderr.slice(-4000));

    let allDone = true;
    for (const [jobId, label] of labels) {
      allDone = (await printJob(service, jobId, label)) && allDone;
    }
    console.log(allDone ? '\nevery job is Done' : '\nsome jobs did not end Done');
    return allDone && run.exitCode === 0 ? 0 : 1;
  } finally {
    await service.close();
  }
}

/** Returns whether a job's `workflow` names a document file that exists. */
function documentExists(workflow: unknown, jobFile: string): boolean {
  return typeof workflow === 'string' && existsSync(resolve(dirname(jobFile), workflow));
}

async function printJob(service: ReferenceService, jobId: number, label: string): Promise<boolean> {
  const job = service.getJob(jobId);
  console.log(`job ${jobId} ${label}: ${job.status} / ${job.minorStatus}`);
  if (job.status !== 'Done') console.log(`  application status: ${job.applicationStatus}`);
  for (const pfn of job.outputSandboxes) {
    const unpacked = await unpackOutputSandbox(service, pfn);
    for (const [id, value] of Object.entries(unpacked.outputs)) {
      console.log(`  ${id}: ${describeOutput(value)}`);
    }
  }
  return job.status === 'Done';
}

function describeOutput(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(describeOutput).join(', ')}]`;
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (object.class === 'File')
      return `File ${String(object.basename)} (${String(object.size)} bytes)`;
    if (object.class === 'Directory') return `Directory ${String(object.basename)}`;
  }
  return JSON.stringify(value);
}

process.exitCode = await main();
