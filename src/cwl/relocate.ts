/**
 * Moves the Files and Directories of an output object from the tool's private output folder
 * to the run's final output folder, and fills in `size`, `checksum` and listings there.
 */
import { cp, lstat, mkdir, readdir, readlink, realpath, rename, rm, stat } from './async-fs.js';
import path from 'node:path';
import { buildListing, computeChecksum, setPathFields } from './files.js';
import { isFileLike, isObject, type CwlFileLike } from './model.js';

/**
 * Relocates every File and Directory in `outputs` from `jobDir` into `outdir`, keeping its
 * path relative to `jobDir`. Files that live elsewhere (inputs passed through, outputs of
 * Workflow steps) go to the top of `outdir`. Entries inside `scratchDir`, a folder deleted
 * after the run, are moved; all others are copied. Returns the output object with rewritten
 * locations, sizes and checksums.
 */
export async function relocateOutputs(
  outputs: Record<string, unknown>,
  jobDir: string,
  outdir: string,
  scratchDir: string = jobDir,
): Promise<Record<string, unknown>> {
  const moved = new Map<string, string>();
  const realJobDir = await realpath(jobDir);
  const realScratchDir = scratchDir === jobDir ? realJobDir : await realpath(scratchDir);
  // Real paths are resolved before anything moves, because a move breaks the other paths to
  // the same entry, such as a staging link to a folder that a step updated in place.
  const realPaths = new Map<string, string>();
  await collectRealPaths(outputs, realPaths);
  const byRealPath = new Map<string, string>();
  const state = { jobDir, realJobDir, realScratchDir, outdir, moved, realPaths, byRealPath };
  const relocated = (await relocateValue(outputs, state)) as Record<string, unknown>;
  await replaceOutsideLinks(outdir, [...moved.values()]);
  return (await finishValue(relocated)) as Record<string, unknown>;
}

interface RelocateState {
  jobDir: string;
  outdir: string;
  /** `jobDir` with symbolic links resolved. */
  realJobDir: string;
  /** The folder deleted after the run, with symbolic links resolved. */
  realScratchDir: string;
  /** Old path to new path of everything moved or copied so far. */
  moved: Map<string, string>;
  /** Output path to its real path (symbolic links resolved), taken before the first move. */
  realPaths: Map<string, string>;
  /** Real path to new path of everything moved or copied so far. */
  byRealPath: Map<string, string>;
}

async function collectRealPaths(value: unknown, realPaths: Map<string, string>): Promise<void> {
  if (Array.isArray(value)) {
    for (const item of value) await collectRealPaths(item, realPaths);
    return;
  }
  if (!isObject(value)) return;
  if (isFileLike(value) && typeof value.path === 'string' && !realPaths.has(value.path)) {
    const real = await realpath(value.path).catch(() => undefined);
    if (real !== undefined) realPaths.set(value.path, real);
  }
  for (const [key, field] of Object.entries(value)) {
    if (key !== 'listing' || value.class !== 'Directory') await collectRealPaths(field, realPaths);
  }
}

async function relocateValue(value: unknown, state: RelocateState): Promise<unknown> {
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) items.push(await relocateValue(item, state));
    return items;
  }
  if (!isObject(value)) return value;
  if (isFileLike(value) && typeof value.path === 'string') {
    const target = await relocatePath(
      value.path,
      value.basename ?? path.basename(value.path),
      state,
    );
    setPathFields(value, target);
    if (value.class === 'File') delete value.dirname;
    if (value.class === 'Directory') delete value.dirname;
  }
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    copy[key] =
      key === 'listing' && value.class === 'Directory' ? field : await relocateValue(field, state);
  }
  return copy;
}

async function relocatePath(
  source: string,
  basename: string,
  state: RelocateState,
): Promise<string> {
  const renamed = basename !== path.basename(source);
  const current = whereNow(source, state);
  if (current !== source && !renamed) {
    state.moved.set(source, current);
    return current;
  }

  // Two outputs that name the same real entry through different paths share one location.
  const real = state.realPaths.get(source);
  const shared = real === undefined ? undefined : findRelocatedReal(real, basename, state);
  if (shared !== undefined) {
    if (!renamed) state.moved.set(source, shared);
    return shared;
  }

  const relative = path.relative(state.jobDir, source);
  const underJob = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  const preferred = underJob
    ? path.join(state.outdir, path.dirname(relative), basename)
    : freeName(state.outdir, basename, state);
  const info = await lstat(current);
  const isFolder =
    info.isDirectory() || (await stat(current).catch(() => undefined))?.isDirectory() === true;
  const target = isFolder ? preferred : await besideFullFolder(preferred, state);

  // A path through a symbolic link to a staged input folder names the input itself. A link
  // that the tool made may be relative. So only real entries of the scratch folder are moved,
  // and everything else is copied with its links resolved.
  const realFolder = await realpath(path.dirname(current)).catch(() => '');
  const movable = !renamed && !info.isSymbolicLink() && isInside(realFolder, state.realScratchDir);

  await mkdir(path.dirname(target), { recursive: true });
  if (movable) await moveEntry(current, target);
  else await cp(current, target, { recursive: true, dereference: true, force: true });
  if (!renamed) state.moved.set(source, target);
  if (real !== undefined) state.byRealPath.set(real, target);
  return target;
}

