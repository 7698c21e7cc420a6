/**
 * Helpers for end-to-end tests: run the bundled pilot against the reference central service
 * and read back what it uploaded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { unpackSandbox } from '../../src/archive/index.js';
import type { ReferenceService } from '../reference-service/index.js';

export const REPOSITORY_ROOT = resolve(import.meta.dirname, '../..');
export const BUNDLE = join(REPOSITORY_ROOT, 'dist', 'ctao-pilot.cjs');

/** Result of one pilot process. */
export interface PilotRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The pilot's log, one JSON object per line. */
  logLines: Record<string, unknown>[];
  stderr: string;
}

/** Options of {@link runPilot}. */
export interface PilotRunOptions {
  service: ReferenceService;
  /** Extra flags for `ctao-pilot run`. */
  args?: string[];
  /** Seconds without a match before the pilot leaves. Default 2. */
  idleTimeout?: number;
  /** Kills the pilot after this many milliseconds. Default 10 minutes. */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Work folder of an earlier pilot to start on; default a fresh one. */
  workDir?: string;
}

/** A pilot process started by {@link startPilot}. */
export interface StartedPilot {
  child: ChildProcess;
  /** The pilot's work folder. */
  workDir: string;
  /** Resolves when the pilot has exited. */
  done: Promise<PilotRun>;
}

/**
 * Runs `node dist/ctao-pilot.cjs run` from an empty folder (no node_modules), with a fresh
 * pilot secret registered at the service, until it leaves.
 */
export async function runPilot(options: PilotRunOptions): Promise<PilotRun> {
  return (await startPilot(options)).done;
}

/** Starts the bundled pilot as {@link runPilot} does, without waiting for it to leave. */
export async function startPilot(options: PilotRunOptions): Promise<StartedPilot> {
  const folder = await mkdtemp(join(tmpdir(), 'ctao-pilot-e2e-'));
  const secretFile = join(folder, 'pilot.secret');
  const secret = `secret-${Math.random().toString(36).slice(2)}`;
  options.service.addPilotSecret(null, secret);
  await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });
  const workDir = options.workDir ?? join(folder, 'work');
  await mkdir(workDir, { recursive: true });

  const args = [
    BUNDLE,
    'run',
    '--service-url',
    options.service.url,
    '--secret-file',
    secretFile,
    '--work-dir',
    workDir,
    '--idle-timeout',
    String(options.idleTimeout ?? 2),
    '--match-backoff-min',
    '1',
    '--min-free-disk-mb',
    '10',
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: folder,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: folder, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
  const done = new Promise<PilotRun>((resolve) =>
    child.on('exit', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, logLines: parseLogLines(stderr), stderr });
    }),
  );
  return { child, workDir, done };
}

function parseLogLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut by a crash is not JSON; the raw text is in `stderr`.
    }
  }
  return lines;
}

/** An output sandbox unpacked on disk, with its output object's locations made absolute. */
export interface UnpackedOutputs {
  dir: string;
  outputs: Record<string, unknown>;
  members: string[];
}

/** Fetches a job's output sandbox from the service and unpacks it into a fresh folder. */
export async function unpackOutputSandbox(
  service: ReferenceService,
  pfn: string,
): Promise<UnpackedOutputs> {
  const dir = await mkdtemp(join(tmpdir(), 'ctao-pilot-osb-'));
  const archive = join(dir, '.archive');
  await writeFile(archive, service.readSandbox(pfn));
  const target = join(dir, 'content');
  const { members } = await unpackSandbox({ archive, targetDir: target });
  const text = await readFile(join(target, 'outputs.json'), 'utf8');
  const outputs = absolutize(JSON.parse(text), target) as Record<string, unknown>;
  return { dir: target, outputs, members };
}

function absolutize(value: unknown, root: string): unknown {
  if (Array.isArray(value)) return value.map((item) => absolutize(item, root));
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = absolutize(item, root);
  const object = value as Record<string, unknown>;
  if (
    (object.class === 'File' || object.class === 'Directory') &&
    typeof object.location === 'string'
  ) {
    copy.location = `file://${join(root, object.location)}`;
    copy.path = join(root, object.location);
  }
  return copy;
}

/** Returns the ids of processes whose command line contains `text` (test runners excluded). */
export async function processesWith(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      if (cmdline.includes(text) && !cmdline.includes('vitest')) found.push(Number(name));
    } catch {
      // The process ended while the folder was read.
    }
  }
  return found;
}
