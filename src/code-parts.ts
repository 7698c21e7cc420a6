/**
 * Parts of the program a run used, reported to the bundle's launcher. The launcher keeps V8's
 * code cache of the functions one run compiled. A later run that uses a part the cache lacks,
 * such as the Workflow engine after a run of one tool, would compile that part from source at
 * every start, so the launcher stores the cache again with the new part included.
 */

/** Parts worth a cache of their own: each is a large body of code that some runs never use. */
export type CodePart =
  'workflow' | 'scatter' | 'expression-tool' | 'javascript' | 'initial-workdir';

/**
 * Key of the set of part names on `globalThis`. The launcher, a separate bundle, creates the
 * set before it starts the program. Outside the bundle there is none.
 */
export const CODE_PARTS_KEY = Symbol.for('ctao-pilot.code-parts');

/** Records that this run uses `part`. */
export function noteCodePart(part: CodePart): void {
  const parts = (globalThis as Record<symbol, unknown>)[CODE_PARTS_KEY];
  if (parts instanceof Set) parts.add(part);
}
