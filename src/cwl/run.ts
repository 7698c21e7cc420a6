/**
 * Entry of the CWL engine: loads a document, builds the input object, dispatches on the
 * process class and moves the outputs into the output folder.
 */
import { mkdir, mkdtemp, rmdir } from './async-fs.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CwlExecutionError, CwlUnsupportedError, PilotError, describeError } from '../errors.js';
import { runCommandLineTool } from './command-tool.js';
import { createEvaluator } from './evaluate.js';
import { runExpressionTool } from './expression-tool.js';
import { checkInputFormats, expandFileFormats } from './formats.js';
import type { ProcessStatus, RunDocumentOptions, RunDocumentResult } from './index.js';
import { bindInputValues, resolveInputFiles, type InputContext } from './inputs.js';
import { loadCwlDocument } from './loader.js';
import { removeTree } from './files.js';
import { asArray, isObject, type CwlObject } from './model.js';
import type { ProcessRun } from './process-run.js';
import { relocateOutputs } from './relocate.js';
import { collectNamedTypes } from './schema.js';
import { stageInputs } from './staging.js';
import { runWorkflow } from './workflow/run-workflow.js';

/** Runs one process and returns its status and raw output object. */
export type ProcessRunner = (
  run: ProcessRun,
) => Promise<{ status: ProcessStatus; outputs: Record<string, unknown> }>;

/** Runners by process class; an Operation has no implementation, so it cannot run. */
const RUNNERS: Record<string, ProcessRunner> = {
  CommandLineTool: runCommandLineTool,
  ExpressionTool: runExpressionTool,
  Workflow: runWorkflow,
};

/**
 * Requirement classes accepted under `requirements`. SoftwareRequirement installs nothing, so
 * the software must already be on PATH.
 * NOTE: `NetworkAccess: {networkAccess: false}` is accepted but not enforced on the host.
 */
const SUPPORTED_REQUIREMENTS = new Set([
  'InlineJavascriptRequirement',
  'SchemaDefRequirement',
  'LoadListingRequirement',
  'InitialWorkDirRequirement',
  'EnvVarRequirement',
  'ShellCommandRequirement',
  'ResourceRequirement',
  'SoftwareRequirement',
  'WorkReuse',
  'NetworkAccess',
  'InplaceUpdateRequirement',
  'ToolTimeLimit',
  'SubworkflowFeatureRequirement',
  'ScatterFeatureRequirement',
  'MultipleInputFeatureRequirement',
  'StepInputExpressionRequirement',
]);

/**
 * Loads the CWL document of `options`, runs it with `options.job` and returns the output
 * object, with Files and Directories moved into `options.outdir`. Throws CwlValidationError,
 * CwlUnsupportedError or CwlExecutionError.
 */
export async function runDocument(options: RunDocumentOptions): Promise<RunDocumentResult> {
  const loaded = await loadCwlDocument(options.document, options.documentText);
  const process = loaded.process;
  if (process.class === 'Workflow' && options.runtime?.wholeShare) {
    // Steps share the slot between them, so none of them is given all of it.
    options = { ...options, runtime: { ...options.runtime, wholeShare: false } };
  }
  const job = applyJobRequirements(process, options.job);
  const runner = selectRunner(process);

  const outdir = path.resolve(options.outdir);
  const base = path.resolve(options.tmpdirPrefix ?? os.tmpdir());
  await makeFolder(outdir, 'output folder');
  const createdBase = await makeFolder(base, 'folder for temporary files');
  const root = await mkdtemp(path.join(base, 'ctao-cwl-'));

  try {
    const run = await prepareRun(process, loaded.uri, { ...options, job }, root);
    run.document = loaded;
    const result = await runner(run);
    const outputs = await relocateOutputs(result.outputs, run.jobDir, outdir, root);
    return { status: result.status, outputs };
  } catch (error) {
    if (error instanceof PilotError) throw error;
    // A file-system error while staging or moving files still fails the run as a CWL error.
    throw new CwlExecutionError('CWL_RUN_FAILED', `the run failed: ${describeError(error)}`, {
      cause: error,
    });
  } finally {
    await removeTree(root);
    if (createdBase !== undefined) await removeEmptyFolders(base, createdBase);
  }
}

