/**
 * Per-job control groups on cgroup v2. A job's cgroup sits under the pilot's own cgroup, so the
 * pilot needs no more rights than its batch system delegated to it. Only `cgroup.kill`
 * (Linux 5.14 and later) and `cgroup.procs` are used, so a v2 tree without memory or cpu
 * controllers, as on hybrid v1/v2 hosts, is enough.
 */
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';

/** Result of the one-time support check: the pilot's own cgroup folder, or why there is none. */
export type CgroupSupport =
  { supported: true; parentDir: string } | { supported: false; reason: string };

let supportCheck: Promise<CgroupSupport> | undefined;

/**
 * Checks once per process whether per-job cgroups work here: a cgroup v2 mount, the pilot's own
 * cgroup inside it, and a child cgroup that can be created and offers `cgroup.kill`.
 */
export function detectCgroupSupport(): Promise<CgroupSupport> {
  supportCheck ??= checkSupport();
  return supportCheck;
}

async function checkSupport(): Promise<CgroupSupport> {
  const parentDir = await findOwnCgroupDir();
  if (parentDir === undefined) return { supported: false, reason: 'no cgroup v2 hierarchy found' };

  const probe = join(parentDir, `ctao-pilot-probe-${process.pid}`);
  try {
    await mkdir(probe);
  } catch (error) {
    return { supported: false, reason: `cannot create ${probe}: ${errorCode(error)}` };
  }
  try {
    await access(join(probe, 'cgroup.kill'));
    return { supported: true, parentDir };
  } catch {
    return { supported: false, reason: 'cgroup.kill is missing (Linux before 5.14)' };
  } finally {
    await rmdir(probe).catch(() => undefined);
  }
}

/** Finds the folder of the pilot's own v2 cgroup from /proc/self/cgroup and mountinfo. */
async function findOwnCgroupDir(): Promise<string | undefined> {
  let cgroupText: string;
  let mountText: string;
  try {
    cgroupText = await readFile('/proc/self/cgroup', 'utf8');
    mountText = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  // The v2 entry has hierarchy id 0 and an empty controller list: "0::/some/path".
  const ownPath = cgroupText
    .split('\n')
    .find((line) => line.startsWith('0::'))
    ?.slice(3);
  if (ownPath === undefined) return undefined;

  for (const line of mountText.split('\n')) {
    // Fields before " - " are: id, parent id, major:minor, root, mount point, options...
    const [before, after] = line.split(' - ');
    if (!before || !after || !after.startsWith('cgroup2 ')) continue;
    const fields = before.split(' ');
    const mountRoot = fields[3] ?? '/';
    const mountPoint = fields[4];
    if (mountPoint === undefined || !ownPath.startsWith(mountRoot)) continue;
    return join(mountPoint, ownPath.slice(mountRoot.length));
  }
  return undefined;
}

/** One job's cgroup folder: moves processes in, lists and kills them, and removes itself. */
export class JobCgroup {
  private constructor(
    /** Absolute path of the cgroup folder. */
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  /**
   * Creates the cgroup `name` under the pilot's own cgroup. Returns undefined, after a debug
   * log line, where per-job cgroups are not supported or the folder cannot be created.
   */
  static async create(name: string, log: Logger): Promise<JobCgroup | undefined> {
    const support = await detectCgroupSupport();
    if (!support.supported) {
      log.debug({ reason: support.reason }, 'per-job cgroup not available');
      return undefined;
    }
    const dir = join(support.parentDir, name);
    try {
      await mkdir(dir);
    } catch (error) {
      log.debug({ dir, err: error }, 'per-job cgroup not created');
      return undefined;
    }
    return new JobCgroup(dir, log);
  }

  /** Moves process `pid` into this cgroup. Returns false when the kernel rejects the move. */
  async addProcess(pid: number): Promise<boolean> {
    try {
      await writeFile(join(this.dir, 'cgroup.procs'), `${pid}\n`);
      return true;
    } catch (error) {
      this.log.debug({ pid, dir: this.dir, err: error }, 'process not moved into job cgroup');
      return false;
    }
  }

  /** Lists the processes in this cgroup, none when the folder is gone. */
  async listPids(): Promise<number[]> {
    const text = await readFile(join(this.dir, 'cgroup.procs'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
  }

  /**
   * Returns the CPU time used by every process that ever ran in this cgroup, exited ones
   * included, in seconds (`usage_usec` of cpu.stat), or undefined where it cannot be read.
   */
  async cpuSeconds(): Promise<number | undefined> {
    const text = await readFile(join(this.dir, 'cpu.stat'), 'utf8').catch(() => undefined);
    const match = text?.match(/^usage_usec (\d+)$/m);
    return match ? Number(match[1]) / 1e6 : undefined;
  }

  /** Sends SIGKILL to every process in this cgroup and its descendants, in one kernel call. */
  async killAll(): Promise<void> {
    try {
      await writeFile(join(this.dir, 'cgroup.kill'), '1');
    } catch (error) {
      this.log.warn({ dir: this.dir, err: error }, 'cgroup kill failed');
    }
  }

  /**
   * Removes the cgroup folder, retrying for up to `timeoutMs` while killed processes finish
   * exiting, because the kernel rejects removal of a cgroup that still has processes.
   */
  async remove(timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await rmdir(this.dir);
        return true;
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return true;
        if (Date.now() >= deadline) {
          this.log.warn({ dir: this.dir, err: error }, 'job cgroup not removed');
          return false;
        }
      }
      await sleep(50);
    }
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}
