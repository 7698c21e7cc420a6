/**
 * Turns cwl-ts-auto's validation errors into one readable line. Its ValidationException is a
 * tree: one branch per process class it tried, each with the field errors below it.
 */
const PROCESS_CLASSES = ['CommandLineTool', 'ExpressionTool', 'Workflow', 'Operation'];

/** Maximum number of field errors quoted in one message. */
const MAX_REPORTED = 3;

interface ErrorNode {
  message?: unknown;
  children?: unknown;
}

/**
 * Describes why cwl-ts-auto rejected a document of class `className`: the field errors of the
 * branch for that class, or an unknown-class message when no branch matches.
 */
export function describeLoadError(error: unknown, className: unknown): string {
  if (typeof className === 'string' && !PROCESS_CLASSES.includes(className)) {
    return `unknown class "${className}", expected one of ${PROCESS_CLASSES.join(', ')}`;
  }
  if (className === undefined)
    return `missing "class", expected one of ${PROCESS_CLASSES.join(', ')}`;

  const branch = findNode(error as ErrorNode, `Trying '${String(className)}'`);
  const lines = collectLines(branch ?? (error as ErrorNode), []);
  if (lines.length === 0) return clean(String((error as ErrorNode).message ?? error));
  const quoted = lines.slice(0, MAX_REPORTED).join('; ');
  const more = lines.length > MAX_REPORTED ? ` (and ${lines.length - MAX_REPORTED} more)` : '';
  return quoted + more;
}

function findNode(node: ErrorNode, message: string): ErrorNode | undefined {
  if (clean(String(node.message ?? '')) === message) return node;
  for (const child of childrenOf(node)) {
    const found = findNode(child, message);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Returns one line per leaf: the messages on the way down from `node`, joined. */
function collectLines(node: ErrorNode, trail: string[]): string[] {
  const own = clean(String(node.message ?? ''));
  const useful = own !== '' && !own.startsWith('Trying ') && !own.startsWith('tried ');
  const path = useful ? [...trail, own.replace(/because:$/, 'because')] : trail;
  const children = childrenOf(node);
  if (children.length === 0) return path.length > 0 ? [path.join(': ')] : [];
  return children.flatMap((child) => collectLines(child, path));
}

function childrenOf(node: ErrorNode): ErrorNode[] {
  return Array.isArray(node.children) ? (node.children as ErrorNode[]) : [];
}

function clean(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
