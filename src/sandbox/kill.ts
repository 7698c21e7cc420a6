/**
 * Finds and ends every process of one job, including children that left the payload's process
 * group (setsid) or were reparented to init after a double fork.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger, type Logger } from '../log.js';
import { JobCgroup } from './cgroup.js';
import {
  hasEnvironmentEntry,
  readAllProcesses,
  selectDescendants,
  type ProcessInfo,
} from './proc.js';

/** Name of the environment variable that marks every process of one job. */
export const JOB_MARKER_VARIABLE = 'CTAO_PILOT_JOB_MARKER';

/** Options of {@link ProcessTreeKiller}. */
export interface ProcessTreeKillerOptions {
  /** Job id, used in the cgroup name and log fields. */
  jobId: number | string;
  /** Milliseconds between SIGTERM and SIGKILL. Default 10 000. */
  graceMs?: number;
  /** Milliseconds to wait after SIGKILL before reporting survivors. Default 5000. */
  killWaitMs?: number;
  /** Whether to try a per-job cgroup v2. Default true. Support is detected once per process. */
  useCgroup?: boolean;
  /** The job's marker, when it was made earlier (by a pilot that died). Default: a new one. */
  marker?: string;
  log?: Logger;
}

/** Outcome of {@link ProcessTreeKiller.kill}. */
export interface KillResult {
  /** Processes that received SIGTERM. */
  terminated: number[];
  /** Processes still alive after the grace period that received SIGKILL. */
  killed: number[];
  /** Processes still alive at the end, empty on success. */
  survivors: number[];
}

const POLL_MS = 100;

/**
 * Tracks the processes of one job and ends them all. A process belongs to the job when it is a
 * payload process given to {@link addProcess}, descends from one or shares its process group,
 * carries the job marker in its environment, or sits in the job's cgroup.
 */
export class ProcessTreeKiller {
  /** Random value of {@link JOB_MARKER_VARIABLE} for this job. */
  readonly marker: string;
  private readonly rootPids = new Set<number>();
  private readonly graceMs: number;
  private readonly killWaitMs: number;
  private readonly log: Logger;
  private cgroup: JobCgroup | undefined;
  private createdAfterTicks: number | undefined;

  constructor(private readonly options: ProcessTreeKillerOptions) {
    this.marker = options.marker ?? randomBytes(12).toString('hex');
    this.graceMs = options.graceMs ?? 10_000;
    this.killWaitMs = options.killWaitMs ?? 5000;
    this.log = options.log ?? silentLogger;
  }

  /** Environment entries every payload process of the job must get. */
  get environment(): Record<string, string> {
    return { [JOB_MARKER_VARIABLE]: this.marker };
  }

  /** Folder of the job's cgroup, or undefined when the marker scan is all there is. */
  get cgroupDir(): string | undefined {
    return this.cgroup?.dir;
  }

  /**
   * Creates the job's cgroup where the machine allows it, and records the start time that
   * limits the marker scan to processes younger than the job. Call before the first payload.
   */
  async prepare(): Promise<void> {
    this.createdAfterTicks ??= await readUptimeTicks();
    if (this.options.useCgroup === false || this.cgroup !== undefined) return;
    const name = `ctao-job-${this.options.jobId}-${this.marker.slice(0, 8)}`;
    this.cgroup = await JobCgroup.create(name, this.log);
  }

  /** Records a payload process and moves it into the job's cgroup. Never rejects. */
  async addProcess(pid: number): Promise<void> {
    this.rootPids.add(pid);
    await this.cgroup?.addProcess(pid);
  }

  /**
   * Lists the living processes of the job (zombies excluded: they hold no memory and cannot
   * be signalled). Never lists the pilot itself or its ancestors.
   */
  async listJobProcesses(): Promise<ProcessInfo[]> {
    const all = await readAllProcesses();
    const cgroupPids = (await this.cgroup?.listPids()) ?? [];
    const markedPids = await this.findMarkedPids(all);
    const roots = [...this.rootPids, ...cgroupPids, ...markedPids];

    const protectedPids = protectedProcessIds(all);
    return selectDescendants(all, roots).filter(
      (info) => info.state !== 'Z' && !protectedPids.has(info.pid),
    );
  }

