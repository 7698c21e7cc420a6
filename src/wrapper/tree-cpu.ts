import type { ProcessInfo } from '../sandbox/index.js';

interface SeenProcess {
  ppid: number;
  /** Own CPU plus CPU of waited-for children, in seconds. */
  seconds: number;
}

/**
 * Adds up the CPU time of a process tree across samples, keeping the time of processes that
 * exited. A process that exits while its parent is still in the tree is not kept, because the
 * parent's child CPU time takes it over once the parent waits for it.
 */
export class TreeCpuMeter {
  private seen = new Map<string, SeenProcess>();
  private exitedSeconds = 0;
  private total = 0;

  /** Records the living tree `processes` and returns the CPU seconds of the job so far. */
  update(processes: readonly ProcessInfo[]): number {
    const current = new Map<string, SeenProcess>();
    for (const info of processes) {
      const seconds = info.cpuSeconds + info.childCpuSeconds;
      current.set(`${info.pid}:${info.startTicks}`, { ppid: info.ppid, seconds });
    }

    const livingPids = new Set(processes.map((info) => info.pid));
    for (const [key, previous] of this.seen) {
      if (!current.has(key) && !livingPids.has(previous.ppid)) {
        this.exitedSeconds += previous.seconds;
      }
    }
    this.seen = current;

    let living = 0;
    for (const entry of current.values()) living += entry.seconds;
    // NOTE: CPU used between the last sample and an exit is lost, and so is the CPU of a
    // process that lived less than one sample interval unless a tree member waited for it.
    // Never report less than before, so limits and stall checks see a monotonic count.
    this.total = Math.max(this.total, this.exitedSeconds + living);
    return this.total;
  }
}
