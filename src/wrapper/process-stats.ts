import { readFile, readdir } from 'node:fs/promises';

/** Resource use of a payload's whole process tree. */
export interface ProcessTreeUsage {
  /** Processes found in the tree. */
  processCount: number;
  /** User plus system CPU time of the living processes, in seconds. */
  cpuSeconds: number;
  /** Resident memory, in MB. */
  rssMb: number;
  /** Virtual memory size, in MB. */
  vsizeMb: number;
}

interface ProcStat {
  pid: number;
  ppid: number;
  pgid: number;
  cpuTicks: number;
  rssPages: number;
  vsizeBytes: number;
}

// Linux reports CPU times in clock ticks; USER_HZ is 100 on every mainstream architecture.
const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

/**
 * Sums the resource use of every process that descends from one of `rootPids` or shares
 * their process group, read from /proc. Processes that exit during the read are skipped.
 * Returns zeros where /proc is missing (non-Linux systems).
 */
export async function measureProcessTree(rootPids: readonly number[]): Promise<ProcessTreeUsage> {
  const stats = await readAllStats();
  const members = selectTree(stats, rootPids);

  let cpuTicks = 0;
  let rssPages = 0;
  let vsizeBytes = 0;
  for (const stat of members) {
    cpuTicks += stat.cpuTicks;
    rssPages += stat.rssPages;
    vsizeBytes += stat.vsizeBytes;
  }
  return {
    processCount: members.length,
    cpuSeconds: cpuTicks / CLOCK_TICKS_PER_SECOND,
    rssMb: (rssPages * PAGE_BYTES) / 1e6,
    vsizeMb: vsizeBytes / 1e6,
  };
}

/** Returns the ids of every process in the tree of `rootPids` (see {@link measureProcessTree}). */
export async function listProcessTree(rootPids: readonly number[]): Promise<number[]> {
  return selectTree(await readAllStats(), rootPids).map((stat) => stat.pid);
}

function selectTree(stats: ProcStat[], rootPids: readonly number[]): ProcStat[] {
  const roots = new Set(rootPids);
  const childrenOf = new Map<number, ProcStat[]>();
  for (const stat of stats) {
    const siblings = childrenOf.get(stat.ppid) ?? [];
    siblings.push(stat);
    childrenOf.set(stat.ppid, siblings);
  }

  const selected = new Map<number, ProcStat>();
  const queue = stats.filter((stat) => roots.has(stat.pid) || roots.has(stat.pgid));
  while (queue.length > 0) {
    const stat = queue.pop() as ProcStat;
    if (selected.has(stat.pid)) continue;
    selected.set(stat.pid, stat);
    queue.push(...(childrenOf.get(stat.pid) ?? []));
  }
  return [...selected.values()];
}

async function readAllStats(): Promise<ProcStat[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const pids = entries.filter((name) => /^\d+$/.test(name));
  const stats = await Promise.all(pids.map((pid) => readStat(pid)));
  return stats.filter((stat): stat is ProcStat => stat !== undefined);
}

async function readStat(pid: string): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name sits in parentheses and may itself contain spaces and parentheses,
  // so fields are counted from the last closing parenthesis.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (index: number): number => Number(fields[index - 3]);
  return {
    pid: Number(pid),
    ppid: field(4),
    pgid: field(5),
    cpuTicks: field(14) + field(15),
    vsizeBytes: field(23),
    rssPages: field(24),
  };
}