  /** Returns the CPU seconds of the job's cgroup, exited processes included, if there is one. */
  async cgroupCpuSeconds(): Promise<number | undefined> {
    return this.cgroup?.cpuSeconds();
  }

  /**
   * Ends every process of the job: SIGTERM to all, then a grace period during which new
   * processes also get SIGTERM, then a new scan, `cgroup.kill` and SIGKILL to all that remain.
   * Resolves when none remain or `killWaitMs` after SIGKILL, with the survivors listed.
   * `graceMs` overrides the configured grace period; 0 sends SIGKILL at once.
   */
  async kill(graceMs = this.graceMs): Promise<KillResult> {
    const terminated = new Set<number>();
    const graceEnd = Date.now() + graceMs;
    let remaining = await this.listJobProcesses();
    while (remaining.length > 0 && Date.now() < graceEnd) {
      for (const info of remaining) {
        if (!terminated.has(info.pid) && signalProcess(info.pid, 'SIGTERM')) {
          terminated.add(info.pid);
        }
      }
      await sleep(Math.min(POLL_MS, Math.max(0, graceEnd - Date.now())));
      remaining = await this.listJobProcesses();
    }

    const killed: number[] = [];
    if (remaining.length > 0) {
      await this.cgroup?.killAll();
      for (const info of remaining) if (signalProcess(info.pid, 'SIGKILL')) killed.push(info.pid);
      remaining = await this.waitForExit();
    }

    const result = {
      terminated: [...terminated],
      killed,
      survivors: remaining.map((info) => info.pid),
    };
    const fields = countFields(result);
    if (result.survivors.length > 0) {
      this.log.error({ ...fields, survivorPids: result.survivors }, 'job processes survived kill');
    } else {
      this.log.info(fields, 'job processes ended');
    }
    return result;
  }

  /** Removes the job's cgroup folder. Call after {@link kill} or after the payload ended. */
  async dispose(): Promise<void> {
    await this.cgroup?.remove();
  }

  /** SIGKILLs whatever appears until none remain or `killWaitMs` passes. */
  private async waitForExit(): Promise<ProcessInfo[]> {
    const deadline = Date.now() + this.killWaitMs;
    let remaining = await this.listJobProcesses();
    while (remaining.length > 0 && Date.now() < deadline) {
      await sleep(POLL_MS);
      remaining = await this.listJobProcesses();
      for (const info of remaining) signalProcess(info.pid, 'SIGKILL');
    }
    return remaining;
  }

  private async findMarkedPids(all: readonly ProcessInfo[]): Promise<number[]> {
    const entry = `${JOB_MARKER_VARIABLE}=${this.marker}`;
    // Processes older than the job cannot carry its marker, so their environment is not read.
    const after = this.createdAfterTicks ?? 0;
    const candidates = all.filter((info) => info.startTicks >= after && info.state !== 'Z');
    const matches = await Promise.all(
      candidates.map(async (info) => ((await hasEnvironmentEntry(info.pid, entry)) ? info.pid : 0)),
    );
    return matches.filter((pid) => pid !== 0);
  }
}

/** Returns the pilot's own pid and those of its ancestors, which must never be signalled. */
function protectedProcessIds(all: readonly ProcessInfo[]): Set<number> {
  const byPid = new Map(all.map((info) => [info.pid, info]));
  const protectedPids = new Set<number>([0, 1]);
  let pid: number | undefined = process.pid;
  while (pid !== undefined && pid > 1 && !protectedPids.has(pid)) {
    protectedPids.add(pid);
    pid = byPid.get(pid)?.ppid;
  }
  return protectedPids;
}

function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    // The process exited since the scan.
    return false;
  }
}

/** Reads the time since boot in clock ticks, the unit of a process's start time in /proc. */
async function readUptimeTicks(): Promise<number | undefined> {
  const text = await readFile('/proc/uptime', 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // Uptime has a resolution of 10 ms, so one second of margin keeps the payload's first
  // processes inside the scan.
  return Math.max(0, Math.floor((Number(text.split(' ')[0]) - 1) * 100));
}

function countFields(result: KillResult): Record<string, number> {
  return {
    terminated: result.terminated.length,
    killed: result.killed.length,
    survivors: result.survivors.length,
  };
}
