/**
 * The input object of a step job: source values merged and picked, `default`, `loadContents`,
 * then (after scatter) `valueFrom`, and the `when` condition.
 */
import { CwlExecutionError } from '../../errors.js';
import { createEvaluator } from '../evaluate.js';
import { readContents } from '../files.js';
import { resolveFileLike } from '../inputs.js';
import { isFileLike, isObject, type CwlFileLike } from '../model.js';
import { mergeSources, pickValue } from './merge.js';
import type { StepPlan } from './plan.js';

/** Folders that step input defaults need. */
export interface DefaultsContext {
  /** Folder of the workflow document: relative locations in a `default` resolve here. */
  documentDir: string;
  /** Folder that receives File and Directory literals of a `default`. */
  stagingDir: string;
}

/**
 * Builds the step input object before scatter from the values available so far, keyed by
 * full source id. Applies `linkMerge`, `pickValue`, `default` and `loadContents`.
 */
export async function gatherStepInputs(
  step: StepPlan,
  values: Map<string, unknown>,
  defaults: DefaultsContext,
): Promise<Record<string, unknown>> {
  const inputs: Record<string, unknown> = {};
  for (const input of step.inputs) {
    const where = `step ${step.name} input "${input.name}"`;
    const linked = input.sources.map((source) => values.get(source) ?? null);
    let value = mergeSources(linked, input.entry.linkMerge, input.hasManySources, where);
    value = pickValue(value, input.entry.pickValue, where);

    if ((value === null || value === undefined) && input.entry.default !== undefined) {
      value = await resolveDefault(structuredClone(input.entry.default), defaults);
    }
    if (input.entry.loadContents === true) value = await loadFileContents(value);
    inputs[input.name] = value ?? null;
  }
  return inputs;
}

/**
 * Applies `valueFrom` of every step input to one job's input object. Each expression gets
 * `self` as its own input's value and `inputs` as the object before any `valueFrom`, as CWL
 * v1.2 requires, so the order of evaluation does not matter.
 */
export async function applyValueFrom(
  step: StepPlan,
  inputs: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const withExpressions = step.inputs.filter((input) => input.entry.valueFrom !== undefined);
  if (withExpressions.length === 0) return inputs;

  const evaluator = createEvaluator(step.scope, inputs, undefined);
  const result = { ...inputs };
  for (const input of withExpressions) {
    result[input.name] = await evaluator.evaluate(input.entry.valueFrom, inputs[input.name]);
  }
  return result;
}

/**
 * Evaluates the step's `when` on one job's input object. Returns true when the step has no
 * condition. Throws CwlExecutionError when the expression gives anything but a boolean.
 */
export async function evaluateCondition(
  step: StepPlan,
  inputs: Record<string, unknown>,
): Promise<boolean> {
  const condition = step.step.when;
  if (condition === undefined || condition === null) return true;
  const evaluator = createEvaluator(step.scope, inputs, undefined);
  const result = await evaluator.evaluate(condition, null);
  if (typeof result === 'boolean') return result;
  throw new CwlExecutionError(
    'CWL_INVALID_CONDITION',
    `"when" of step ${step.name} gave ${JSON.stringify(result)?.slice(0, 200)}, not true or false`,
  );
}

async function resolveDefault(value: unknown, defaults: DefaultsContext): Promise<unknown> {
  if (Array.isArray(value)) {
    return Promise.all(value.map((item) => resolveDefault(item, defaults)));
  }
  if (isFileLike(value)) return resolveFileLike(value, defaults.documentDir, defaults);
  if (isObject(value)) {
    for (const [key, field] of Object.entries(value)) {
      value[key] = await resolveDefault(field, defaults);
    }
  }
  return value;
}

/** Returns `value` with `contents` read into its Files, copied so other readers see no change. */
async function loadFileContents(value: unknown): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map(loadFileContents));
  if (!isFileLike(value) || value.class !== 'File' || value.contents !== undefined) return value;
  if (typeof value.path !== 'string') return value;
  const file: CwlFileLike = { ...value, contents: await readContents(value.path) };
  return file;
}
