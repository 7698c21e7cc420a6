/**
 * Runs a CWL v1.2 Workflow: plans it, starts every step once the steps it reads from have
 * finished, and builds the output object from `outputSource`.
 */
import os from 'node:os';
import path from 'node:path';
import type { ProcessStatus } from '../index.js';
import { loadCwlDocument } from '../loader.js';
import { checkOutputTypes } from '../outputs.js';
import type { ProcessRun } from '../process-run.js';
import { asArray, isObject, localName } from '../model.js';
import { mergeSources, pickValue } from './merge.js';
import { planWorkflow, type WorkflowPlan } from './plan.js';
import { ProgressTracker } from './progress.js';
import { JobScheduler } from './scheduler.js';
import { runStep, type WorkflowContext } from './step-job.js';
import { noteCodePart } from '../../code-parts.js';

/** Default memory of the slot when `options.runtime.ramMb` is not set: all of the machine's. */
function totalMemoryMb(): number {
  return Math.floor(os.totalmem() / (1024 * 1024));
}

/**
 * Runs the Workflow of `run` and returns its output object. One scheduler and one progress
 * tracker serve the whole run, sub-workflows included.
 */
export async function runWorkflow(
  run: ProcessRun,
): Promise<{ status: ProcessStatus; outputs: Record<string, unknown> }> {
  noteCodePart('workflow');
  const { options } = run;
  // Steps with `run: "#name"` point into the document's `$graph`.
  const loaded = run.document ?? (await loadCwlDocument(options.document, options.documentText));
  const plan = await planWorkflow(run.process, loaded.uri, loaded.graph, loaded.originalVersion);

  const context: WorkflowContext = {
    options,
    scheduler: new JobScheduler({
      cores: options.runtime?.cores ?? os.availableParallelism(),
      ramMb: options.runtime?.ramMb ?? totalMemoryMb(),
      parallel: options.parallel === true,
    }),
    progress: new ProgressTracker(options.onProgress),
    failure: undefined,
    executeWorkflow,
  };
  const workRoot = path.join(path.dirname(run.jobDir), 'steps');
  const outputs = await executeWorkflow(context, plan, run.inputs, workRoot);
  return { status: 'success', outputs };
}

/**
 * Runs every step of `plan` with the workflow input object `inputs`. Step folders are made
 * under `workRoot`. Throws the first step failure once every started job has ended.
 */
async function executeWorkflow(
  context: WorkflowContext,
  plan: WorkflowPlan,
  inputs: Record<string, unknown>,
  workRoot: string,
): Promise<Record<string, unknown>> {
  const values = new Map<string, unknown>();
  for (const input of asArray(plan.process.inputs).filter(isObject)) {
    const id = String(input.id);
    values.set(id, inputs[localName(id)] ?? null);
  }
  for (const step of plan.steps) context.progress.declare(step.name);

  // Steps are listed after the steps they read from, so every awaited promise exists already.
  const finished = new Map<string, Promise<void>>();
  for (const step of plan.steps) {
    const dependencies = [...step.dependencies].map((id) => finished.get(id));
    const started = Promise.all(dependencies).then(async () => {
      const outputs = await runStep(context, plan, step, values, workRoot);
      for (const [id, value] of outputs) values.set(id, value);
    });
    finished.set(step.id, started);
  }

  const results = await Promise.allSettled(finished.values());
  const rejected = results.find((result) => result.status === 'rejected');
  if (rejected !== undefined) throw context.failure ?? rejected.reason;
  return collectWorkflowOutputs(plan, values);
}

/** Builds the workflow's output object from `outputSource` and checks the declared types. */
function collectWorkflowOutputs(
  plan: WorkflowPlan,
  values: Map<string, unknown>,
): Record<string, unknown> {
  const outputs: Record<string, unknown> = {};
  for (const output of plan.outputs) {
    const where = `workflow output "${output.name}"`;
    const linked = output.sources.map((source) => values.get(source) ?? null);
    const merged = mergeSources(linked, output.parameter.linkMerge, output.hasManySources, where);
    outputs[output.name] = pickValue(merged, output.parameter.pickValue, where) ?? null;
  }
  checkOutputTypes(plan.process, outputs, plan.named);
  return outputs;
}
