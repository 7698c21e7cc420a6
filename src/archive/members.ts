import { lstat, readdir } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { SandboxError } from '../errors.js';

/**
 * Returns the normalised form of `name`, a member path relative to an archive root, or
 * undefined for the root itself (`.` or `./`). Throws when `name` is absolute or has a `..`
 * component, because such a member would land outside the folder it is unpacked into.
 */
export function normaliseMemberPath(name: string): string | undefined {
  if (name === '') {
    throw new SandboxError('SANDBOX_UNSAFE_MEMBER', 'archive member has an empty name');
  }
  if (name.startsWith('/') || isAbsolute(name)) {
    throw new SandboxError(
      'SANDBOX_UNSAFE_MEMBER',
      `archive member "${name}" has an absolute path; members must be relative`,
    );
  }
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new SandboxError(
      'SANDBOX_UNSAFE_MEMBER',
      `archive member "${name}" has a ".." component, which could leave the target folder`,
    );
  }
  return parts.length === 0 ? undefined : parts.join('/');
}

/** Compares two member paths by UTF-16 code units, a locale-independent order. */
function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Appends every directory, file and symbolic link under `dir`; links are not followed. */
async function walk(root: string, relative: string, found: string[]): Promise<void> {
  const entries = await readdir(join(root, relative), { withFileTypes: true });
  for (const entry of entries) {
    const name = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory()) {
      found.push(name);
      await walk(root, name, found);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      found.push(name);
    }
    // Sockets, FIFOs and devices have no place in a sandbox and are left out.
  }
}

/**
 * Returns the sorted, de-duplicated member list of an archive of `sourceDir`: every entry
 * under it, or the given `members` with directories expanded to their contents.
 */
export async function listMembers(sourceDir: string, members?: string[]): Promise<string[]> {
  const found: string[] = [];
  if (members === undefined) {
    await walk(sourceDir, '', found);
  } else {
    for (const member of members) {
      await addMember(sourceDir, member, found);
    }
  }
  return [...new Set(found)].sort(compareNames);
}

async function addMember(sourceDir: string, member: string, found: string[]): Promise<void> {
  const name = normaliseMemberPath(member);
  if (name === undefined) {
    await walk(sourceDir, '', found);
    return;
  }
  const path = posix.join(sourceDir, name);
  const stats = await lstat(path).catch((error: unknown) => {
    throw new SandboxError(
      'SANDBOX_MEMBER_NOT_FOUND',
      `sandbox member "${member}" not found under ${sourceDir}`,
      { cause: error },
    );
  });
  if (stats.isDirectory()) {
    found.push(name);
    await walk(sourceDir, name, found);
  } else if (stats.isFile() || stats.isSymbolicLink()) {
    found.push(name);
  } else {
    throw new SandboxError(
      'SANDBOX_INVALID_MEMBER',
      `sandbox member "${member}" is not a file, folder or symbolic link`,
    );
  }
}
