import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

import { parse as parseYaml } from 'yaml';

import type { JobRequirements, JobSpec } from './types.js';

/** One job as written in a job file; paths are relative to the file. */
interface JobFileEntry {
  label?: string;
  workflow?: unknown;
  workflow_params?: Record<string, unknown>;
  requirements?: JobRequirements;
  input_sandbox_dir?: string;
  input_sandbox_files?: string[];
  owner?: string;
  owner_group?: string;
  vo?: string;
}

const JOB_FILE_PATTERN = /\.(ya?ml|json)$/;

async function entryToSpec(entry: JobFileEntry, file: string, index: number): Promise<JobSpec> {
  if (typeof entry.workflow !== 'string') {
    throw new Error(`Job ${index} in ${file} has no workflow path; set "workflow: <file.cwl>"`);
  }
  const base = dirname(file);
  const spec: JobSpec = {
    workflow: await readFile(resolve(base, entry.workflow), 'utf8'),
    workflow_params: entry.workflow_params ?? {},
    requirements: entry.requirements ?? {},
    label: entry.label ?? `${file}#${index}`,
  };
  if (entry.input_sandbox_dir !== undefined) {
    spec.inputSandboxDir = resolve(base, entry.input_sandbox_dir);
    spec.inputSandboxFiles = entry.input_sandbox_files;
  }
  for (const field of ['owner', 'owner_group', 'vo'] as const) {
    if (entry[field] !== undefined) {
      spec[field] = entry[field];
    }
  }
  return spec;
}

/**
 * Reads every `*.yaml`, `*.yml` and `*.json` job file of a folder, in name order. A file
 * contains one job, or `{jobs: [...]}` for several. With `include`, only the jobs whose
 * `workflow` value it accepts are read; it gets the value and the job file's path.
 */
export async function loadJobFiles(
  dir: string,
  include?: (workflow: unknown, file: string) => boolean,
): Promise<JobSpec[]> {
  const names = (await readdir(dir)).filter((name) => JOB_FILE_PATTERN.test(name)).sort();
  const specs: JobSpec[] = [];
  for (const name of names) {
    const file = join(resolve(dir), name);
    const document = parseYaml(await readFile(file, 'utf8')) as unknown;
    if (typeof document !== 'object' || document === null) {
      throw new Error(`Job file ${file} is not a mapping; write {workflow: ...} or {jobs: [...]}`);
    }
    const jobsField = (document as { jobs?: unknown }).jobs;
    const entries = Array.isArray(jobsField) ? jobsField : [document];
    for (const [index, entry] of entries.entries()) {
      if (include !== undefined && !include((entry as JobFileEntry).workflow, file)) continue;
      specs.push(await entryToSpec(entry as JobFileEntry, file, index));
    }
  }
  return specs;
}
