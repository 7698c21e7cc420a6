/**
 * Resource limits of the control group the pilot runs in, for cgroup v1, v2 and the hybrid
 * layout. Limits set on an ancestor group apply too, so every ancestor is read and the
 * smallest limit wins.
 */
import { posix } from 'node:path';
import { readSystemFile } from './external.js';

/** One line of /proc/self/cgroup: the controllers of a hierarchy and the group's path. */
interface CgroupMembership {
  controllers: string[];
  path: string;
}

async function readMemberships(fsRoot: string): Promise<CgroupMembership[]> {
  const text = (await readSystemFile(fsRoot, 'proc/self/cgroup')) ?? '';
  const memberships: CgroupMembership[] = [];
  for (const line of text.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (match === null) continue;
    memberships.push({ controllers: (match[1] ?? '').split(','), path: match[2] ?? '/' });
  }
  return memberships;
}

/** Returns `path` and each of its ancestors up to `/`, deepest first. */
function selfAndAncestors(path: string): string[] {
  const paths: string[] = [];
  let current = posix.normalize(path);
  for (;;) {
    paths.push(current);
    if (current === '/' || current === '.') return paths;
    current = posix.dirname(current);
  }
}

/**
 * Returns the folders under /sys/fs/cgroup that hold `controller`'s files for this process:
 * the v1 hierarchy of that controller, then the v2 tree (mounted at /sys/fs/cgroup, or at
 * /sys/fs/cgroup/unified in the hybrid layout). Paths are relative to `fsRoot`.
 */
async function controllerFolders(fsRoot: string, controller: string): Promise<string[]> {
  const folders: string[] = [];
  for (const membership of await readMemberships(fsRoot)) {
    const isV2 = membership.controllers.length === 1 && membership.controllers[0] === '';
    if (isV2) {
      for (const mount of ['sys/fs/cgroup', 'sys/fs/cgroup/unified']) {
        for (const path of selfAndAncestors(membership.path)) folders.push(posix.join(mount, path));
      }
    } else if (membership.controllers.includes(controller)) {
      const mount = `sys/fs/cgroup/${membership.controllers.join(',')}`;
      const alternative = `sys/fs/cgroup/${controller}`;
      for (const path of selfAndAncestors(membership.path)) {
        folders.push(posix.join(mount, path), posix.join(alternative, path));
      }
    }
  }
  return [...new Set(folders)];
}

/**
 * Returns the CPU limit of this process's control groups in cores (quota / period, may be
 * fractional), or undefined when no quota is set.
 */
export async function cgroupCpuLimit(fsRoot: string): Promise<number | undefined> {
  let limit: number | undefined;
  for (const folder of await controllerFolders(fsRoot, 'cpu')) {
    const v2 = await readSystemFile(fsRoot, `${folder}/cpu.max`);
    const [quotaText, periodText] = v2?.trim().split(/\s+/) ?? [
      (await readSystemFile(fsRoot, `${folder}/cpu.cfs_quota_us`))?.trim(),
      (await readSystemFile(fsRoot, `${folder}/cpu.cfs_period_us`))?.trim(),
    ];
    const quota = Number(quotaText);
    const period = Number(periodText);
    // "max" (v2) and -1 (v1) mean no quota.
    if (!(quota > 0) || !(period > 0)) continue;
    limit = Math.min(limit ?? Infinity, quota / period);
  }
  return limit;
}

/** Returns the memory limit of this process's control groups in bytes, or undefined. */
export async function cgroupMemoryLimit(fsRoot: string): Promise<number | undefined> {
  let limit: number | undefined;
  for (const folder of await controllerFolders(fsRoot, 'memory')) {
    const text =
      (await readSystemFile(fsRoot, `${folder}/memory.max`)) ??
      (await readSystemFile(fsRoot, `${folder}/memory.limit_in_bytes`));
    const bytes = Number(text?.trim());
    // "max" (v2) is not a number. v1 writes a page-rounded 2^63 - 1 for no limit, which
    // is far above any real memory, so the caller's comparison with total memory drops it.
    if (!Number.isFinite(bytes) || bytes <= 0) continue;
    limit = Math.min(limit ?? Infinity, bytes);
  }
  return limit;
}
