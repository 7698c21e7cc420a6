import { findOnPath, runCommand } from './external.js';

/** Container runtimes reported as tags when their command is on PATH. */
const CONTAINER_RUNTIMES = ['apptainer', 'singularity', 'bwrap'];

/** CVMFS repository names are DNS-like: at least one dot, no spaces, no leading dot. */
const REPOSITORY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$/;

/** Returns the tags of the container runtimes found on PATH. */
export async function containerRuntimeTags(env: NodeJS.ProcessEnv): Promise<string[]> {
  const tags: string[] = [];
  for (const runtime of CONTAINER_RUNTIMES) {
    if ((await findOnPath(runtime, env)) !== undefined) tags.push(runtime);
  }
  return tags;
}

/**
 * Returns `cvmfs:<repository>` for each repository listed under `cvmfsRoot`. The folder is
 * listed by `ls` in a child process, killed after `timeoutMs`: a stuck CVMFS mount blocks
 * every system call that touches it, and a blocked child cannot tie up Node's thread pool.
 * Throws when `ls` fails or times out.
 */
export async function cvmfsTags(
  cvmfsRoot: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const ls = (await findOnPath('ls', env)) ?? 'ls';
  const output = await runCommand(ls, ['-1A', '--', cvmfsRoot], { timeoutMs, env });
  // `ls` exits with 2 for a missing folder: a node without CVMFS.
  if (output.exitCode !== 0) return [];
  return output.stdout
    .split('\n')
    .filter((name) => REPOSITORY_NAME.test(name))
    .sort()
    .map((name) => `cvmfs:${name}`);
}

/**
 * Returns the number of NVIDIA GPUs that `nvidia-smi -L` lists, or 0 without the command.
 * Throws when the command fails or times out.
 */
export async function nvidiaGpuCount(timeoutMs: number, env: NodeJS.ProcessEnv): Promise<number> {
  const command = await findOnPath('nvidia-smi', env);
  if (command === undefined) return 0;
  const output = await runCommand(command, ['-L'], { timeoutMs, env });
  if (output.exitCode !== 0) {
    throw new Error(`nvidia-smi -L failed with exit status ${output.exitCode}`);
  }
  return output.stdout.split('\n').filter((line) => /^GPU \d+:/.test(line)).length;
}
