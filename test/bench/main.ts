/**
 * Entry point of `npm run bench`: times ctao-pilot exec and cwltool and writes BENCHMARKS.md.
 * See USAGE in options.ts for the options.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultRunner } from '../conformance/options.js';
import { readMachineFacts } from './machine.js';
import { parseBenchArgs, USAGE, type BenchOptions } from './options.js';
import { renderReport, type BenchResults } from './report.js';
import { runPilotSections } from './pilot-sections.js';
import { benchScatter } from './scatter-bench.js';
import { mergePage, type SectionName } from './sections.js';
import { benchStartup, startupCases } from './startup-bench.js';
import { benchSuite, type Runner } from './suite-bench.js';

const REPO_ROOT = path.resolve(fileURLToPath(import.meta.url), '../../..');

/** Exit code for invalid options, as opposed to a benchmark that failed while running. */
const USAGE_EXIT_CODE = 2;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function runBench(options: BenchOptions): Promise<void> {
  const machine = readMachineFacts();
  const pilot: Runner = { name: 'ctao-pilot exec', command: defaultRunner(REPO_ROOT) };
  if (!existsSync(pilot.command[1]!)) {
    throw new Error(`${pilot.command[1]} not found. Run "npm run build" first.`);
  }
  const cwltool = findCwltool(options);
  const others = cwltool.runner === undefined ? [] : [cwltool.runner];

  const runs = (name: SectionName): boolean => options.sections.has(name);
  if (runs('startup')) print('Start-up case');
  const startup = !runs('startup')
    ? []
    : benchStartup(startupCases(pilot, others, options.startupRuns));

  if (runs('suite')) print('Conformance suite');
  const suiteStarted = performance.now();
  const suite = !runs('suite')
    ? []
    : await benchSuite([pilot, ...others], {
        suiteDir: options.suiteDir,
        ids: options.ids,
        jobs: options.jobs,
        timeoutSeconds: options.timeoutSeconds,
        onResult: (runner, result, done, total) =>
          print(
            `[${done}/${total}] ${runner.name}: ${result.status} ${result.id} ${result.seconds} s`,
          ),
      });
  const suiteWallSeconds = (performance.now() - suiteStarted) / 1000;

  if (runs('scatter')) print(`Scatter case, ${options.scatterJobs} jobs`);
  const scatter = [];
  for (const runner of runs('scatter') ? [pilot, ...others] : []) {
    scatter.push(await benchScatter(runner, options.scatterJobs));
  }

  const results: BenchResults = {
    machine,
    jobs: options.jobs,
    suiteDir: path.relative(REPO_ROOT, options.suiteDir),
    startup,
    suite,
    suiteWallSeconds,
    scatter,
  };
  if (options.ids !== undefined) results.ids = options.ids;
  if (cwltool.note !== undefined) results.cwltoolNote = cwltool.note;
  const pilotSections = await runPilotSections(options.sections, print);
  const fresh = [renderReport(results), ...pilotSections].join('\n');
  const previous = existsSync(options.outFile) ? readFileSync(options.outFile, 'utf8') : undefined;
  writeFileSync(options.outFile, mergePage(fresh, previous, options.sections, machine));
  print(`Wrote ${options.outFile}`);
}

/** Returns cwltool as a runner when it is wanted and on PATH, or a note with the reason it is not. */
function findCwltool(options: BenchOptions): { runner?: Runner; note?: string } {
  if (options.skipCwltool) {
    return { note: 'cwltool was not timed (`--skip-cwltool`).' };
  }
  const probe = spawnSync('cwltool', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return { note: 'cwltool was not timed: `cwltool --version` failed or it is not on PATH.' };
  }
  const version = probe.stdout.trim().split(/\s+/).pop() ?? '';
  return {
    runner: { name: `cwltool ${version} --no-container`, command: ['cwltool', '--no-container'] },
  };
}

let options: BenchOptions | undefined;
try {
  options = parseBenchArgs(process.argv.slice(2), REPO_ROOT);
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}\n`);
  process.exitCode = USAGE_EXIT_CODE;
}
if (options?.help === true) {
  print(USAGE);
} else if (options !== undefined) {
  try {
    await runBench(options);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
