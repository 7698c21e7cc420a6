/**
 * The start-up case: wall time of `exec` on a one-line echo tool, with and without the code
 * cache, next to bare `node -e 0` and, when present, cwltool.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize, type Summary } from './stats.js';
import type { Runner } from './suite-bench.js';

const TOOL = fileURLToPath(new URL('./fixtures/echo-number.cwl', import.meta.url));

/** Environment variable that turns the bundle's code cache off (see build/code-cache.ts). */
const NO_CODE_CACHE = 'CTAO_PILOT_NO_CODE_CACHE';

/** One timed command of the start-up case. */
export interface StartupCase {
  label: string;
  command: string[];
  env?: NodeJS.ProcessEnv;
  runs: number;
  /** True when `command` is a CWL runner, which gets the echo tool and its job appended. */
  isRunner: boolean;
}

export interface StartupResult {
  label: string;
  /** Wall time per run, in milliseconds. */
  milliseconds: Summary;
}

/**
 * Lists the start-up cases: `node -e 0`, exec without and with the code cache, and each other
 * runner with a fifth of the runs, because cwltool takes about a second per run.
 */
export function startupCases(pilot: Runner, others: Runner[], runs: number): StartupCase[] {
  const withoutCache = { ...process.env, [NO_CODE_CACHE]: '1' };
  const withCache = { ...process.env };
  delete withCache[NO_CODE_CACHE];
  return [
    {
      label: '`node -e 0` (no CWL work)',
      command: [process.execPath, '-e', '0'],
      runs,
      isRunner: false,
    },
    {
      label: `${pilot.name}, code cache off`,
      command: pilot.command,
      env: withoutCache,
      runs,
      isRunner: true,
    },
    {
      label: `${pilot.name}, code cache warm`,
      command: pilot.command,
      env: withCache,
      runs,
      isRunner: true,
    },
    ...others.map((runner) => ({
      label: runner.name,
      command: runner.command,
      runs: Math.max(1, Math.ceil(runs / 5)),
      isRunner: true,
    })),
    ...withoutExtraCaCerts(pilot, withCache, runs),
  ];
}

/**
 * Node.js 20 reads the file that `NODE_EXTRA_CA_CERTS` names at every start, TLS or not. When
 * the variable is set, two more cases show its share of the start-up time.
 */
function withoutExtraCaCerts(
  pilot: Runner,
  withCache: NodeJS.ProcessEnv,
  runs: number,
): StartupCase[] {
  if (process.env.NODE_EXTRA_CA_CERTS === undefined) return [];
  const env = { ...withCache };
  delete env.NODE_EXTRA_CA_CERTS;
  return [
    {
      label: '`node -e 0`, `NODE_EXTRA_CA_CERTS` unset',
      command: [process.execPath, '-e', '0'],
      env,
      runs,
      isRunner: false,
    },
    {
      label: `${pilot.name}, code cache warm, \`NODE_EXTRA_CA_CERTS\` unset`,
      command: pilot.command,
      env,
      runs,
      isRunner: true,
    },
  ];
}

/**
 * Times every case. Runs are interleaved, one run of each case per round, so that a change in
 * machine load during the measurement affects all cases alike. One untimed round comes first;
 * it also fills the code cache. Throws when a CWL run fails, because its time would mean nothing.
 */
export function benchStartup(cases: StartupCase[]): StartupResult[] {
  const workDir = mkdtempSync(path.join(tmpdir(), 'ctao-bench-startup-'));
  writeFileSync(path.join(workDir, 'job.json'), JSON.stringify({ number: 7 }));
  try {
    const times = cases.map(() => [] as number[]);
    const rounds = Math.max(...cases.map((item) => item.runs));
    for (let round = -1; round < rounds; round += 1) {
      cases.forEach((item, index) => {
        if (round >= item.runs) return;
        const milliseconds = timeOnce(item, workDir);
        if (round >= 0) times[index]!.push(milliseconds);
      });
    }
    return cases.map((item, index) => ({
      label: item.label,
      milliseconds: summarize(times[index]!),
    }));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function timeOnce(item: StartupCase, workDir: string): number {
  const args = item.command.slice(1);
  if (item.isRunner) {
    args.push(`--outdir=${path.join(workDir, 'out')}`, '--quiet', TOOL, 'job.json');
  }

  const started = performance.now();
  const result = spawnSync(item.command[0]!, args, { cwd: workDir, env: item.env, stdio: 'pipe' });
  const milliseconds = performance.now() - started;
  if (result.status !== 0) {
    const stderr = result.stderr?.toString('utf8').trim().split('\n').pop() ?? '';
    throw new Error(`${item.label} exited with ${result.status}: ${stderr}`);
  }
  return milliseconds;
}
