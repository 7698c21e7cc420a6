/**
 * Renders benchmark results as the Markdown page BENCHMARKS.md.
 */
import type { MachineFacts } from './machine.js';
import type { ScatterResult } from './scatter-bench.js';
import type { StartupResult } from './startup-bench.js';
import type { RunnerSummary } from './suite-bench.js';

export interface BenchResults {
  machine: MachineFacts;
  jobs: number;
  suiteDir: string;
  /** Test ids given with --ids, absent when the whole suite ran. */
  ids?: string[];
  startup: StartupResult[];
  suite: RunnerSummary[];
  suiteWallSeconds: number;
  scatter: ScatterResult[];
  /** Why cwltool is missing from the tables, when it is. */
  cwltoolNote?: string;
}

/** Returns the whole page. */
export function renderReport(results: BenchResults): string {
  return [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${results.machine.date}. The command overwrites this page;`,
    'run it again to refresh the figures. `npm run bench -- --help` lists its options.',
    '',
    ...renderMachine(results.machine),
    ...(results.cwltoolNote === undefined ? [] : [results.cwltoolNote, '']),
    ...renderStartup(results.startup),
    ...renderSuite(results),
    ...renderScatter(results.scatter),
  ].join('\n');
}

function renderMachine(machine: MachineFacts): string[] {
  const gib = (machine.memoryBytes / 2 ** 30).toFixed(1);
  return [
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| Node | ${machine.nodeVersion} |`,
    `| CPU | ${machine.cpuModel}, ${machine.cpuCount} processors (${machine.usableCpus} usable) |`,
    `| Memory | ${gib} GiB |`,
    `| Load average (1 min) at start | ${machine.loadAverage.toFixed(2)} |`,
    '',
  ];
}

function renderStartup(startup: StartupResult[]): string[] {
  return [
    '## Start-up',
    '',
    'Wall time of one run of `test/bench/fixtures/echo-number.cwl` (`echo 7` to a file), from',
    'spawn to exit, runs interleaved. "Code cache off" sets `CTAO_PILOT_NO_CODE_CACHE=1`, so the',
    'bundle is compiled from source as on the first start after an install or upgrade.',
    ...(startup.some((row) => row.label.includes('NODE_EXTRA_CA_CERTS'))
      ? [
          'The environment of this run set `NODE_EXTRA_CA_CERTS`, whose file Node.js 20 parses at',
          'every start, TLS or not; the rows marked "unset" show its share. Every other figure on',
          'this page was measured with the environment as it was.',
        ]
      : []),
    '',
    '| Command | Runs | Median ms | Min ms | 90th pct ms |',
    '|---|---:|---:|---:|---:|',
    ...startup.map(
      (row) =>
        `| ${row.label} | ${row.milliseconds.count} | ${row.milliseconds.median.toFixed(0)} | ` +
        `${row.milliseconds.min.toFixed(0)} | ${row.milliseconds.p90.toFixed(0)} |`,
    ),
    '',
  ];
}

function renderSuite(results: BenchResults): string[] {
  const { suite } = results;
  const selection = results.ids === undefined ? 'All tests' : `The tests ${results.ids.join(', ')}`;
  const lines = [
    '## CWL v1.2 conformance suite',
    '',
    `${selection} of the suite in \`${results.suiteDir}\`, scored like \`npm run conformance\`.`,
    `Each of ${results.jobs} worker(s) takes the next test and runs it through every runner in`,
    'turn. Seconds are wall time per test, process start included.',
    `Wall time of the whole section: ${results.suiteWallSeconds.toFixed(0)} s.`,
    '',
    '| Runner | Tests | Passed | Failed | Unsupported | Median s | 90th pct s | Total s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...suite.map(
      (row) =>
        `| \`${row.runner.name}\` | ${row.tests} | ${row.passed} | ${row.failed} | ` +
        `${row.unsupported} | ${row.seconds.median.toFixed(3)} | ${row.seconds.p90.toFixed(3)} | ` +
        `${row.totalSeconds.toFixed(0)} |`,
    ),
    '',
  ];
  if (suite.length >= 2) {
    const [pilot, reference] = suite as [RunnerSummary, RunnerSummary];
    const ratio = reference.seconds.median / pilot.seconds.median;
    lines.push(
      `Ratio of medians, \`${reference.runner.name}\` / \`${pilot.runner.name}\`: ` +
        `${ratio.toFixed(1)}.`,
      '',
    );
  }
  return lines;
}

function renderScatter(scatter: ScatterResult[]): string[] {
  const jobs = scatter[0]?.jobs ?? 0;
  return [
    `## Scatter over ${jobs.toLocaleString('en-US')} jobs`,
    '',
    '`test/bench/fixtures/scatter-echo.cwl` runs `echo-number.cwl` once per input number. An',
    'output is correct when file number n is named `n.txt` and holds n and a newline. Peak',
    'memory is the largest sum of VmRSS over the runner and all its descendants, sampled from',
    '/proc every 50 ms, so it is a lower bound.',
    '',
    '| Runner | Result | Correct outputs | Wall s | Peak RSS MiB |',
    '|---|---|---:|---:|---:|',
    ...scatter.map(
      (row) =>
        `| \`${row.runner.name}\` | ${describeScatter(row)} | ${row.correctOutputs} | ` +
        `${row.seconds.toFixed(1)} | ${(row.peakRssBytes / 2 ** 20).toFixed(0)} |`,
    ),
    '',
  ];
}

function describeScatter(row: ScatterResult): string {
  if (row.reason === undefined) return row.status;
  return `${row.status}: ${row.reason.replaceAll('|', '\\|')}`;
}
