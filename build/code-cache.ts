/**
 * V8 code cache of the bundled program, kept per user in
 * `$XDG_CACHE_HOME/ctao-pilot/<version>-<body hash>/` (default `~/.cache/ctao-pilot/...`).
 *
 * A cache file holds the functions that the run which wrote it had compiled. Its first line
 * lists the program parts that run used (see src/code-parts.ts), and V8's data follows. A run
 * that uses a part missing from that list writes the file again, so that later runs of that
 * kind find their functions compiled too.
 *
 * Every failure here (no home folder, a read-only or foreign cache folder, a full disk) turns
 * the cache off for this run and nothing else: the program then compiles from source, which is
 * slower but correct. That is why errors are swallowed without a message.
 */
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Script } from 'node:vm';

/** Environment variable that turns the code cache off when set to any non-empty value. */
export const DISABLE_VARIABLE = 'CTAO_PILOT_NO_CODE_CACHE';

/** Cache folders of other builds kept beside the current one, newest first. */
const KEPT_OTHER_BUILDS = 3;

/** Commands with a cache file of their own, because each compiles a different set of functions. */
const CACHED_COMMANDS = new Set(['exec', 'run', 'probe']);

/** Cached bytecode for one start, and how to store fresh bytecode when it was missing. */
export interface CodeCache {
  /** Cached data to hand to `new vm.Script`, or undefined when there is none. */
  data: Buffer | undefined;
  /** Program parts whose functions `data` includes. */
  parts: ReadonlySet<string>;
  /**
   * Stores `script`'s bytecode when `process` exits, if `data` was missing or rejected, or if
   * the run used a part that `parts` lacks. `usedParts` is filled in by the program as it runs.
   */
  saveOnExit(script: Script, usedParts: ReadonlySet<string>): void;
}

const NO_CACHE: CodeCache = { data: undefined, parts: new Set(), saveOnExit: () => undefined };

/** Separates the list of parts from V8's data in a cache file. */
const HEADER_END = 0x0a;

/**
 * Opens the cache file for this build, Node binary and command. Returns an inert cache when the
 * cache is turned off or its folder cannot be found.
 */
export function openCodeCache(buildId: string, command: string | undefined): CodeCache {
  if (process.env[DISABLE_VARIABLE]) return NO_CACHE;
  const root = cacheRoot();
  if (root === undefined) return NO_CACHE;

  // NOTE: copies of one build at two paths share this folder, and V8 keeps the file name the
  // cached code was compiled under, so stack traces may name the other copy's path.
  const folder = path.join(root, buildId);
  // V8 rejects data from another V8 version or other flags, so naming the file after them keeps
  // two Node versions that share a home folder from overwriting each other's cache.
  const name = CACHED_COMMANDS.has(command ?? '') ? command : 'other';
  const file = path.join(folder, `${name}-v8-${process.versions.v8}-${process.arch}.cache`);

  const { content, canWrite } = readTrusted(folder, file);
  const { data, parts } = splitContent(content);
  return {
    data,
    parts,
    saveOnExit(script, usedParts) {
      if (!canWrite) return;
      process.once('exit', () => {
        const current = data !== undefined && script.cachedDataRejected !== true;
        const newParts = [...usedParts].filter((part) => !parts.has(part));
        if (current && newParts.length === 0) return;
        const listed = current ? [...parts, ...newParts] : [...usedParts];
        writeCache(root, folder, file, script, listed);
      });
    },
  };
}

/** Splits a cache file into its list of parts and V8's data; both are empty for a bad file. */
function splitContent(content: Buffer | undefined): { data?: Buffer; parts: Set<string> } {
  const end = content?.indexOf(HEADER_END) ?? -1;
  if (content === undefined || end === -1) return { parts: new Set() };
  const header = content.toString('latin1', 0, end);
  const parts = new Set(header.split(',').filter((part) => part !== ''));
  return { data: content.subarray(end + 1), parts };
}

function cacheRoot(): string | undefined {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'ctao-pilot');
  try {
    return path.join(homedir(), '.cache', 'ctao-pilot');
  } catch {
    return undefined;
  }
}

/**
 * Reads `file` only when it and its folder belong to this user and nobody else can write them,
 * because cached bytecode runs as this user without any check of its content. `canWrite` is
 * false for a folder that exists but is not private, since a file written there would never be
 * read.
 */
function readTrusted(folder: string, file: string): { content?: Buffer; canWrite: boolean } {
  let folderStats: Stats;
  try {
    folderStats = statSync(folder);
  } catch {
    return { canWrite: true };
  }
  if (!isPrivate(folderStats)) return { canWrite: false };

  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    if (!isPrivate(fstatSync(fd))) return { canWrite: true };
    return { content: readFileSync(fd), canWrite: true };
  } catch {
    return { canWrite: true };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function isPrivate(stats: Stats): boolean {
  const owner = process.getuid?.();
  return (owner === undefined || stats.uid === owner) && (stats.mode & 0o022) === 0;
}

function writeCache(
  root: string,
  folder: string,
  file: string,
  script: Script,
  parts: string[],
): void {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    // Concurrent starts of the same build may write at once, so each writes its own temporary
    // file and the rename makes the complete file appear in one step.
    const temporary = `${file}.${process.pid}.tmp`;
    const header = Buffer.from(`${parts.join(',')}\n`, 'latin1');
    writeFileSync(temporary, Buffer.concat([header, script.createCachedData()]), { mode: 0o600 });
    renameSync(temporary, file);
    pruneOtherBuilds(root, path.basename(folder));
  } catch {
    // The cache is an optimisation only; see the file comment.
  }
}

/** Deletes the cache folders of all but the newest few other builds. */
function pruneOtherBuilds(root: string, current: string): void {
  const others = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== current)
    .map((entry) => {
      const folder = path.join(root, entry.name);
      return { folder, modified: statSync(folder).mtimeMs };
    })
    .sort((a, b) => b.modified - a.modified);
  for (const { folder } of others.slice(KEPT_OTHER_BUILDS)) {
    rmSync(folder, { recursive: true, force: true });
  }
}
