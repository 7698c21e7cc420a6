/**
 * Facts about the machine a benchmark ran on, for the header of BENCHMARKS.md.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';

export interface MachineFacts {
  /** Start of the benchmark, ISO 8601 in UTC. */
  date: string;
  nodeVersion: string;
  cpuModel: string;
  /** Processors listed in /proc/cpuinfo. */
  cpuCount: number;
  /** Processors this process may use, which a container or affinity mask can lower. */
  usableCpus: number;
  memoryBytes: number;
  /** One-minute load average when the benchmark started. */
  loadAverage: number;
}

/** Reads the CPU model and count from /proc/cpuinfo and the rest from Node's `os` module. */
export function readMachineFacts(cpuinfo = '/proc/cpuinfo'): MachineFacts {
  let text = '';
  try {
    text = readFileSync(cpuinfo, 'utf8');
  } catch {
    // Not Linux: the model stays unknown and the count falls back to Node's.
  }
  const models = [...text.matchAll(/^model name\s*:\s*(.+)$/gm)].map((match) => match[1]!.trim());
  const processors = [...text.matchAll(/^processor\s*:/gm)].length;

  return {
    date: new Date().toISOString(),
    nodeVersion: process.version,
    cpuModel: models[0] ?? 'unknown',
    cpuCount: processors > 0 ? processors : availableParallelism(),
    usableCpus: availableParallelism(),
    memoryBytes: totalmem(),
    loadAverage: loadavg()[0] ?? 0,
  };
}
