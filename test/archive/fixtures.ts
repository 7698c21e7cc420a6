import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Header, type HeaderData } from 'tar';

/** One member of a hand-built tar archive. */
export interface RawMember {
  path: string;
  type: NonNullable<HeaderData['type']>;
  body?: Buffer | string;
  linkpath?: string;
  mode?: number;
}

/** Encodes `members` as a plain tar archive, with no checks on names or types. */
export function buildTar(members: RawMember[]): Buffer {
  const blocks: Buffer[] = [];
  for (const member of members) {
    const body = Buffer.from(member.body ?? '');
    const header = new Header({
      path: member.path,
      type: member.type,
      size: body.length,
      linkpath: member.linkpath,
      mode: member.mode ?? 0o644,
      mtime: new Date(0),
      uid: 0,
      gid: 0,
    });
    header.encode();
    blocks.push(header.block as Buffer, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** Returns whether the program `name` runs on this machine. */
export function hasProgram(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const scratchFolders: string[] = [];

/** Creates a scratch folder, deleted by the next {@link removeScratch}. */
export async function makeScratch(prefix = 'ctao-archive-'): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), prefix));
  scratchFolders.push(folder);
  return folder;
}

/** Deletes every scratch folder made so far. */
export async function removeScratch(): Promise<void> {
  for (const folder of scratchFolders.splice(0)) {
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * Writes a small sandbox tree under `root`: text, a 3 MB binary file, an executable, an
 * empty folder, a relative symbolic link and a name with spaces and non-ASCII letters.
 */
export async function writeSampleTree(root: string): Promise<void> {
  await mkdir(join(root, 'data', 'deep'), { recursive: true });
  await mkdir(join(root, 'empty'));
  await writeFile(join(root, 'README.txt'), 'sandbox\n');
  const binary = Buffer.alloc(3_000_000);
  for (let i = 0; i < binary.length; i += 1) binary[i] = (i * 7919) % 251;
  await writeFile(join(root, 'data', 'deep', 'events.bin'), binary);
  await writeFile(join(root, 'run.sh'), '#!/bin/sh\necho ok\n', { mode: 0o755 });
  await writeFile(join(root, 'data', 'größe mit leer.txt'), 'ä\n');
  await symlink('../README.txt', join(root, 'data', 'readme-link'));
}

/** Lists every path under `root`, relative and sorted, folders included. */
export async function listTree(root: string, relative = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(root, relative), { withFileTypes: true })) {
    const name = relative === '' ? entry.name : `${relative}/${entry.name}`;
    found.push(name);
    if (entry.isDirectory()) found.push(...(await listTree(root, name)));
  }
  return found.sort();
}
