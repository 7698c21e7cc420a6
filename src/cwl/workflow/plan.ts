/**
 * Turns a loaded Workflow into a run plan: every step's `run` loaded and given its inherited
 * requirements, every `source` and `outputSource` checked, and the steps ordered. All of this
 * happens before the first job starts, so an invalid document fails without side effects.
 */
import { fileURLToPath } from 'node:url';
import { CwlUnsupportedError, CwlValidationError } from '../../errors.js';
import { loadCwlDocument } from '../loader.js';
import { asArray, isObject, localName, type CwlObject } from '../model.js';
import { collectNamedTypes, type NamedTypes } from '../schema.js';
import { orderSteps, type GraphNode } from './graph.js';
import { inheritRequirements, stepScope } from './requirements.js';

/** One input of a step, from its `in` entry. */
export interface StepInputPlan {
  name: string;
  /** Full ids of the workflow inputs and step outputs it reads, in order. */
  sources: string[];
  /**
   * Whether there are several sources, which makes merge_nested the default. A list of one
   * source gives its value unwrapped, as the conformance suite requires.
   */
  hasManySources: boolean;
  entry: CwlObject;
}

/** A step ready to run. */
export interface StepPlan extends GraphNode {
  step: CwlObject;
  /** The process the step runs, with requirements and hints inherited. */
  process: CwlObject;
  /** `file://` URI of the document the process came from; relative defaults resolve there. */
  documentUri: string;
  /** Requirements and hints for `valueFrom` and `when` of this step. */
  scope: CwlObject;
  inputs: StepInputPlan[];
  /** Full ids of the step's outputs, as other steps name them in `source`. */
  outputIds: string[];
  scatter: string[];
  /** Set when the step runs a Workflow. */
  subworkflow?: WorkflowPlan;
}

/** A workflow output and the sources it reads. */
export interface OutputPlan {
  name: string;
  sources: string[];
  hasManySources: boolean;
  parameter: CwlObject;
}

/** A workflow ready to run. */
export interface WorkflowPlan {
  process: CwlObject;
  documentUri: string;
  named: NamedTypes;
  /** Steps in an order where each comes after the steps it reads from. */
  steps: StepPlan[];
  outputs: OutputPlan[];
}

/** A process that a step runs, with the file it came from. */
interface LoadedRun {
  process: CwlObject;
  uri: string;
  graph: CwlObject[];
  version: string;
}

/** Lookup state of `run` references: the current `$graph` and the files loaded so far. */
interface PlanContext {
  /** Processes of the current file's `$graph`, for `run: "#name"`. */
  graph: CwlObject[];
  loaded: Map<string, LoadedRun>;
  /** `cwlVersion` of the current file as written, before the in-memory upgrade. */
  version: string;
  /** Ids of the workflows being planned, to reject a workflow that runs itself. */
  stack: string[];
  /** Step names of the enclosing workflows, for messages. */
  prefix: string;
}

/**
 * Plans `process`, a Workflow loaded from `documentUri` whose file contains `graph` and declares
 * `version` as its `cwlVersion`. Throws
 * CwlValidationError for a missing source, a cycle or an unloadable `run`, and
 * CwlUnsupportedError for an Operation or an unsupported requirement of a step.
 */
export async function planWorkflow(
  process: CwlObject,
  documentUri: string,
  graph: CwlObject[],
  version: string,
): Promise<WorkflowPlan> {
  const context: PlanContext = { graph, loaded: new Map(), version, stack: [], prefix: '' };
  return planNested(process, documentUri, context);
}

async function planNested(
  process: CwlObject,
  documentUri: string,
  context: PlanContext,
): Promise<WorkflowPlan> {
  const workflowId = String(process.id);
  if (context.stack.includes(workflowId)) {
    throw new CwlValidationError(
      'CWL_WORKFLOW_CYCLE',
      `invalid workflow: ${workflowId} runs itself through its steps`,
    );
  }
  const inner = { ...context, stack: [...context.stack, workflowId] };

  const steps: StepPlan[] = [];
  for (const step of asArray(process.steps).filter(isObject)) {
    steps.push(await planStep(process, step, documentUri, inner));
  }

  const known = collectKnownSources(process, steps);
  for (const step of steps) linkStepInputs(step, known, workflowId);
  const outputs = asArray(process.outputs)
    .filter(isObject)
    .map((parameter) => planOutput(parameter, known, workflowId));

  return {
    process,
    documentUri,
    named: collectNamedTypes(process),
    steps: orderSteps(steps),
    outputs,
  };
}

