/**
 * Access to commands on PATH and to files under /proc, /sys and /etc. Commands run with a
 * timeout. Files are read without one, because they live on kernel or root file systems.
 */
import { spawn } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** Output of a finished command. */
export interface CommandOutput {
  stdout: string;
  exitCode: number;
}

/** Returns the absolute path of `name` in the PATH of `env`, or undefined. */
export async function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  for (const folder of (env.PATH ?? '').split(delimiter)) {
    if (folder === '') continue;
    const candidate = join(folder, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder, so try the next one.
    }
  }
  return undefined;
}

/**
 * Runs `command` and returns its output, or throws when it cannot start or runs past
 * `timeoutMs`. On timeout the child gets SIGKILL and is not waited for, because a process
 * stuck in the kernel on a hung file system (CVMFS, NFS) cannot die until the call returns.
 */
export function runCommand(
  command: string,
  args: string[],
  options: { timeoutMs: number; env: NodeJS.ProcessEnv },
): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      // Probe commands print a few lines, so output past 1 MB is dropped.
      if (stdout.length < 1_000_000) stdout += text;
    });

    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      child.unref();
      child.stdout.destroy();
      reject(new Error(`${command} timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs);

    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ stdout, exitCode: exitCode ?? -1 });
    });
  });
}

/** Reads the text file at `path` under `fsRoot`, or returns undefined when it cannot. */
export async function readSystemFile(fsRoot: string, path: string): Promise<string | undefined> {
  try {
    return await readFile(join(fsRoot, path), 'utf8');
  } catch {
    return undefined;
  }
}
