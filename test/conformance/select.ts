/**
 * Selection of conformance tests by tag, id and the kind of process they run.
 */
import { declaresDockerRequirement, isWorkflow, type ConformanceTest } from './suite.js';

/**
 * Filters that `--select` accepts:
 * - `tools`: the tool document is not a Workflow;
 * - `tool-tags`: the test is tagged `command_line_tool` or `expression_tool`;
 * - `no-docker`: the process does not list DockerRequirement under `requirements`.
 */
export const SELECT_FILTERS = ['tools', 'tool-tags', 'no-docker'] as const;
export type SelectFilter = (typeof SELECT_FILTERS)[number];

export interface Selection {
  /** Tags, of which a selected test carries at least one. */
  tags?: string[];
  /** Test ids to run, and no others. */
  ids?: string[];
  /** Filters that a selected test passes, all of them. */
  filters?: SelectFilter[];
}

const TOOL_TAGS = ['command_line_tool', 'expression_tool'];

/**
 * Returns the tests that match every part of the selection, in suite order. Throws when an id
 * in `selection.ids` names no test, so a typo does not silently run nothing.
 */
export function selectTests(
  tests: ConformanceTest[],
  suiteDir: string,
  selection: Selection,
): ConformanceTest[] {
  const { tags, ids, filters = [] } = selection;

  if (ids !== undefined) {
    const known = new Set(tests.map((test) => test.id));
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new Error(`Unknown test id(s): ${unknown.join(', ')}. Run with --list to see ids.`);
    }
  }

  return tests.filter((test) => {
    if (ids !== undefined && !ids.includes(test.id)) {
      return false;
    }
    if (tags !== undefined && !test.tags.some((tag) => tags.includes(tag))) {
      return false;
    }
    return filters.every((filter) => passesFilter(test, suiteDir, filter));
  });
}

function passesFilter(test: ConformanceTest, suiteDir: string, filter: SelectFilter): boolean {
  switch (filter) {
    case 'tool-tags':
      return test.tags.some((tag) => TOOL_TAGS.includes(tag));
    case 'tools':
      return !falseWhenUnreadable(() => isWorkflow(suiteDir, test.tool));
    case 'no-docker':
      return !falseWhenUnreadable(() => declaresDockerRequirement(suiteDir, test.tool));
  }
}

/**
 * Evaluates a check on a tool document, counting a document that cannot be parsed as `false`.
 * Such a document can still be a valid test, one that the runner must reject, so it stays.
 */
function falseWhenUnreadable(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}