/**
 * Makes folder `dir` and any missing parents, and returns the first folder it made, if any.
 * Throws CwlExecutionError naming `role` and the folder when a file is in the way or the
 * folder cannot be made.
 */
async function makeFolder(dir: string, role: string): Promise<string | undefined> {
  try {
    return await mkdir(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    let reason = describeError(error);
    if (code === 'EEXIST' || code === 'ENOTDIR') reason = 'a file is in the way';
    else if (code === 'EACCES' || code === 'EPERM') reason = 'permission denied';
    throw new CwlExecutionError(
      'CWL_RUN_FAILED',
      `cannot make the ${role} ${dir}: ${reason}; give a folder that can be made or exists`,
      { cause: error },
    );
  }
}

/** Removes `dir` and its parents up to `top`, each only while it is empty. */
async function removeEmptyFolders(dir: string, top: string): Promise<void> {
  for (let current = dir; current.startsWith(top); current = path.dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      // Not empty, or already gone: the rest stays.
      return;
    }
    if (current === top) return;
  }
}

/**
 * Moves the `cwl:requirements` of the input object into the process's requirements, where they
 * override requirements and hints of the same class. Returns the input object without them.
 */
function applyJobRequirements(
  process: CwlObject,
  job: Record<string, unknown>,
): Record<string, unknown> {
  const { 'cwl:requirements': fromJob, ...rest } = job;
  if (fromJob === undefined) return job;
  const listed = Array.isArray(fromJob)
    ? fromJob.filter(isObject)
    : Object.entries(isObject(fromJob) ? fromJob : {}).map(([name, body]) => ({
        ...(isObject(body) ? body : {}),
        class: name,
      }));
  process.requirements = [...asArray(process.requirements), ...listed];
  return rest;
}

/**
 * Returns the runner of the process's class. Throws CwlUnsupportedError for a class or a
 * requirement that this engine cannot run.
 */
export function selectRunner(process: CwlObject): ProcessRunner {
  const className = String(process.class);
  const runner = RUNNERS[className];
  if (runner === undefined) {
    throw new CwlUnsupportedError('CWL_UNSUPPORTED', `${className} is not supported yet`);
  }
  for (const requirement of asArray(process.requirements).filter(isObject)) {
    const name = String(requirement.class);
    if (name === 'DockerRequirement') {
      throw new CwlUnsupportedError(
        'CWL_UNSUPPORTED',
        'DockerRequirement is not supported: this engine runs tools on the host, never in a container. Move it under "hints" to run the tool on the host.',
      );
    }
    if (!SUPPORTED_REQUIREMENTS.has(name)) {
      throw new CwlUnsupportedError('CWL_UNSUPPORTED', `requirement ${name} is not supported`);
    }
  }
  return runner;
}

/**
 * Makes the run's folders under `root`, then builds, checks and stages the input object of
 * `process` from `options.job`. Workflow steps use it for each job too.
 */
export async function prepareRun(
  process: CwlObject,
  documentUri: string,
  options: RunDocumentOptions,
  root: string,
): Promise<ProcessRun> {
  const jobDir = path.join(root, 'out');
  const tmpDir = path.join(root, 'tmp');
  // Made by the first input that needs staging: most runs stage nothing.
  const stagingDir = path.join(root, 'stage');
  await Promise.all([mkdir(jobDir), mkdir(tmpDir)]);

  const named = collectNamedTypes(process);
  const context: InputContext = {
    process,
    named,
    jobBaseDir: path.resolve(options.jobBaseDir),
    documentDir: path.dirname(fileURLToPath(documentUri)),
    stagingDir,
  };
  const { values, fromDefault } = bindInputValues(context, options.job);
  expandFileFormats(values, process.$namespaces);
  const evaluator = createEvaluator(process, values, undefined);
  await resolveInputFiles(context, values, fromDefault, evaluator);
  await checkInputFormats(process, values, named, evaluator, context.documentDir);
  const inputSources = await stageInputs(values, stagingDir);
  return { process, inputs: values, named, jobDir, tmpDir, stagingDir, inputSources, options };
}
