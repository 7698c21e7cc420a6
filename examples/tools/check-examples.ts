/**
 * Checks the example jobs against the CWL documents they run, without running them. Every path
 * must exist, and every File location of a demo job must be shipped in its input sandbox. Every
 * input given must be declared by the document, and every required input must have a value.
 *
 * Run from the repository root: `npx tsx examples/tools/check-examples.ts`. Exit code 0 when
 * every job passes, 1 otherwise; each problem is printed on its own line.
 */
import { constants, accessSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parse as parseYaml } from 'yaml';

const EXAMPLES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPOSITORY_DIR = resolve(EXAMPLES_DIR, '..');
/** The only folder outside the repository that job files may point into. */
const SHARED_DIR = resolve(REPOSITORY_DIR, '..', 'shared');
const DATAPIPE_WORKFLOWS =
  '../../../shared/ctao-cwl-examples/pypi-ctao-datapipe-0.3.1@index/workflows';
const DIRAC_WORKFLOWS =
  '../../../shared/dirac-cwl-examples/DIRACGrid-dirac-cwl@c77d81a/test/workflows';

/** Local input objects of examples/jobs and the documents they are for, relative to them. */
const LOCAL_JOBS: Record<string, string> = {
  'helloworld-message.yaml': `${DIRAC_WORKFLOWS}/helloworld/description_with_inputs.cwl`,
  'parallel-sleep.yaml': `${DIRAC_WORKFLOWS}/parallel/sleep.cwl`,
  'process-dl0-dl1.yaml': `${DATAPIPE_WORKFLOWS}/process_dl0_dl1.cwl`,
  'simulate-showers.yaml': '../cwl/simulate-showers.cwl',
  'analyse-events.yaml': '../cwl/analyse-events.cwl',
  'shower-pipeline.yaml': '../cwl/shower-pipeline.cwl',
};

const DEMO_JOB_KEYS = new Set([
  'label',
  'workflow',
  'workflow_params',
  'input_sandbox_dir',
  'input_sandbox_files',
  'requirements',
]);

type Mapping = Record<string, unknown>;

interface InputDeclaration {
  id: string;
  required: boolean;
}

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readYaml(file: string): unknown {
  return parseYaml(readFileSync(file, 'utf8'));
}

/** Tells whether a resolved path lies inside the repository or the shared folder beside it. */
function isAllowedPath(path: string): boolean {
  return [REPOSITORY_DIR, SHARED_DIR].some((root) => path === root || path.startsWith(root + sep));
}

