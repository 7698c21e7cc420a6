/**
 * Parts of the program a run used, reported to the bundle's launcher. The launcher keeps V8's
 * code cache of the functions one run compiled. Without this report, a part that the first run
 * did not use, such as the Workflow engine after a run of one tool, would be compiled from
 * source at every later start. So when a run uses a part the cache lacks, the launcher stores
 * the cache again with that part included.
 */

/** Parts that are each a large body of code that some runs never use. */
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
