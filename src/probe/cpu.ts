import os from 'node:os';
import { cgroupCpuLimit } from './cgroup.js';
import { readSystemFile } from './external.js';

/** A probed value and where it came from, for logs and the `probe` command. */
export interface Sourced<T> {
  value: T;
  source: string;
}

/**
 * Flags of each x86-64 microarchitecture level, as /proc/cpuinfo spells them, from the
 * x86-64 psABI. Linux shows SSE3 as `pni` and LZCNT as `abm`. OSXSAVE is not listed, so
 * `xsave` is checked in its place.
 */
const X86_64_LEVEL_FLAGS: readonly (readonly string[])[] = [
  ['cmov', 'cx8', 'fpu', 'fxsr', 'mmx', 'syscall', 'sse', 'sse2'],
  ['cx16', 'lahf_lm', 'popcnt', 'pni', 'sse4_1', 'sse4_2', 'ssse3'],
  ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave'],
  ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'],
];

/**
 * Returns the x86-64 microarchitecture level (1 to 4) that a /proc/cpuinfo `flags` line
 * supports, or 0 when even the baseline is missing. Each level needs every lower one.
 */
export function microarchitectureLevel(flagsLine: string): number {
  const flags = new Set(
    flagsLine
      .replace(/^flags\s*:/, '')
      .trim()
      .split(/\s+/),
  );
  let level = 0;
  for (const required of X86_64_LEVEL_FLAGS) {
    if (!required.every((flag) => flags.has(flag))) break;
    level += 1;
  }
  return level;
}

/** Returns the machine architecture as `uname -m` prints it, such as x86_64 or aarch64. */
export function architectureName(): string {
  return os.machine();
}

/** Returns the first `flags` line of /proc/cpuinfo under `fsRoot`, or undefined. */
export async function readCpuFlags(fsRoot: string): Promise<string | undefined> {
  const cpuinfo = await readSystemFile(fsRoot, 'proc/cpuinfo');
  return cpuinfo?.split('\n').find((line) => /^flags\s*:/.test(line));
}

/** Parses a positive integer from an environment variable, or returns undefined. */
export function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const value = Number(text.trim());
  return value > 0 ? value : undefined;
}

/**
 * Returns the cores the pilot may use: the configured count, else the batch allocation
 * (SLURM_CPUS_ON_NODE), else the cgroup CPU quota rounded up, else the CPUs this process may
 * run on (os.availableParallelism, which follows the affinity mask).
 */
export async function detectCores(
  configured: number | undefined,
  env: NodeJS.ProcessEnv,
  fsRoot: string,
): Promise<Sourced<number>> {
  if (configured !== undefined) return { value: configured, source: 'configuration' };

  const slurmCores = positiveInteger(env.SLURM_CPUS_ON_NODE);
  if (slurmCores !== undefined) return { value: slurmCores, source: 'SLURM_CPUS_ON_NODE' };

  const available = os.availableParallelism();
  const quota = await cgroupCpuLimit(fsRoot);
  if (quota !== undefined && Math.ceil(quota) < available) {
    return { value: Math.max(1, Math.ceil(quota)), source: 'cgroup cpu quota' };
  }
  return { value: available, source: 'availableParallelism' };
}
