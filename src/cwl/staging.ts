/**
 * Input staging: every input File and Directory gets a private folder holding a symbolic link
 * under its `basename`, with its secondaryFiles beside it. Tools then see the names that the
 * input object gives, and a primary file and its secondary files always share one folder.
 */
import { randomHex } from './names.js';
import { cp, mkdir, symlink } from './async-fs.js';
import path from 'node:path';
import { setPathFields } from './files.js';
import { asArray, isFileLike, isObject, type CwlFileLike } from './model.js';

/**
 * Stages every File and Directory of the input object `value` under `stagingDir` and rewrites
 * their `path`, `location` and `dirname` in place. Returns the real path of each staged entry,
 * which the tool may read through its links.
 */
export async function stageInputs(value: unknown, stagingDir: string): Promise<Set<string>> {
  const sources = new Set<string>();
  await stageValue(value, stagingDir, sources);
  return sources;
}

async function stageValue(value: unknown, stagingDir: string, sources: Set<string>): Promise<void> {
  if (Array.isArray(value)) {
    for (const item of value) await stageValue(item, stagingDir, sources);
    return;
  }
  if (!isObject(value)) return;
  if (!isFileLike(value)) {
    for (const field of Object.values(value)) await stageValue(field, stagingDir, sources);
    return;
  }

  const folder = path.join(stagingDir, `stg-${randomHex(12)}`);
  await mkdir(folder, { recursive: true });
  await stageEntry(value, folder, sources);
  for (const secondary of value.secondaryFiles ?? []) {
    if (isFileLike(secondary)) await stageEntry(secondary, folder, sources);
  }
}

async function stageEntry(value: CwlFileLike, folder: string, sources: Set<string>): Promise<void> {
  const source = value.path;
  if (typeof source !== 'string') return;
  const basename = value.basename ?? path.basename(source);
  const target = path.join(folder, basename);

  await symlink(source, target).catch((error: NodeJS.ErrnoException) => {
    // Two entries with one basename in one folder: the first one wins, as in cwltool.
    if (error.code !== 'EEXIST') throw error;
  });
  sources.add(source);
  setPathFields(value, target, basename);
  if (Array.isArray(value.listing)) moveListing(value.listing, source, target);
}

/**
 * Places `value` in `folder` under `name`: a symbolic link, or a deep copy when `copy` is set.
 * Its secondaryFiles are placed beside it under their own basenames. Returns the new path.
 */
export async function placeEntry(
  value: CwlFileLike,
  folder: string,
  name: string,
  copy: boolean,
): Promise<string> {
  const target = path.join(folder, name);
  await mkdir(path.dirname(target), { recursive: true });
  await placeOne(value.path as string, target, copy);
  for (const secondary of asArray(value.secondaryFiles).filter(isFileLike)) {
    const secondaryName = secondary.basename ?? path.basename(secondary.path as string);
    await placeOne(secondary.path as string, path.join(path.dirname(target), secondaryName), copy);
  }
  return target;
}

async function placeOne(source: string, target: string, copy: boolean): Promise<void> {
  if (copy) {
    await cp(source, target, { recursive: true, dereference: true });
    return;
  }
  await symlink(source, target).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}

/** Rewrites the paths of a staged Directory's listing to go through the staged link. */
function moveListing(listing: CwlFileLike[], from: string, to: string): void {
  for (const entry of listing) {
    if (typeof entry.path !== 'string') continue;
    const relative = path.relative(from, entry.path);
    if (relative.startsWith('..')) continue;
    setPathFields(entry, path.join(to, relative), entry.basename);
    if (Array.isArray(entry.listing)) moveListing(entry.listing, from, to);
  }
}
