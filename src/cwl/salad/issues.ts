/**
 * Validation issues found while normalising a CWL document, and their rendering as one line
 * that names the field, the offending value and where it sits.
 */

/** One reason a value was rejected, with the reasons below it. */
export interface LoadIssue {
  /** Problem at this level, or the name of the field or record it concerns. */
  message: string;
  /** `record` and `field` issues only locate their children; `union` lists alternatives. */
  kind: 'value' | 'field' | 'record' | 'union';
  children?: LoadIssue[];
  /** Set when cwl-ts-auto would raise an error that no union alternative catches. */
  fatal?: boolean;
}

/** Maximum number of leaf issues quoted in one message. */
const MAX_REPORTED = 3;
const MAX_VALUE_LENGTH = 60;
const EXPECTATION = /^expected (.*), got (.*)$/;

/** Returns a value issue. */
export function valueIssue(message: string, fatal = false): LoadIssue {
  return fatal ? { message, kind: 'value', fatal } : { message, kind: 'value' };
}

/** Renders `value` for a message: JSON, shortened to about 60 characters. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 3)}...` : text;
}

function depth(issue: LoadIssue): number {
  if (issue.children === undefined || issue.children.length === 0) return 0;
  return 1 + Math.max(...issue.children.map(depth));
}

/** True for a record that failed on its `class` field, so it is not the record meant. */
function isOtherClass(issue: LoadIssue): boolean {
  return (
    issue.kind === 'record' &&
    (issue.children ?? []).some((child) => child.kind === 'field' && child.message === 'class')
  );
}

/**
 * Picks the union alternative worth reporting: a record whose `class` matched, else the one
 * that got deepest into the value, rather than those that failed on the value's shape.
 */
function bestAlternative(issue: LoadIssue): LoadIssue | undefined {
  const alternatives = issue.children ?? [];
  const sameClass = alternatives.filter((child) => child.kind === 'record' && !isOtherClass(child));
  if (sameClass.length === 1) return sameClass[0];
  let best: LoadIssue | undefined;
  let bestDepth = 0;
  for (const alternative of alternatives) {
    const alternativeDepth = depth(alternative);
    if (alternativeDepth > bestDepth) {
      best = alternative;
      bestDepth = alternativeDepth;
    }
  }
  return best;
}

/** Merges `expected X, got V` messages into `expected X or Y, got V`, leaving out null. */
function mergeExpectations(alternatives: LoadIssue[]): string {
  const expected: string[] = [];
  let got: string | undefined;
  for (const alternative of alternatives) {
    const match = EXPECTATION.exec(alternative.message);
    if (match === null) {
      expected.push(alternative.message);
      continue;
    }
    got = match[2];
    for (const part of match[1]!.split(' or ')) {
      if (part !== 'null' && !expected.includes(part)) expected.push(part);
    }
  }
  return `expected ${expected.join(' or ')}${got === undefined ? '' : `, got ${got}`}`;
}

function collectLines(issue: LoadIssue, path: string, lines: string[]): void {
  if (issue.kind === 'value') {
    lines.push(path === '' ? issue.message : `${path}: ${issue.message}`);
    return;
  }
  if (issue.kind === 'union') {
    const best = bestAlternative(issue);
    if (best !== undefined) {
      collectLines(best, path, lines);
      return;
    }
    const message = mergeExpectations(issue.children ?? []);
    lines.push(path === '' ? message : `${path}: ${message}`);
    return;
  }
  const step =
    issue.kind === 'field' || issue.message === '' ? issue.message : `[${issue.message}]`;
  const childPath = issue.kind === 'field' && path !== '' ? `${path}.${step}` : `${path}${step}`;
  for (const child of issue.children ?? []) collectLines(child, childPath, lines);
}

/**
 * Describes `issue` in one line: up to three problems, each as `path: reason`, where the path
 * gives field names and, in brackets, the short id or class of each record on the way.
 */
export function describeIssue(issue: LoadIssue): string {
  const lines: string[] = [];
  // The top record is the process itself, which the caller's message already names.
  let top = issue;
  while (top.kind === 'union') {
    const best = bestAlternative(top);
    if (best === undefined) break;
    top = best;
  }
  const start = top.kind === 'record' ? (top.children ?? []) : [top];
  for (const child of start) collectLines(child, '', lines);
  if (lines.length === 0) return issue.message;
  const quoted = lines.slice(0, MAX_REPORTED).join('; ');
  const more = lines.length > MAX_REPORTED ? ` (and ${lines.length - MAX_REPORTED} more)` : '';
  return quoted + more;
}