/** Reads the inputs of a CWL document, given as a map or as a list of `{id, ...}` entries. */
function declaredInputs(document: Mapping): InputDeclaration[] {
  const inputs = document.inputs;
  const entries: [string, unknown][] = Array.isArray(inputs)
    ? inputs.map((entry: Mapping) => [String(entry.id), entry])
    : Object.entries(isMapping(inputs) ? inputs : {});
  return entries.map(([id, declaration]) => {
    const type = isMapping(declaration) ? declaration.type : declaration;
    const hasDefault = isMapping(declaration) && declaration.default !== undefined;
    const optional =
      (typeof type === 'string' && type.endsWith('?')) ||
      (Array.isArray(type) && type.includes('null'));
    return { id: id.replace(/^#/, ''), required: !hasDefault && !optional };
  });
}

/** Collects the `location` of every File and Directory object inside an input object. */
function fileLocations(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    value.forEach((item) => fileLocations(item, found));
  } else if (isMapping(value)) {
    if (
      (value.class === 'File' || value.class === 'Directory') &&
      typeof value.location === 'string'
    ) {
      found.push(value.location);
    }
    Object.values(value).forEach((item) => fileLocations(item, found));
  }
  return found;
}

/** Checks an input object against the inputs its document declares. */
function checkParams(params: Mapping, document: Mapping): string[] {
  const problems: string[] = [];
  const inputs = declaredInputs(document);
  const ids = new Set(inputs.map((input) => input.id));
  for (const key of Object.keys(params)) {
    if (!ids.has(key)) {
      problems.push(
        `input "${key}" is not declared by the document (inputs: ${[...ids].join(', ')})`,
      );
    }
  }
  for (const input of inputs) {
    if (input.required && params[input.id] === undefined) {
      problems.push(`required input "${input.id}" has no value`);
    }
  }
  return problems;
}

/** Loads the CWL document that a job names; returns it with the problems found. */
function loadDocument(jobFile: string, workflow: unknown): [Mapping | undefined, string[]] {
  if (typeof workflow !== 'string') {
    return [undefined, ['"workflow" must be the path of a CWL document']];
  }
  const path = resolve(dirname(jobFile), workflow);
  if (!isAllowedPath(path)) {
    return [undefined, [`workflow ${workflow} lies outside the repository and ../shared`]];
  }
  if (!existsSync(path)) {
    return [undefined, [`workflow ${path} not found`]];
  }
  const document = readYaml(path);
  if (!isMapping(document) || document.cwlVersion !== 'v1.2') {
    return [undefined, [`workflow ${path} is not a CWL v1.2 document`]];
  }
  return [document, []];
}

/** Checks the input sandbox of a demo job and that it ships every File the job names. */
function checkSandbox(jobFile: string, job: Mapping): string[] {
  const locations = fileLocations(job.workflow_params);
  if (job.input_sandbox_dir === undefined) {
    return locations.map((location) => `File ${location} given, but the job has no input sandbox`);
  }
  if (typeof job.input_sandbox_dir !== 'string') {
    return ['"input_sandbox_dir" must be a folder path'];
  }
  const root = resolve(dirname(jobFile), job.input_sandbox_dir);
  if (!isAllowedPath(root) || !existsSync(root)) {
    return [`input sandbox folder ${root} not found, or outside the repository and ../shared`];
  }
  const members = job.input_sandbox_files ?? readdirSync(root);
  if (!Array.isArray(members) || members.some((member) => typeof member !== 'string')) {
    return ['"input_sandbox_files" must be a list of paths'];
  }

  const problems: string[] = [];
  for (const member of members as string[]) {
    const path = resolve(root, member);
    if (isAbsolute(member) || relative(root, path).startsWith('..')) {
      problems.push(`sandbox file ${member} is not a relative path inside ${root}`);
    } else if (!existsSync(path) || !statSync(path).isFile()) {
      problems.push(`sandbox file ${path} not found`);
    } else if (member.startsWith('bin/') && !isExecutable(path)) {
      problems.push(`sandbox program ${path} is not executable; run chmod +x on it`);
    }
  }
  for (const location of locations) {
    if (!members.includes(location)) {
      problems.push(`File ${location} is not among input_sandbox_files`);
    }
  }
  return problems;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Checks one job file of examples/demo-jobs in the format the demo's central service reads. */
function checkDemoJob(jobFile: string): string[] {
  const job = readYaml(jobFile);
  if (!isMapping(job)) {
    return ['the job file must be a mapping'];
  }
  const problems = Object.keys(job)
    .filter((key) => !DEMO_JOB_KEYS.has(key))
    .map((key) => `unknown key "${key}"; expected one of ${[...DEMO_JOB_KEYS].join(', ')}`);
  if (typeof job.label !== 'string' || job.label.trim() === '') {
    problems.push('"label" must be a short non-empty name');
  }
  const cores = isMapping(job.requirements) ? job.requirements.cores : undefined;
  if (!Number.isInteger(cores) || (cores as number) < 1) {
    problems.push('"requirements.cores" must be a positive integer');
  }

  const [document, documentProblems] = loadDocument(jobFile, job.workflow);
  problems.push(...documentProblems);
  if (document !== undefined) {
    const params = isMapping(job.workflow_params) ? job.workflow_params : {};
    problems.push(...checkParams(params, document));
  }
  return [...problems, ...checkSandbox(jobFile, job)];
}

/** Checks one input object of examples/jobs against its document; File paths are local. */
function checkLocalJob(jobFile: string, workflow: string): string[] {
  const [document, problems] = loadDocument(jobFile, workflow);
  const params = readYaml(jobFile);
  if (!isMapping(params)) {
    return [...problems, 'the input object must be a mapping'];
  }
  if (document !== undefined) {
    problems.push(...checkParams(params, document));
  }
  for (const location of fileLocations(params)) {
    if (!existsSync(resolve(dirname(jobFile), location))) {
      problems.push(`File ${location} not found beside the job file`);
    }
  }
  return problems;
}

function main(): number {
  const results: [string, string[]][] = [];
  const demoDir = join(EXAMPLES_DIR, 'demo-jobs');
  const demoFiles = readdirSync(demoDir).filter((name) => /\.ya?ml$/.test(name));
  for (const name of demoFiles.sort()) {
    results.push([`demo-jobs/${name}`, checkDemoJob(join(demoDir, name))]);
  }
  for (const [name, workflow] of Object.entries(LOCAL_JOBS)) {
    results.push([`jobs/${name}`, checkLocalJob(join(EXAMPLES_DIR, 'jobs', name), workflow)]);
  }

  let failures = 0;
  for (const [name, problems] of results) {
    console.log(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${name}`);
    problems.forEach((problem) => console.log(`       ${problem}`));
    failures += problems.length === 0 ? 0 : 1;
  }
  console.log(`${results.length - failures} passed, ${failures} failed`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = main();
