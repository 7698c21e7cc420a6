import { statfs } from 'node:fs/promises';
import { readSystemFile } from './external.js';

/** Returns the glibc version Node runs with, such as "2.36", or undefined (musl, macOS). */
export function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as
    { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}

/**
 * Returns whether unprivileged user namespaces are available, which bubblewrap and rootless
 * Apptainer need: /proc/sys/user/max_user_namespaces above 0, and on Debian kernels
 * /proc/sys/kernel/unprivileged_userns_clone not 0 for a non-root user.
 */
export async function userNamespacesEnabled(fsRoot: string, uid: number): Promise<boolean> {
  const maxText = await readSystemFile(fsRoot, 'proc/sys/user/max_user_namespaces');
  if (maxText === undefined || !(Number(maxText.trim()) > 0)) return false;
  const cloneText = await readSystemFile(fsRoot, 'proc/sys/kernel/unprivileged_userns_clone');
  if (uid !== 0 && cloneText !== undefined && cloneText.trim() === '0') return false;
  return true;
}

/**
 * Returns the `os:<id><major>` tag from /etc/os-release, such as `os:debian12` or
 * `os:rocky9`, or undefined when the file or its ID is missing.
 */
export function osReleaseTag(osRelease: string): string | undefined {
  const fields = new Map<string, string>();
  for (const line of osRelease.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match === null) continue;
    fields.set(match[1] as string, (match[2] as string).replace(/^["']|["']$/g, ''));
  }
  const id = fields.get('ID')?.toLowerCase();
  if (id === undefined || id === '') return undefined;
  const major = /^(\d+)/.exec(fields.get('VERSION_ID') ?? '')?.[1] ?? '';
  return `os:${id}${major}`;
}

/** Returns the space available to this user in the file system of `folder`, in MiB. */
export async function freeDiskMb(folder: string): Promise<number> {
  const stats = await statfs(folder);
  return Math.floor((stats.bavail * stats.bsize) / (1024 * 1024));
}
