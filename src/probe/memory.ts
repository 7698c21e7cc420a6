import os from 'node:os';
import { cgroupMemoryLimit } from './cgroup.js';
import { positiveInteger, type Sourced } from './cpu.js';

const MIB = 1024 * 1024;

/**
 * Returns the memory the pilot may use, in MiB: the configured value, else the Slurm
 * allocation (SLURM_MEM_PER_NODE, or SLURM_MEM_PER_CPU times `cores`, both in Slurm's
 * MiB-based megabytes), else the cgroup memory limit, else the total memory of the node.
 * A cgroup limit above the total memory is no limit.
 */
export async function detectMemoryMb(
  configured: number | undefined,
  cores: number,
  env: NodeJS.ProcessEnv,
  fsRoot: string,
  totalBytes: number = os.totalmem(),
): Promise<Sourced<number>> {
  if (configured !== undefined) return { value: configured, source: 'configuration' };

  // --mem=0 requests all the memory of the node, so 0 is read as no value here.
  const perNode = positiveInteger(env.SLURM_MEM_PER_NODE);
  if (perNode !== undefined) return { value: perNode, source: 'SLURM_MEM_PER_NODE' };
  const perCpu = positiveInteger(env.SLURM_MEM_PER_CPU);
  if (perCpu !== undefined) return { value: perCpu * cores, source: 'SLURM_MEM_PER_CPU' };

  const limit = await cgroupMemoryLimit(fsRoot);
  if (limit !== undefined && limit < totalBytes) {
    return { value: Math.floor(limit / MIB), source: 'cgroup memory limit' };
  }
  return { value: Math.floor(totalBytes / MIB), source: 'total memory' };
}
