/**
 * The step graph of a Workflow: which steps feed which, an order to start them in, and the
 * cycle check that CWL requires, because a cycle would leave its steps waiting forever.
 */
import { CwlValidationError } from '../../errors.js';

/** One node of the step graph. */
export interface GraphNode {
  id: string;
  /** Name used in messages. */
  name: string;
  /** Ids of the steps whose outputs this step reads. */
  dependencies: Set<string>;
}

/**
 * Returns the nodes in an order where every step comes after the steps it reads from.
 * Throws CwlValidationError naming the steps of the first cycle found.
 */
export function orderSteps<T extends GraphNode>(nodes: T[]): T[] {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const state = new Map<string, 'visiting' | 'done'>();
  const ordered: T[] = [];
  const trail: T[] = [];

  const visit = (node: T): void => {
    const seen = state.get(node.id);
    if (seen === 'done') return;
    if (seen === 'visiting') throw cycleError(trail, node);

    state.set(node.id, 'visiting');
    trail.push(node);
    for (const dependency of node.dependencies) {
      const next = byId.get(dependency);
      if (next !== undefined) visit(next);
    }
    trail.pop();
    state.set(node.id, 'done');
    ordered.push(node);
  };

  for (const node of nodes) visit(node);
  return ordered;
}

function cycleError(trail: GraphNode[], repeated: GraphNode): CwlValidationError {
  const start = trail.findIndex((node) => node.id === repeated.id);
  const names = [...trail.slice(start), repeated].map((node) => node.name);
  return new CwlValidationError(
    'CWL_WORKFLOW_CYCLE',
    `invalid workflow: steps ${names.join(' -> ')} form a cycle, so none of them can start; ` +
      'remove one of these connections',
  );
}
