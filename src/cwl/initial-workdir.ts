/**
 * InitialWorkDirRequirement: stages Files, Directories and Dirent entries into the tool's
 * output folder before the command starts.
 */
import { mkdir, writeFile } from './async-fs.js';
import path from 'node:path';
import { CwlValidationError } from '../errors.js';
import type { Evaluator } from './evaluate.js';
import { toInterpolationText } from './expressions.js';
import { setPathFields } from './files.js';
import { resolveFileLike } from './inputs.js';
import { placeEntry } from './staging.js';
import {
  asArray,
  findRequirement,
  isFileLike,
  isObject,
  type CwlFileLike,
  type CwlObject,
} from './model.js';
import { noteCodePart } from '../code-parts.js';

/** One entry to create in the output folder. */
interface StagedEntry {
  name: string;
  writable: boolean;
  /** Text of a file to write, or the File/Directory to link or copy. */
  content: string | CwlFileLike;
}

/**
 * Stages the InitialWorkDirRequirement listing of `process` into `outdir`. Input Files and
 * Directories that get staged have their `path` in `inputs` rewritten to the staged copy, so
 * the command line refers to it. Returns the paths of the Files and Directories staged.
 */
export async function stageInitialWorkDir(
  process: CwlObject,
  inputs: Record<string, unknown>,
  evaluator: Evaluator,
  outdir: string,
  stagingDir: string,
): Promise<Set<string>> {
  const requirement = findRequirement(process, 'InitialWorkDirRequirement')?.requirement;
  if (requirement === undefined) return new Set();
  noteCodePart('initial-workdir');

  const entries = await listEntries(requirement.listing, evaluator, stagingDir);
  const renamed = new Map<string, string>();
  for (const entry of entries) {
    const target = resolveEntryPath(outdir, entry.name);
    await mkdir(path.dirname(target), { recursive: true });
    if (typeof entry.content === 'string') {
      await writeFile(target, entry.content);
      continue;
    }
    const source = entry.content.path as string;
    await placeEntry(entry.content, path.dirname(target), path.basename(target), entry.writable);
    renamed.set(source, target);
  }
  rewritePaths(inputs, renamed);
  return new Set(renamed.keys());
}

async function listEntries(
  listing: unknown,
  evaluator: Evaluator,
  stagingDir: string,
): Promise<StagedEntry[]> {
  const items = asArray(await evaluator.evaluate(listing, null)).flat();
  const entries: StagedEntry[] = [];
  for (const item of items) {
    const evaluated = await evaluator.evaluate(item, null);
    for (const value of asArray(evaluated).flat()) {
      entries.push(...(await toEntries(value, evaluator, stagingDir)));
    }
  }
  return entries;
}

async function toEntries(
  value: unknown,
  evaluator: Evaluator,
  stagingDir: string,
): Promise<StagedEntry[]> {
  if (value === null || value === undefined) return [];
  if (isFileLike(value)) {
    const resolved = await resolveFileLike(value, stagingDir, { stagingDir });
    return [{ name: resolved.basename as string, writable: false, content: resolved }];
  }
  if (!isObject(value) || !('entry' in value)) {
    throw new CwlValidationError(
      'CWL_INVALID_DOCUMENT',
      `invalid InitialWorkDirRequirement entry ${JSON.stringify(value).slice(0, 200)}: expected a File, Directory or Dirent`,
    );
  }
  return direntEntries(value, evaluator, stagingDir);
}

/** Evaluates one Dirent into the entries it stages. */
async function direntEntries(
  value: CwlObject,
  evaluator: Evaluator,
  stagingDir: string,
): Promise<StagedEntry[]> {
  const entry = await evaluator.evaluate(value.entry, null, { keepWhitespace: true });
  const entryname = await evaluator.evaluate(value.entryname, null);
  const writable = value.writable === true;
  if (entry === null || entry === undefined) return [];

  if (isFileLike(entry)) {
    const resolved = await resolveFileLike(entry, stagingDir, { stagingDir });
    const name = typeof entryname === 'string' ? entryname : (resolved.basename as string);
    return [{ name, writable, content: resolved }];
  }
  // Without an entryname, a list of Files and Directories is staged entry by entry.
  if (Array.isArray(entry) && entryname === undefined && entry.every(isFileLike)) {
    const staged = await Promise.all(entry.map((item) => toEntries(item, evaluator, stagingDir)));
    return staged.flat().map((item) => ({ ...item, writable }));
  }
  if (typeof entryname !== 'string') {
    throw new CwlValidationError(
      'CWL_INVALID_DOCUMENT',
      'invalid InitialWorkDirRequirement Dirent: "entryname" is required when "entry" is text',
    );
  }
  const text = typeof entry === 'string' ? entry : toInterpolationText(entry);
  return [{ name: entryname, writable, content: text }];
}

/** Resolves an entry name inside `outdir` and rejects names that leave it. */
function resolveEntryPath(outdir: string, name: string): string {
  const target = path.resolve(outdir, name);
  if (target !== outdir && !target.startsWith(outdir + path.sep)) {
    throw new CwlValidationError(
      'CWL_INVALID_DOCUMENT',
      `invalid InitialWorkDirRequirement entryname ${JSON.stringify(name)}: it must stay inside the output folder`,
    );
  }
  return target;
}

/** Points every File and Directory of `value` whose path was staged at the staged copy. */
function rewritePaths(value: unknown, renamed: Map<string, string>): void {
  if (renamed.size === 0) return;
  if (Array.isArray(value)) {
    for (const item of value) rewritePaths(item, renamed);
    return;
  }
  if (!isObject(value)) return;
  if (isFileLike(value) && typeof value.path === 'string') {
    const target = renamed.get(value.path);
    if (target !== undefined) {
      setPathFields(value, target);
    }
  }
  for (const field of Object.values(value)) rewritePaths(field, renamed);
}
