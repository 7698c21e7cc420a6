/**
 * File and Directory objects: resolving `location` and `path`, the derived name fields, size,
 * SHA-1 checksum, listings and `loadContents`.
 */
import { nodeCrypto } from '../builtins.js';
import { createReadStream, readdirSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { close, open, read, readdir, rm, stat } from './async-fs.js';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CwlExecutionError, CwlValidationError } from '../errors.js';
import type { CwlFileLike } from './model.js';

/** The CWL limit for `loadContents` (64 KiB). */
export const LOAD_CONTENTS_LIMIT = 64 * 1024;

/** Depth to which a Directory's `listing` is filled in. */
export type ListingDepth = 'no_listing' | 'shallow_listing' | 'deep_listing';

/**
 * Returns the absolute local path of a `path` value (a plain path) or, when `isLocation` is set,
 * of a `location` value (a URI, so `%23` stands for `#`). Relative values resolve against
 * `baseDir`. Throws CwlValidationError for a URI scheme other than `file`, because this engine
 * reads local files only.
 */
export function toLocalPath(reference: string, baseDir: string, isLocation = false): string {
  if (reference.startsWith('file://')) return fileURLToPath(reference);
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(reference)) {
    throw new CwlValidationError(
      'CWL_INVALID_INPUT',
      `unsupported location ${reference}: only local paths and file:// URIs can be read`,
    );
  }
  if (!isLocation) return path.resolve(baseDir, reference);
  const base = pathToFileURL(baseDir.endsWith(path.sep) ? baseDir : baseDir + path.sep);
  return fileURLToPath(new URL(reference, base));
}

/** Returns the local path of a File or Directory object from its `location`, else its `path`. */
export function localPathOf(value: CwlFileLike, baseDir: string): string | undefined {
  if (typeof value.location === 'string') return toLocalPath(value.location, baseDir, true);
  if (typeof value.path === 'string') return toLocalPath(value.path, baseDir);
  return undefined;
}

/** Splits a basename into `nameroot` and `nameext` the way CWL does (`a.tar.gz` → `a.tar`, `.gz`). */
export function splitBasename(basename: string): { nameroot: string; nameext: string } {
  const dot = basename.lastIndexOf('.');
  if (dot <= 0) return { nameroot: basename, nameext: '' };
  return { nameroot: basename.slice(0, dot), nameext: basename.slice(dot) };
}

/**
 * Sets `path`, `location`, `basename`, `dirname`, and for Files `nameroot` and `nameext`, on a
 * File or Directory whose local path is `localPath`. `basename` defaults to the last component
 * of `localPath`. A different one is the name the entry gets when it is staged or relocated.
 * Returns the same object.
 */
export function setPathFields<T extends CwlFileLike>(
  value: T,
  localPath: string,
  basename = path.basename(localPath),
): T {
  value.location = pathToFileURL(localPath).href;
  value.path = localPath;
  value.basename = basename;
  value.dirname = path.dirname(localPath);
  if (value.class === 'File') Object.assign(value, splitBasename(basename));
  return value;
}

/**
 * Checksums by file identity (device, inode, size, modification time). An output is hashed when
 * it is collected and again after it is moved to the output folder; a move keeps all four, so
 * the second time reads no bytes.
 */
const checksumCache = new Map<string, string>();
const CHECKSUM_CACHE_ENTRIES = 10_000;
/**
 * Files up to this size are read in one blocking call: that takes microseconds, while a
 * stream costs four round trips through libuv's thread pool.
 */
const SMALL_FILE_BYTES = 64 * 1024;

