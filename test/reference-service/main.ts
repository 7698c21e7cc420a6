/**
 * Command line of the reference service:
 * `tsx test/reference-service/main.ts --jobs DIR [--port N] [--secret-file PATH]`.
 * Prints one JSON line `{"url", "jobs", "secretFile"}` once listening, logs requests to
 * standard error, and prints a JSON summary of every job on SIGTERM or SIGINT.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { startReferenceService, type ReferenceService } from './index.js';
import { loadJobFiles } from './job-files.js';

const USAGE = 'usage: main.ts --jobs DIR [--port N] [--secret-file PATH]';

async function writeSecret(path: string | undefined): Promise<{ path: string; secret: string }> {
  const secret = randomBytes(24).toString('hex');
  const target = path ?? join(await mkdtemp(join(tmpdir(), 'reference-service-')), 'pilot-secret');
  await writeFile(target, `${secret}\n`, { mode: 0o600 });
  return { path: target, secret };
}

function summarize(service: ReferenceService): string {
  const jobs = service.listJobs().map((job) => ({
    id: job.id,
    label: job.label,
    status: job.status,
    minorStatus: job.minorStatus,
    applicationStatus: job.applicationStatus,
    heartbeats: job.heartbeats,
    rescheduleCount: job.rescheduleCount,
    outputSandboxes: job.outputSandboxes,
  }));
  return JSON.stringify({ jobs });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string' },
      port: { type: 'string' },
      'secret-file': { type: 'string' },
    },
  });
  if (values.jobs === undefined) {
    process.stderr.write(`${USAGE}\n--jobs is missing: give the folder of job files\n`);
    return 2;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`${USAGE}\n--port ${values.port} is invalid: give 0 to 65535\n`);
    return 2;
  }

  const specs = await loadJobFiles(values.jobs);
  const service = await startReferenceService({ port, log: true });
  for (const spec of specs) {
    await service.submitJob(spec);
  }
  const secret = await writeSecret(values['secret-file']);
  service.addPilotSecret(null, secret.secret);
  process.stdout.write(
    `${JSON.stringify({ url: service.url, jobs: specs.length, secretFile: secret.path })}\n`,
  );

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  process.stdout.write(`${summarize(service)}\n`);
  await service.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`reference service failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
