/**
 * Requirement and hint inheritance from a workflow to its steps, in the order of CWL v1.2.
 * The process's own entries win over the step's, which win over the enclosing workflow's.
 * Any requirement wins over any hint of the same class.
 */
import { asArray, isObject, type CwlObject } from '../model.js';

/**
 * Returns a shallow copy of `process` whose `requirements` and `hints` include those of the
 * enclosing `workflow` and `step`. Later entries win in {@link findRequirement}, so the most
 * specific level is listed last, and requirements are searched before hints.
 */
export function inheritRequirements(
  workflow: CwlObject,
  step: CwlObject,
  process: CwlObject,
): CwlObject {
  return {
    ...process,
    requirements: [
      ...entries(workflow, 'requirements'),
      ...entries(step, 'requirements'),
      ...entries(process, 'requirements'),
    ],
    hints: [...entries(workflow, 'hints'), ...entries(step, 'hints'), ...entries(process, 'hints')],
    $namespaces: process.$namespaces ?? workflow.$namespaces,
  };
}

/** Returns the requirements and hints in effect for expressions written on `step` itself. */
export function stepScope(workflow: CwlObject, step: CwlObject): CwlObject {
  return {
    requirements: [...entries(workflow, 'requirements'), ...entries(step, 'requirements')],
    hints: [...entries(workflow, 'hints'), ...entries(step, 'hints')],
  };
}

function entries(owner: CwlObject, key: 'requirements' | 'hints'): CwlObject[] {
  return asArray(owner[key]).filter(isObject);
}