/** Returns the SHA-1 of a file's bytes as `sha1$<hex>`. */
export async function computeChecksum(file: string): Promise<string> {
  const info = await stat(file, { bigint: true });
  const identity = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}`;
  const cached = checksumCache.get(identity);
  if (cached !== undefined) return cached;

  const hash = nodeCrypto().createHash('sha1');
  if (info.size <= SMALL_FILE_BYTES) hash.update(readFileSync(file));
  else for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const checksum = `sha1$${hash.digest('hex')}`;
  if (checksumCache.size >= CHECKSUM_CACHE_ENTRIES) checksumCache.clear();
  checksumCache.set(identity, checksum);
  return checksum;
}

/**
 * Reads up to 64 KiB of a file as UTF-8 for `loadContents`. Throws CwlExecutionError when the
 * file is larger, as the CWL v1.2 specification requires.
 */
export async function readContents(file: string): Promise<string> {
  const fd = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(LOAD_CONTENTS_LIMIT + 1);
    const { bytesRead } = await read(fd, buffer, 0, buffer.length, 0);
    if (bytesRead > LOAD_CONTENTS_LIMIT) {
      throw new CwlExecutionError(
        'CWL_LOAD_CONTENTS_TOO_LARGE',
        `loadContents: ${file} is larger than ${LOAD_CONTENTS_LIMIT} bytes`,
      );
    }
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await close(fd);
  }
}

/**
 * Builds the `listing` of the Directory at `dir`: Files and Directories sorted by name, with
 * sub-listings when `depth` is `deep_listing`. Checksums are added when `withChecksums` is set.
 */
export async function buildListing(
  dir: string,
  depth: ListingDepth,
  withChecksums = false,
): Promise<CwlFileLike[]> {
  if (depth === 'no_listing') return [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort(compareNames);

  const listing: CwlFileLike[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    const info = await stat(full).catch(() => undefined);
    if (info === undefined) continue;

    if (info.isDirectory()) {
      const child = setPathFields({ class: 'Directory' } as CwlFileLike, full);
      if (depth === 'deep_listing') child.listing = await buildListing(full, depth, withChecksums);
      listing.push(child);
    } else {
      const child = setPathFields({ class: 'File' } as CwlFileLike, full);
      child.size = info.size;
      if (withChecksums) child.checksum = await computeChecksum(full);
      listing.push(child);
    }
  }
  return listing;
}

/** Orders directory entries by name, by code unit like a byte-wise sort of ASCII names. */
function compareNames(a: { name: string }, b: { name: string }): number {
  if (a.name < b.name) return -1;
  if (a.name > b.name) return 1;
  return 0;
}

/** Returns the file type of `file`, or undefined when it does not exist. */
export async function statKind(file: string): Promise<'File' | 'Directory' | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) return undefined;
  return info.isDirectory() ? 'Directory' : 'File';
}

/**
 * Entries that {@link removeTree} removes with blocking calls before it hands the rest to
 * `fs.rm`. A run leaves a few dozen. A blocking call takes about 10 microseconds here and an
 * asynchronous one 0.1 ms of round trip, so small trees go much faster this way. A large tree
 * blocks the event loop for a few milliseconds at most.
 */
const BLOCKING_REMOVAL_ENTRIES = 500;

/**
 * Removes the folder `dir` and everything in it; a missing folder is no error. On any failure
 * (a folder without write permission, an entry appearing meanwhile) and past the blocking
 * budget, `fs.rm` finishes the work and reports errors.
 */
export async function removeTree(dir: string): Promise<void> {
  try {
    if (removeBlocking(dir, { left: BLOCKING_REMOVAL_ENTRIES })) return;
  } catch {
    // fs.rm below retries and reports.
  }
  await rm(dir, { recursive: true, force: true });
}

/** Removes `dir` unless the budget runs out first; returns whether it did. */
function removeBlocking(dir: string, budget: { left: number }): boolean {
  const entries = readdirSync(dir, { withFileTypes: true });
  budget.left -= entries.length;
  if (budget.left < 0) return false;
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (!entry.isDirectory()) unlinkSync(full);
    else if (!removeBlocking(full, budget)) return false;
  }
  rmdirSync(dir);
  return true;
}