async function planStep(
  workflow: CwlObject,
  step: CwlObject,
  documentUri: string,
  context: PlanContext,
): Promise<StepPlan> {
  const id = String(step.id);
  const name = `${context.prefix}${shortName(id, String(workflow.id))}`;
  checkStepVersion(step, name, context.version);
  const target = await resolveRun(step.run, documentUri, context, name);
  const process = inheritRequirements(workflow, step, target.process);

  const plan: StepPlan = {
    id,
    name,
    dependencies: new Set(),
    step,
    process,
    documentUri: target.uri,
    scope: stepScope(workflow, step),
    inputs: [],
    outputIds: asArray(step.out).map((entry) => String(isObject(entry) ? entry.id : entry)),
    scatter: asArray(step.scatter).map((entry) => localName(String(entry))),
  };

  const className = String(process.class);
  if (className === 'Workflow') {
    const nested = { ...context, graph: target.graph, version: target.version, prefix: `${name}/` };
    plan.subworkflow = await planNested(process, target.uri, nested);
  } else if (className === 'Operation') {
    throw new CwlUnsupportedError(
      'CWL_UNSUPPORTED',
      `step ${name} runs an Operation, which describes a process but has no implementation to run`,
    );
  } else if (className !== 'CommandLineTool' && className !== 'ExpressionTool') {
    throw new CwlValidationError(
      'CWL_INVALID_DOCUMENT',
      `step ${name} runs a process of unknown class ${JSON.stringify(process.class)}`,
    );
  }
  return plan;
}

/**
 * Loads the process of a step's `run`: an inline process, `#name` of the current `$graph`, or
 * a path relative to the workflow document, optionally with `#name`. cwl-ts-auto 0.1.3 keeps a
 * `run` string as written and loads nothing, so this does.
 */
async function resolveRun(
  run: unknown,
  documentUri: string,
  context: PlanContext,
  stepName: string,
): Promise<LoadedRun> {
  const { graph, version } = context;
  if (isObject(run)) return { process: run, uri: documentUri, graph, version };
  if (typeof run !== 'string' || run === '') {
    throw new CwlValidationError(
      'CWL_INVALID_DOCUMENT',
      `step ${stepName} has no "run": give a process, a file path or a #name`,
    );
  }

  const target = new URL(run, documentUri);
  const fragment = target.hash.slice(1);
  target.hash = '';
  const fileUri = target.href;
  if (fileUri === documentUri && fragment !== '') {
    const found = context.graph.find((entry) => localName(String(entry.id)) === fragment);
    if (found !== undefined) return { process: found, uri: documentUri, graph, version };
  }

  const key = `${fileUri}#${fragment}`;
  let loaded = context.loaded.get(key);
  if (loaded === undefined) {
    if (!fileUri.startsWith('file:')) {
      throw new CwlValidationError(
        'CWL_INVALID_DOCUMENT',
        `step ${stepName} runs ${run}, but only local files can be loaded`,
      );
    }
    const path = fileURLToPath(fileUri) + (fragment === '' ? '' : `#${fragment}`);
    const document = await loadCwlDocument(path);
    loaded = {
      process: document.process,
      uri: document.uri,
      graph: document.graph,
      version: document.originalVersion,
    };
    context.loaded.set(key, loaded);
  }
  return loaded;
}

