import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Size and change state of a job folder. */
export interface JobFolderScan {
  /** Disk space allocated to regular files, in bytes. A file with several hard links counts once per link. */
  bytes: number;
  /** Regular files found. */
  files: number;
  /**
   * Hash of every file's path, size and modification time. It changes when a file is added or
   * removed or changes size or modification time, barring a 32-bit hash collision.
   */
  fingerprint: string;
}

/**
 * Walks `dir` without following symbolic links and sums its files. Paths in `ignoredPaths`
 * (absolute) count for the size but not for the fingerprint, so files the pilot writes itself
 * do not look like payload progress. Entries that vanish during the walk are skipped.
 */
export async function scanJobFolder(
  dir: string,
  ignoredPaths: ReadonlySet<string> = new Set(),
): Promise<JobFolderScan> {
  let bytes = 0;
  let files = 0;
  let hash = 0;
  const pending = [dir];

  while (pending.length > 0) {
    const folder = pending.pop() as string;
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(folder, name);
      const stats = await lstat(path).catch(() => undefined);
      if (stats === undefined) continue;
      if (stats.isDirectory()) {
        pending.push(path);
        continue;
      }
      if (!stats.isFile()) continue;

      files += 1;
      // Allocated blocks are what fills the disk, and they stay small for sparse files.
      bytes += stats.blocks !== undefined ? stats.blocks * 512 : stats.size;
      if (!ignoredPaths.has(path)) {
        hash = mixHash(hash, `${path}\0${stats.size}\0${stats.mtimeMs}`);
      }
    }
  }
  return { bytes, files, fingerprint: `${files}:${hash.toString(16)}` };
}

/** Adds `text` to an order-independent 32-bit hash, so the walk order does not matter. */
function mixHash(hash: number, text: string): number {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    value = Math.imul(value ^ text.charCodeAt(index), 0x01000193);
  }
  return (hash + (value >>> 0)) >>> 0;
}
