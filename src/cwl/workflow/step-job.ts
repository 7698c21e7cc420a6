/**
 * Runs one workflow step: its scatter jobs, each through the job scheduler, with `valueFrom`
 * and `when` per job, and gathers the jobs' outputs into the step's output values.
 */
import { mkdir, mkdtemp } from '../async-fs.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CwlExecutionError,
  CwlUnsupportedError,
  CwlValidationError,
  PilotError,
  describeError,
} from '../../errors.js';
import { createEvaluator } from '../evaluate.js';
import { removeTree } from '../files.js';
import type { RunDocumentOptions } from '../index.js';
import { bindInputValues } from '../inputs.js';
import {
  asArray,
  findRequirement,
  isFileLike,
  isObject,
  localName,
  type CwlObject,
} from '../model.js';
import { computeResources } from '../resources.js';
import { prepareRun, selectRunner } from '../run.js';
import { collectNamedTypes } from '../schema.js';
import type { StepPlan, WorkflowPlan } from './plan.js';
import type { ProgressTracker } from './progress.js';
import { expandScatter, reshape } from './scatter.js';
import type { JobScheduler, ResourceRequest } from './scheduler.js';
import { applyValueFrom, evaluateCondition, gatherStepInputs } from './step-inputs.js';
import { noteCodePart } from '../../code-parts.js';

/** State shared by every step of one run, sub-workflows included. */
export interface WorkflowContext {
  options: RunDocumentOptions;
  scheduler: JobScheduler;
  progress: ProgressTracker;
  /** The first step failure; later errors are consequences of stopping the run. */
  failure: Error | undefined;
  /** Runs a sub-workflow; passed in to keep this module free of an import cycle. */
  executeWorkflow: (
    context: WorkflowContext,
    plan: WorkflowPlan,
    inputs: Record<string, unknown>,
    workRoot: string,
  ) => Promise<Record<string, unknown>>;
}

/** Outputs of one job keyed by short name, or null for a job skipped by `when`. */
type JobOutputs = Record<string, unknown> | null;

/**
 * Runs `step` of `workflow` with the values available so far and returns its output values
 * keyed by full output id. Scattered outputs are arrays in job order; skipped jobs give null.
 */
export async function runStep(
  context: WorkflowContext,
  workflow: WorkflowPlan,
  step: StepPlan,
  values: Map<string, unknown>,
  workRoot: string,
): Promise<Map<string, unknown>> {
  let results: JobOutputs[];
  let shape: number[] = [];
  try {
    const documentDir = path.dirname(fileURLToPath(workflow.documentUri));
    const stagingDir = path.join(workRoot, 'defaults');
    await mkdir(stagingDir, { recursive: true });
    const inputs = await gatherStepInputs(step, values, { documentDir, stagingDir });

    if (step.scatter.length === 0) {
      results = [await runJob(context, step, inputs, workRoot, undefined)];
    } else {
      noteCodePart('scatter');
      const scatter = expandScatter(
        inputs,
        step.scatter,
        step.step.scatterMethod,
        `step ${step.name}`,
      );
      shape = scatter.shape;
      context.progress.declare(step.name, scatter.jobs.length);
      if (scatter.jobs.length === 0) context.progress.update(step.name, 'done');
      results = await runScatterJobs(context, step, scatter.jobs, workRoot);
    }
  } catch (error) {
    throw recordFailure(context, step, error);
  }

  const outputs = new Map<string, unknown>();
  for (const id of step.outputIds) {
    const name = localName(id);
    const picked = results.map((result) => (result === null ? null : (result[name] ?? null)));
    outputs.set(id, step.scatter.length === 0 ? picked[0] : reshape(picked, shape));
  }
  return outputs;
}

/** Starts every scatter job, waits until all have ended, and throws the first failure. */
async function runScatterJobs(
  context: WorkflowContext,
  step: StepPlan,
  jobs: Record<string, unknown>[],
  workRoot: string,
): Promise<JobOutputs[]> {
  const started = jobs.map((job, index) => runJob(context, step, job, workRoot, index));
  // Each job's input object is dropped once the job started, so only outputs stay alive.
  jobs.length = 0;
  const settled = await Promise.allSettled(started);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<JobOutputs>).value);
}

/** Runs one job of `step`: valueFrom, when, then the tool or sub-workflow. */
async function runJob(
  context: WorkflowContext,
  step: StepPlan,
  gathered: Record<string, unknown>,
  workRoot: string,
  index: number | undefined,
): Promise<JobOutputs> {
  const label = index === undefined ? step.name : `${step.name}[${index}]`;
  try {
    const inputs = await applyValueFrom(step, gathered);
    if (!(await evaluateCondition(step, inputs))) {
      context.progress.update(step.name, 'skipped', index);
      return null;
    }
    const outputs =
      step.subworkflow === undefined
        ? await runToolJob(context, step, inputs, workRoot, label, index)
        : await runSubworkflowJob(context, step, inputs, workRoot, label, index);
    context.progress.update(step.name, 'done', index);
    return outputs;
  } catch (error) {
    context.progress.update(step.name, 'failed', index);
    throw recordFailure(context, step, labelError(error, label));
  }
}