/** Rejects `when` and `pickValue`, which CWL added in v1.2, in a document of an older version. */
function checkStepVersion(step: CwlObject, name: string, version: string): void {
  if (version === 'v1.2') return;
  const usesPickValue = asArray(step.in).some((entry) => isObject(entry) && 'pickValue' in entry);
  let feature: string;
  if ('when' in step) feature = '"when"';
  else if (usesPickValue) feature = '"pickValue"';
  else return;
  throw new CwlValidationError(
    'CWL_INVALID_DOCUMENT',
    `step ${name} uses ${feature}, which needs cwlVersion v1.2, but the document declares ${version}`,
  );
}

/** Returns the full ids of the workflow inputs and of every step output, with their steps. */
function collectKnownSources(process: CwlObject, steps: StepPlan[]): Map<string, string | null> {
  const known = new Map<string, string | null>();
  for (const input of asArray(process.inputs).filter(isObject)) known.set(String(input.id), null);
  for (const step of steps) {
    for (const output of step.outputIds) known.set(output, step.id);
  }
  return known;
}

function linkStepInputs(
  step: StepPlan,
  known: Map<string, string | null>,
  workflowId: string,
): void {
  for (const entry of asArray(step.step.in).filter(isObject)) {
    const name = localName(String(entry.id));
    const where = `step ${step.name} input "${name}"`;
    const sources = asArray(entry.source).map((source) =>
      findSource(String(source), known, workflowId, undefined, where),
    );
    for (const source of sources) {
      const producer = known.get(source);
      if (producer !== null && producer !== undefined) step.dependencies.add(producer);
    }
    step.inputs.push({ name, sources, hasManySources: sources.length > 1, entry });
  }
}

function planOutput(
  parameter: CwlObject,
  known: Map<string, string | null>,
  workflowId: string,
): OutputPlan {
  const id = String(parameter.id);
  const name = localName(id);
  const where = `workflow output "${name}"`;
  const sources = asArray(parameter.outputSource).map((source) =>
    findSource(String(source), known, workflowId, id, where),
  );
  return { name, sources, hasManySources: sources.length > 1, parameter };
}

/**
 * Finds the full id that `source` names. cwl-ts-auto 0.1.3 resolves an `outputSource` as if it
 * sat under the output's own id (`#out/step1/x` for `step1/x` on output `out`), so when
 * `ownerId` is given and the id is unknown, the part after `ownerId/` is resolved against the
 * workflow instead.
 */
function findSource(
  source: string,
  known: Map<string, string | null>,
  workflowId: string,
  ownerId: string | undefined,
  where: string,
): string {
  if (known.has(source)) return source;
  const candidates: string[] = [];
  if (ownerId !== undefined && source.startsWith(`${ownerId}/`)) {
    const relative = source.slice(ownerId.length + 1);
    candidates.push(joinId(workflowId, relative));
  }
  for (const candidate of candidates) if (known.has(candidate)) return candidate;
  // An inline sub-workflow may have a generated id, so match the relative part by its end.
  if (ownerId !== undefined && source.startsWith(`${ownerId}/`)) {
    const relative = source.slice(ownerId.length + 1);
    const matches = [...known.keys()].filter(
      (id) => id.endsWith(`/${relative}`) || id.endsWith(`#${relative}`),
    );
    if (matches.length === 1) return matches[0] as string;
  }
  const written =
    ownerId !== undefined && source.startsWith(`${ownerId}/`)
      ? source.slice(ownerId.length + 1)
      : shortName(source, workflowId);
  throw new CwlValidationError(
    'CWL_INVALID_DOCUMENT',
    `invalid ${where}: source ${JSON.stringify(written)} is neither ` +
      'a workflow input nor an output listed in a step\'s "out"',
  );
}

function joinId(workflowId: string, relative: string): string {
  return workflowId.includes('#') ? `${workflowId}/${relative}` : `${workflowId}#${relative}`;
}

/** Returns `id` relative to the workflow's id, such as `step1` for `file:///w.cwl#main/step1`. */
function shortName(id: string, workflowId: string): string {
  if (id.startsWith(`${workflowId}/`)) return id.slice(workflowId.length + 1);
  if (id.startsWith(`${workflowId}#`)) return id.slice(workflowId.length + 1);
  const hash = id.lastIndexOf('#');
  return hash >= 0 ? id.slice(hash + 1) : id;
}
