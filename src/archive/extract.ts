/**
 * Writes tar members into a target folder one at a time, rejecting any member that could
 * write, link or point outside it.
 */
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, readlink, symlink, unlink } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import type { ReadEntry } from 'tar';
import { SandboxError } from '../errors.js';
import { normaliseMemberPath } from './members.js';

/** Symbolic links followed while checking where a link resolves, as Linux's MAXSYMLINKS. */
const MAX_LINK_HOPS = 40;

/** Limits applied while extracting. */
export interface ExtractLimits {
  /** Maximum total size of regular-file members, in bytes. */
  maxBytes: number;
  /** Maximum number of members of any type. */
  maxMembers: number;
}

function unsafe(name: string, reason: string): SandboxError {
  return new SandboxError('SANDBOX_UNSAFE_MEMBER', `archive member "${name}" rejected: ${reason}`);
}

function conflict(name: string, reason: string): SandboxError {
  return new SandboxError('SANDBOX_MEMBER_CONFLICT', `archive member "${name}": ${reason}`);
}

async function lstatOrUndefined(path: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Extracts members into one target folder and records what it wrote. */
export class Extractor {
  /** Member paths written, normalised, in archive order. */
  readonly members: string[] = [];
  /** Bytes of regular-file content written. */
  bytes = 0;
  private memberCount = 0;
  private readonly knownDirectories = new Set<string>();
  private readonly symlinks: string[] = [];

  /** `root` must be an existing folder given as a real path (no symbolic links in it). */
  constructor(
    private readonly root: string,
    private readonly limits: ExtractLimits,
  ) {}

  /** Extracts one member and consumes its data. */
  async extract(entry: ReadEntry): Promise<void> {
    this.memberCount += 1;
    if (this.memberCount > this.limits.maxMembers) {
      throw new SandboxError(
        'SANDBOX_TOO_MANY_MEMBERS',
        `archive member "${entry.path}" exceeds the limit of ${this.limits.maxMembers} members`,
      );
    }
    const name = normaliseMemberPath(entry.path);
    if (name === undefined) {
      if (entry.type !== 'Directory')
        throw unsafe(entry.path, 'only a folder entry may name the root');
      entry.resume();
      return;
    }

    switch (entry.type) {
      case 'Directory':
        entry.resume();
        await this.makeDirectory(name, entry.mode);
        break;
      case 'File':
      case 'OldFile':
      case 'ContiguousFile':
        await this.writeFile(name, entry);
        break;
      case 'SymbolicLink':
        entry.resume();
        await this.makeSymlink(name, entry.linkpath ?? '');
        break;
      case 'Link':
        entry.resume();
        await this.makeHardLink(name, entry.linkpath ?? '');
        break;
      case 'CharacterDevice':
      case 'BlockDevice':
      case 'FIFO':
        throw unsafe(name, `type ${entry.type} is not allowed in a sandbox`);
      default:
        throw new SandboxError(
          'SANDBOX_UNSUPPORTED_MEMBER',
          `archive member "${name}" has unsupported type ${entry.type}`,
        );
    }
    this.members.push(name);
  }

  /**
   * Checks that every symbolic link written resolves inside the root. A link can pass the
   * check made when it was written and still escape through a link written after it, such
   * as `s -> a/../x` followed by `a -> .`, so this runs once all members are written.
   */
  async checkSymlinks(): Promise<void> {
    for (const name of this.symlinks) {
      if (!(await this.resolvesInside(name))) {
        throw unsafe(name, 'symbolic link resolves outside the target folder');
      }
    }
  }

  private async makeDirectory(name: string, mode: number | undefined): Promise<void> {
    await this.prepareParent(name);
    const path = join(this.root, name);
    const existing = await lstatOrUndefined(path);
    if (existing?.isDirectory()) {
      this.knownDirectories.add(name);
      return;
    }
    if (existing !== undefined) await unlink(path);
    // Owner rwx is kept so later members can be written into the folder.
    await mkdir(path, { mode: ((mode ?? 0o755) & 0o777) | 0o700 });
    this.knownDirectories.add(name);
  }

  private async writeFile(name: string, entry: ReadEntry): Promise<void> {
    if (this.bytes + entry.size > this.limits.maxBytes) {
      throw new SandboxError(
        'SANDBOX_TOO_LARGE',
        `archive member "${name}" (${entry.size} bytes) takes the unpacked size past the ` +
          `limit of ${this.limits.maxBytes} bytes`,
      );
    }
    const path = await this.prepareDestination(name);
    // O_EXCL with O_CREAT fails on an existing symbolic link instead of following it.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    // Set-user-ID, set-group-ID and sticky bits are dropped.
    const handle = await open(path, flags, (entry.mode ?? 0o644) & 0o777);
    try {
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        await handle.write(chunk);
        this.bytes += chunk.length;
      }
      if (entry.mtime !== undefined) await handle.utimes(entry.mtime, entry.mtime);
    } finally {
      await handle.close();
    }
  }

  private async makeSymlink(name: string, target: string): Promise<void> {
    if (isAbsolute(target)) throw unsafe(name, `symbolic link to absolute path ${target}`);
    const resolved = posix.normalize(posix.join(posix.dirname(name), target));
    if (resolved === '..' || resolved.startsWith('../')) {
      throw unsafe(name, `symbolic link to ${target} points outside the target folder`);
    }
    const path = await this.prepareDestination(name);
    await symlink(target, path);
    this.symlinks.push(name);
  }

  private async makeHardLink(name: string, target: string): Promise<void> {
    let targetName: string | undefined;
    try {
      targetName = normaliseMemberPath(target);
    } catch {
      throw unsafe(name, `hard link to ${target} points outside the target folder`);
    }
    if (targetName === undefined) throw unsafe(name, 'hard link to the target folder itself');
    await this.checkParents(targetName, name);
    const targetStats = await lstatOrUndefined(join(this.root, targetName));
    if (targetStats === undefined || !targetStats.isFile()) {
      throw unsafe(name, `hard link target ${target} is not a regular file written before it`);
    }
    const path = await this.prepareDestination(name);
    await link(join(this.root, targetName), path);
  }

  /** Creates the parent folders of `name`, clears its path and returns the absolute path. */
  private async prepareDestination(name: string): Promise<string> {
    await this.prepareParent(name);
    const path = join(this.root, name);
    const existing = await lstatOrUndefined(path);
    if (existing?.isDirectory()) throw conflict(name, 'a folder of that name already exists');
    // A later member replaces an earlier one, as tar does. Unlinking first also keeps a
    // hard-linked copy unchanged.
    if (existing !== undefined) await unlink(path);
    return path;
  }

  /** Creates missing parent folders of `name`, rejecting any that is a symbolic link. */
  private async prepareParent(name: string): Promise<void> {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i += 1) {
      const prefix = parts.slice(0, i).join('/');
      if (this.knownDirectories.has(prefix)) continue;
      const path = join(this.root, prefix);
      const stats = await lstatOrUndefined(path);
      if (stats === undefined) {
        await mkdir(path, { mode: 0o755 });
      } else if (stats.isSymbolicLink()) {
        throw unsafe(name, `its parent ${prefix} is a symbolic link`);
      } else if (!stats.isDirectory()) {
        throw conflict(name, `its parent ${prefix} is not a folder`);
      }
      this.knownDirectories.add(prefix);
    }
  }

  /** Rejects `member` when a parent folder of `name` is a symbolic link or missing. */
  private async checkParents(name: string, member: string): Promise<void> {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i += 1) {
      const prefix = parts.slice(0, i).join('/');
      const stats = await lstatOrUndefined(join(this.root, prefix));
      if (stats === undefined || !stats.isDirectory() || stats.isSymbolicLink()) {
        throw unsafe(member, `hard link target ${name} is reached through ${prefix}`);
      }
    }
  }

  /** Follows the link `name` as the kernel would and reports whether it stays in the root. */
  private async resolvesInside(name: string): Promise<boolean> {
    const resolved: string[] = [];
    let pending = name.split('/');
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift() as string;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (resolved.length === 0) return false;
        resolved.pop();
        continue;
      }
      resolved.push(part);
      const path = join(this.root, ...resolved);
      const stats = await lstatOrUndefined(path);
      // A missing component is resolved by name only: the kernel would stop there.
      if (stats === undefined || !stats.isSymbolicLink()) continue;
      hops += 1;
      const target = await readlink(path);
      if (hops > MAX_LINK_HOPS || isAbsolute(target)) return false;
      resolved.pop();
      pending = [...target.split('/'), ...pending];
    }
    return true;
  }
}
