import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { JOB_MARKER_VARIABLE } from '../../src/sandbox/index.js';

/** A payload started like the CWL engine starts one: own process group, marker in its env. */
export interface StartedPayload {
  child: ChildProcess;
  pid: number;
}

/**
 * Starts `sh -c script` in `cwd`, detached, with `environment` added to a minimal environment, and waits
 * until its standard output contains `readyText`.
 */
export async function startPayload(
  script: string,
  environment: Record<string, string>,
  readyText = 'started',
  cwd?: string,
): Promise<StartedPayload> {
  const child = spawn('sh', ['-c', script], {
    cwd,
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...environment },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 5000;
  while (!output.includes(readyText)) {
    if (Date.now() > deadline) throw new Error(`payload printed no ${readyText}: ${script}`);
    await sleep(20);
  }
  return { child, pid: child.pid as number };
}

/**
 * Lists the living processes whose environment has the marker `marker`, read straight from
 * /proc so the check does not depend on the code under test.
 */
export async function findMarkedProcesses(marker: string): Promise<number[]> {
  const entry = Buffer.from(`${JOB_MARKER_VARIABLE}=${marker}\0`);
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const environ = await readFile(`/proc/${name}/environ`);
      if (environ.includes(entry)) found.push(Number(name));
    } catch {
      // The process exited during the scan.
    }
  }
  return found;
}

/** Waits until `count` processes carry the marker, so a payload's background children exist. */
export async function waitForMarkedProcesses(marker: string, count: number): Promise<number[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const pids = await findMarkedProcesses(marker);
    if (pids.length >= count) return pids;
    if (Date.now() > deadline) throw new Error(`expected ${count} marked processes, saw ${pids}`);
    await sleep(20);
  }
}

/** Sends SIGKILL to each pid, ignoring those already gone. Used to clean up after a failure. */
export function killQuietly(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Tells whether `pid` exists and is not a zombie. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
