/**
 * `secondaryFiles`: turning patterns (`.bai`, `^.bai`, expressions) into File and Directory
 * objects that sit next to a primary file.
 */
import path from 'node:path';
import { CwlExecutionError, CwlValidationError } from '../errors.js';
import type { Evaluator } from './evaluate.js';
import { isExpression } from './expressions.js';
import { localPathOf, setPathFields, statKind } from './files.js';
import { asArray, isFileLike, isObject, type CwlFileLike } from './model.js';

/** One normalised `secondaryFiles` entry. */
interface SecondarySpec {
  pattern: unknown;
  required: unknown;
}

/**
 * Applies a pattern to a basename: each leading `^` removes one extension, then the rest of the
 * pattern is appended (`^.bai` on `x.bam` gives `x.bai`).
 */
export function applyPattern(pattern: string, basename: string): string {
  let name = basename;
  let rest = pattern;
  while (rest.startsWith('^')) {
    const dot = name.lastIndexOf('.');
    if (dot > 0) name = name.slice(0, dot);
    rest = rest.slice(1);
  }
  return name + rest;
}

/** Options of {@link findSecondaryFiles}. */
export interface SecondaryFilesOptions {
  evaluator: Evaluator;
  /** Whether a pattern with no `required` field must match (true for inputs, false for outputs). */
  requiredByDefault: boolean;
  /** Error class: validation for inputs, execution for outputs. */
  errorKind: 'input' | 'output';
}

/**
 * Finds the secondary files of `primary` for the `secondaryFiles` entries `specs`, and returns
 * them as File or Directory objects with their path fields set. Throws when a required one is
 * missing.
 */
export async function findSecondaryFiles(
  primary: CwlFileLike,
  specs: unknown,
  options: SecondaryFilesOptions,
): Promise<CwlFileLike[]> {
  const found: CwlFileLike[] = [];
  const dir = path.dirname(primary.path ?? '');

  for (const spec of asArray(specs).map(toSpec)) {
    const required = await options.evaluator.evaluate(spec.required, primary);
    const isRequired =
      required === undefined || required === null ? options.requiredByDefault : Boolean(required);
    const produced = await options.evaluator.evaluate(spec.pattern, primary);
    // A string that an expression returns is a file name, not a pattern to apply.
    const isName = typeof spec.pattern === 'string' && isExpression(spec.pattern);

    for (const item of asArray(produced)) {
      const entry = await resolveEntry(item, primary, dir, isName);
      if (entry === undefined) continue;
      const kind = await statKind(entry.path ?? '');
      if (kind === undefined) {
        if (isRequired) throw missing(entry.path ?? String(item), primary, options.errorKind);
        continue;
      }
      entry.class = kind;
      found.push(entry);
    }
  }
  return found;
}

async function resolveEntry(
  item: unknown,
  primary: CwlFileLike,
  dir: string,
  isName: boolean,
): Promise<CwlFileLike | undefined> {
  if (typeof item === 'string') {
    const name = isName ? item : applyPattern(item, primary.basename ?? '');
    return setPathFields({ class: 'File' }, path.resolve(dir, name));
  }
  if (isFileLike(item)) {
    const localPath = localPathOf(item, dir);
    if (localPath === undefined) return undefined;
    return setPathFields({ ...item }, localPath, item.basename ?? path.basename(localPath));
  }
  return undefined;
}

function toSpec(entry: unknown): SecondarySpec {
  if (isObject(entry)) return { pattern: entry.pattern, required: entry.required };
  return { pattern: entry, required: undefined };
}

function missing(file: string, primary: CwlFileLike, kind: 'input' | 'output'): Error {
  const message = `secondary file ${file} of ${primary.path} not found`;
  if (kind === 'input') return new CwlValidationError('CWL_INPUT_NOT_FOUND', message);
  return new CwlExecutionError('CWL_OUTPUT_NOT_FOUND', message);
}
