/**
 * Runs one command and measures its wall time and the peak resident memory of its whole process
 * tree, sampled from /proc.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Time between two memory samples, in milliseconds. */
const SAMPLE_INTERVAL_MS = 50;

/** Bytes of standard error kept for the report. */
const STDERR_TAIL_BYTES = 2_048;

/** How a measured command ended. */
export interface MeasuredRun {
  /** Exit code, or null when a signal ended the command. */
  exitCode: number | null;
  stdout: string;
  stderrTail: string;
  /** Wall-clock time from spawn until the output streams closed, in seconds. */
  seconds: number;
  /** Largest sum of VmRSS over the tree seen by one sample, in bytes. */
  peakRssBytes: number;
  /** Samples taken. */
  samples: number;
}

/**
 * Runs `command` in `cwd` and samples the resident memory of the process and all its
 * descendants every 50 ms. A process that starts and ends between two samples is missed, so the
 * peak is a lower bound.
 */
export function measureCommand(
  command: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MeasuredRun> {
  const [program, ...args] = command as [string, ...string[]];
  const started = performance.now();
  const child = spawn(program, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });

  const stdout: Buffer[] = [];
  let stderrTail = Buffer.alloc(0);
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail = Buffer.concat([stderrTail, chunk]).subarray(-STDERR_TAIL_BYTES);
  });

  let peakRssBytes = 0;
  let samples = 0;
  const sample = (): void => {
    if (child.pid === undefined) return;
    peakRssBytes = Math.max(peakRssBytes, treeRssBytes(child.pid));
    samples += 1;
  };
  sample();
  const timer = setInterval(sample, SAMPLE_INTERVAL_MS);

  return new Promise((resolve, reject) => {
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on('close', (exitCode) => {
      clearInterval(timer);
      resolve({
        exitCode,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderrTail: stderrTail.toString('utf8'),
        seconds: (performance.now() - started) / 1000,
        peakRssBytes,
        samples,
      });
    });
  });
}

/** Sums VmRSS of `root` and its descendants. Processes that end while being read count as 0. */
export function treeRssBytes(root: number): number {
  let total = 0;
  for (const pid of descendantsOf(root)) {
    total += rssBytes(pid);
  }
  return total;
}

/** Returns `root` and every process below it, found through each process's parent id. */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    const siblings = children.get(parent) ?? [];
    siblings.push(pid);
    children.set(parent, siblings);
  }

  const found = [root];
  for (let index = 0; index < found.length; index += 1) {
    found.push(...(children.get(found[index] as number) ?? []));
  }
  return found;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name in brackets may contain spaces, so fields are counted after its end.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}