/**
 * Returns where the entry with real path `real` was relocated, directly or inside a relocated
 * folder, if that location has the name `basename`. Returns undefined otherwise.
 */
function findRelocatedReal(
  real: string,
  basename: string,
  state: RelocateState,
): string | undefined {
  const exact = state.byRealPath.get(real);
  if (exact !== undefined && path.basename(exact) === basename) return exact;
  for (const [fromReal, to] of state.byRealPath) {
    if (!real.startsWith(fromReal + path.sep)) continue;
    const candidate = path.join(to, path.relative(fromReal, real));
    if (path.basename(candidate) === basename) return candidate;
  }
  return undefined;
}

/** Returns where `source` is now: where it or a folder above it was moved, else `source`. */
function whereNow(source: string, state: RelocateState): string {
  const known = state.moved.get(source);
  if (known !== undefined) return known;
  for (const [from, to] of state.moved) {
    if (source.startsWith(from + path.sep)) return path.join(to, path.relative(from, source));
  }
  return source;
}

function isInside(candidate: string, folder: string): boolean {
  return candidate === folder || candidate.startsWith(folder + path.sep);
}

/**
 * Returns `basename` in `outdir`, or with `_2`, `_3`... appended when another output of this
 * run already went there. An entry left in `outdir` by an earlier run is replaced, as a tool's
 * own outputs are.
 */
function freeName(outdir: string, basename: string, state: RelocateState): string {
  const usedTargets = new Set(state.moved.values());
  let candidate = path.join(outdir, basename);
  for (let n = 2; usedTargets.has(candidate); n++) {
    candidate = path.join(outdir, `${basename}_${n}`);
  }
  return candidate;
}

/**
 * Returns where a File output goes when `preferred` is its place: there, unless a folder with
 * content that this run did not put there is in the way. Then the first free `preferred_2`,
 * `preferred_3`... is taken, so that a file never replaces a folder's content.
 */
async function besideFullFolder(preferred: string, state: RelocateState): Promise<string> {
  const usedTargets = new Set(state.moved.values());
  if (usedTargets.has(preferred) || !(await isFullFolder(preferred))) return preferred;
  for (let n = 2; ; n++) {
    const candidate = `${preferred}_${n}`;
    if (!usedTargets.has(candidate) && !(await isFullFolder(candidate))) return candidate;
  }
}

async function isFullFolder(candidate: string): Promise<boolean> {
  const info = await lstat(candidate).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) return false;
  return (await readdir(candidate)).length > 0;
}

/** Error codes of a rename whose target exists and is in the way. */
const TARGET_IN_WAY = new Set(['EEXIST', 'ENOTEMPTY', 'EISDIR', 'ENOTDIR']);

/**
 * Renames, replacing what is at `target`, or copies and deletes when the folders sit on
 * different file systems. The rename is tried first because the target rarely exists, and a
 * rename over a file or an empty folder replaces it in one step.
 */
async function moveEntry(source: string, target: string): Promise<void> {
  try {
    await rename(source, target);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code !== 'EXDEV' && !TARGET_IN_WAY.has(code)) throw error;
    await rm(target, { recursive: true, force: true });
    if (code !== 'EXDEV') return rename(source, target);
  }
  await cp(source, target, { recursive: true, verbatimSymlinks: true });
  await rm(source, { recursive: true, force: true });
}

/**
 * Replaces symbolic links among the relocated entries (staged inputs) with copies of what they
 * point to, because the staging folders they point into are deleted after the run.
 */
async function replaceOutsideLinks(outdir: string, entries: string[]): Promise<void> {
  for (const entry of entries) await replaceLinksUnder(entry, outdir);
}

async function replaceLinksUnder(entry: string, outdir: string): Promise<void> {
  const info = await lstat(entry).catch(() => undefined);
  if (info === undefined) return;
  if (info.isSymbolicLink()) {
    const target = path.resolve(path.dirname(entry), await readlink(entry));
    if (target.startsWith(outdir + path.sep)) return;
    await rm(entry, { force: true });
    await cp(target, entry, { recursive: true, dereference: true });
    return;
  }
  if (!info.isDirectory()) return;
  for (const name of await readdir(entry)) await replaceLinksUnder(path.join(entry, name), outdir);
}

/** Fills in `size` and `checksum` of Files and the deep listing of Directories. */
async function finishValue(value: unknown): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map(finishValue));
  if (!isObject(value)) return value;
  if (isFileLike(value) && typeof value.path === 'string') return finishFileLike(value);
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) copy[key] = await finishValue(field);
  return copy;
}

async function finishFileLike(value: CwlFileLike): Promise<CwlFileLike> {
  const file = value.path as string;
  if (value.class === 'File') {
    value.size = (await stat(file)).size;
    value.checksum = await computeChecksum(file);
  } else {
    value.listing = await buildListing(file, 'deep_listing', true);
    stripDirnames(value.listing);
  }
  if (Array.isArray(value.secondaryFiles)) {
    value.secondaryFiles = (await finishValue(value.secondaryFiles)) as CwlFileLike[];
  }
  return value;
}

function stripDirnames(listing: CwlFileLike[]): void {
  for (const entry of listing) {
    delete entry.dirname;
    if (Array.isArray(entry.listing)) stripDirnames(entry.listing);
  }
}
