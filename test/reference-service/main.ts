/**
 * Command line of the reference service:
 * `tsx test/reference-service/main.ts --jobs DIR [--port N] [--secret-file PATH]
 * [--faults SPEC] [--route-faults SPEC]...`, with SPEC as `parseFaultSpec` reads it.
 * Prints one JSON line `{"url", "jobs", "secretFile"}` once listening, logs requests to
 * standard error, and prints a JSON summary (`{"jobs", "audit", "faults"}`) on SIGTERM or
 * SIGINT.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { parseFaultSpec, parseRouteFaultSpec } from './fault-spec.js';
import type { FaultOptions } from './faults.js';
import { startReferenceService, type ReferenceService } from './index.js';
import { loadJobFiles } from './job-files.js';

const USAGE =
  'usage: main.ts --jobs DIR [--port N] [--secret-file PATH] [--faults SPEC] ' +
  '[--route-faults SPEC]...\n' +
  '  --faults rate=R,kinds=K1,K2,...[,seed=N][,delay=MIN-MAX][,statuses=S1,S2][,retry-after=S]' +
  '[,url-lifetime=S][,lost-excluded=ROUTE,...|none]\n' +
  '  --route-faults rate=R,routes=ROUTE,...[,kinds=K1,...]  (checked before --faults)\n' +
  '  kinds: error, delay, drop, lost, expire, unauthorized; delay and times in seconds';

/** Builds fault options from the flags; undefined when neither flag is given. */
function faultOptionsOf(
  faults: string | undefined,
  routeFaults: string[] | undefined,
): FaultOptions | undefined {
  if (faults === undefined && routeFaults === undefined) {
    return undefined;
  }
  const options = faults === undefined ? { rate: 0 } : parseFaultSpec(faults);
  options.routeRules = (routeFaults ?? []).map(parseRouteFaultSpec);
  return options;
}

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
    finalStatusRecords: job.finalStatusRecords,
  }));
  return JSON.stringify({ jobs, audit: service.audit(), faults: service.faultCounts() });
}

/** Values of the command line, checked. */
interface CommandLine {
  jobs: string;
  port: number;
  secretFile: string | undefined;
  faults: FaultOptions | undefined;
}

/** Reads and checks the flags; returns the error message of an invalid command line. */
function parseCommandLine(): CommandLine | { error: string } {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string' },
      port: { type: 'string' },
      'secret-file': { type: 'string' },
      faults: { type: 'string' },
      'route-faults': { type: 'string', multiple: true },
    },
  });
  if (values.jobs === undefined) {
    return { error: '--jobs is missing: give the folder of job files' };
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return { error: `--port ${values.port} is invalid: give 0 to 65535` };
  }
  try {
    const faults = faultOptionsOf(values.faults, values['route-faults']);
    return { jobs: values.jobs, port, secretFile: values['secret-file'], faults };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

async function main(): Promise<number> {
  const commandLine = parseCommandLine();
  if ('error' in commandLine) {
    process.stderr.write(`${USAGE}\n${commandLine.error}\n`);
    return 2;
  }

  const specs = await loadJobFiles(commandLine.jobs);
  const service = await startReferenceService({
    port: commandLine.port,
    log: true,
    faults: commandLine.faults,
  });
  for (const spec of specs) {
    await service.submitJob(spec);
  }
  const secret = await writeSecret(commandLine.secretFile);
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