async function runToolJob(
  context: WorkflowContext,
  step: StepPlan,
  inputs: Record<string, unknown>,
  workRoot: string,
  label: string,
  index: number | undefined,
): Promise<Record<string, unknown>> {
  const runner = selectRunner(step.process);
  const request = await requestResources(context, step, inputs);

  return context.scheduler.run(label, request, async (signal) => {
    context.progress.update(step.name, 'running', index);
    const jobRoot = await makeJobFolder(workRoot, label);
    const stop = context.options.signal;
    const options: RunDocumentOptions = {
      ...context.options,
      job: inputs,
      signal: stop === undefined ? signal : AbortSignal.any([signal, stop]),
    };
    options.job = dropStaleListings(step.process, inputs);
    const run = await prepareRun(step.process, step.documentUri, options, jobRoot);
    try {
      const result = await runner(run);
      return result.outputs;
    } finally {
      // Outputs stay in the job's output folder until the run ends; the rest can go now.
      await removeTree(run.tmpDir);
    }
  });
}

async function runSubworkflowJob(
  context: WorkflowContext,
  step: StepPlan,
  inputs: Record<string, unknown>,
  workRoot: string,
  label: string,
  index: number | undefined,
): Promise<Record<string, unknown>> {
  const plan = step.subworkflow as WorkflowPlan;
  context.progress.update(step.name, 'running', index);
  const jobRoot = await makeJobFolder(workRoot, label);
  // A sub-workflow takes no scheduler slot itself: its tool jobs do, and holding a slot
  // while they wait for one could block the run on a one-core slot.
  const run = await prepareRun(
    step.process,
    step.documentUri,
    { ...context.options, job: inputs },
    jobRoot,
  );
  return context.executeWorkflow(context, plan, run.inputs, path.join(jobRoot, 'steps'));
}

/**
 * Computes the cores and memory of a tool job from its ResourceRequirement, after defaults
 * and expressions, capped at the run's limits. CWL's defaults are 1 core and 256 MiB.
 */
async function requestResources(
  context: WorkflowContext,
  step: StepPlan,
  inputs: Record<string, unknown>,
): Promise<ResourceRequest> {
  const { values } = bindInputValues(
    {
      process: step.process,
      named: collectNamedTypes(step.process),
      jobBaseDir: context.options.jobBaseDir,
      documentDir: path.dirname(fileURLToPath(step.documentUri)),
      stagingDir: '',
    },
    inputs,
  );
  const evaluator = createEvaluator(step.process, values, undefined);
  try {
    const resources = await computeResources(step.process, evaluator, context.options.runtime);
    return { cores: resources.cores, ramMb: resources.ram };
  } catch {
    // NOTE: the input object is not staged yet, so an expression that reads a File field such
    // as `size` of a default may fail here. The job then requests CWL's defaults, and the
    // tool computes its resources again, and reports any error, once its inputs are ready.
    return { cores: 1, ramMb: 256 };
  }
}

/**
 * Returns the input object without the `listing` of Directories whose input parameter loads a
 * listing, so it is read again from disk: an earlier step may have changed the folder since
 * the listing was made (InplaceUpdateRequirement).
 */
function dropStaleListings(
  process: CwlObject,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const fromRequirement = findRequirement(process, 'LoadListingRequirement')?.requirement;
  const result = { ...inputs };
  for (const parameter of asArray(process.inputs).filter(isObject)) {
    const depth = parameter.loadListing ?? fromRequirement?.loadListing ?? 'no_listing';
    if (depth === 'no_listing') continue;
    const name = localName(String(parameter.id));
    result[name] = withoutListings(result[name]);
  }
  return result;
}

function withoutListings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutListings);
  if (!isFileLike(value) || value.class !== 'Directory' || typeof value.location !== 'string') {
    return value;
  }
  const copy = { ...value };
  delete copy.listing;
  return copy;
}

async function makeJobFolder(workRoot: string, label: string): Promise<string> {
  await mkdir(workRoot, { recursive: true });
  const safe = label.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60);
  return mkdtemp(path.join(workRoot, `${safe}-`));
}

/**
 * Records the first failure of the run and stops the scheduler, so queued jobs never start
 * and running ones are aborted. Returns the error to throw.
 */
function recordFailure(context: WorkflowContext, step: StepPlan, error: unknown): Error {
  const failure = labelError(error, step.name);
  if (isStopConsequence(failure)) return failure;
  if (context.failure === undefined) {
    context.failure = failure;
    context.options.log?.error({ step: step.name, err: failure }, 'workflow step failed');
    context.scheduler.stop(failure);
  }
  return failure;
}

function isStopConsequence(error: Error): boolean {
  return error instanceof PilotError && error.code === 'CWL_RUN_STOPPED';
}

/** Errors whose message already names the step that failed, such as a sub-workflow's. */
const labelled = new WeakSet<Error>();

/** Prefixes the message with the step (and scatter index), keeping the error's class and code. */
function labelError(error: unknown, label: string): Error {
  if (error instanceof Error && labelled.has(error)) return error;
  if (error instanceof PilotError && error.code === 'CWL_RUN_STOPPED') return error;
  const message = `step ${label} failed: ${describeError(error)}`;
  let result: Error;
  if (!(error instanceof PilotError)) {
    result = new CwlExecutionError('CWL_STEP_FAILED', message, { cause: error });
  } else if (error instanceof CwlUnsupportedError) {
    result = new CwlUnsupportedError(error.code, message, { cause: error });
  } else if (error instanceof CwlValidationError) {
    result = new CwlValidationError(error.code, message, { cause: error });
  } else {
    const processStatus = error instanceof CwlExecutionError ? error.processStatus : undefined;
    result = new CwlExecutionError(error.code, message, { cause: error, processStatus });
  }
  labelled.add(result);
  return result;
}
