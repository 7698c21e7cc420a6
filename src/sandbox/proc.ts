/**
 * Reads process facts from Linux's /proc file system. Every reader skips processes that exit
 * while it runs, and returns nothing where /proc is missing.
 */
import { readFile, readdir } from 'node:fs/promises';

/** One process as /proc/<pid>/stat shows it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** Session id. */
  sid: number;
  /** State letter: R running, S sleeping, Z zombie, and so on. */
  state: string;
  /** Start time in clock ticks after boot. With `pid`, it identifies one process even after pid reuse. */
  startTicks: number;
  /** User plus system CPU time of the process itself, in seconds. */
  cpuSeconds: number;
  /** User plus system CPU time of its children that exited and were waited for, in seconds. */
  childCpuSeconds: number;
  /** Resident memory in bytes. */
  rssBytes: number;
  /** Virtual memory size in bytes. */
  vsizeBytes: number;
}

/** I/O counters of /proc/<pid>/io. */
export interface ProcessIo {
  /** Bytes passed to read-like system calls, from any file, pipe or socket. */
  rchar: number;
  /** Bytes passed to write-like system calls. */
  wchar: number;
  /** Bytes fetched from block storage. */
  readBytes: number;
  /** Bytes sent to block storage. */
  writeBytes: number;
}

// Linux reports CPU times in clock ticks. USER_HZ is 100 on every mainstream architecture.
const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

/** Lists the ids of every process that /proc shows. */
export async function listPids(): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  return entries.filter((name) => /^\d+$/.test(name)).map(Number);
}

/** Reads /proc/<pid>/stat of every process on the machine. */
export async function readAllProcesses(): Promise<ProcessInfo[]> {
  const infos = await Promise.all((await listPids()).map((pid) => readProcess(pid)));
  return infos.filter((info): info is ProcessInfo => info !== undefined);
}

/** Reads /proc/<pid>/stat of one process, or returns undefined when it no longer exists. */
export async function readProcess(pid: number): Promise<ProcessInfo | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name sits in parentheses and may itself contain spaces and parentheses,
  // so fields are counted from the last closing parenthesis. Field numbers follow proc(5).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (index: number): number => Number(fields[index - 3]);
  return {
    pid,
    state: fields[0] ?? '?',
    ppid: field(4),
    pgid: field(5),
    sid: field(6),
    cpuSeconds: (field(14) + field(15)) / CLOCK_TICKS_PER_SECOND,
    childCpuSeconds: (field(16) + field(17)) / CLOCK_TICKS_PER_SECOND,
    startTicks: field(22),
    vsizeBytes: field(23),
    rssBytes: field(24) * PAGE_BYTES,
  };
}

/**
 * Tells whether the environment of `pid` contains the exact entry `entry` (`NAME=value`).
 * Returns false when the environment cannot be read: another user's process, or a zombie.
 */
export async function hasEnvironmentEntry(pid: number, entry: string): Promise<boolean> {
  let environ: Buffer;
  try {
    environ = await readFile(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  // Entries are separated by NUL bytes, so matching with NULs around avoids prefix matches.
  const wrapped = Buffer.concat([Buffer.from([0]), environ, Buffer.from([0])]);
  return wrapped.includes(Buffer.from(`\0${entry}\0`));
}

/** Reads /proc/<pid>/io, or returns undefined when the process is gone or belongs to another user. */
export async function readProcessIo(pid: number): Promise<ProcessIo | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/io`, 'utf8');
  } catch {
    return undefined;
  }
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, value] = line.split(':');
    if (name && value) values.set(name.trim(), Number(value.trim()));
  }
  return {
    rchar: values.get('rchar') ?? 0,
    wchar: values.get('wchar') ?? 0,
    readBytes: values.get('read_bytes') ?? 0,
    writeBytes: values.get('write_bytes') ?? 0,
  };
}

/**
 * Selects every process that is one of `rootPids`, belongs to their process groups, or
 * descends from any process selected so far.
 */
export function selectDescendants(
  processes: readonly ProcessInfo[],
  rootPids: Iterable<number>,
): ProcessInfo[] {
  const roots = new Set(rootPids);
  const childrenOf = new Map<number, ProcessInfo[]>();
  for (const info of processes) {
    const siblings = childrenOf.get(info.ppid) ?? [];
    siblings.push(info);
    childrenOf.set(info.ppid, siblings);
  }

  const selected = new Map<number, ProcessInfo>();
  const queue = processes.filter((info) => roots.has(info.pid) || roots.has(info.pgid));
  while (queue.length > 0) {
    const info = queue.pop() as ProcessInfo;
    if (selected.has(info.pid)) continue;
    selected.set(info.pid, info);
    queue.push(...(childrenOf.get(info.pid) ?? []));
  }
  return [...selected.values()];
}
