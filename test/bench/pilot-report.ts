/**
 * Renders the pilot and packing sections of BENCHMARKS.md.
 */
import type { PackingBenchResult } from './packing-bench.js';
import type { PilotBenchResult } from './pilot-bench.js';

const MIB = 2 ** 20;

/** Returns the lines of the pilot sections: overhead, throughput, memory and bundle. */
export function renderPilotSections(result: PilotBenchResult): string[] {
  return [
    ...renderOverhead(result),
    ...renderThroughput(result),
    ...renderMemory(result),
    ...renderBundle(result),
  ];
}

function renderOverhead(result: PilotBenchResult): string[] {
  return [
    '## Pilot overhead per job',
    '',
    'One `ctao-pilot run` (the bundle) with `--cores 1` runs trivial jobs (a CWL tool running',
    '`true`) one at a time from the reference service on loopback. "Match to start" runs from',
    "the pilot's `job matched` log line, written as the match response arrives, to the CWL",
    "engine's `payload starting` line, written as it spawns the tool. It includes the input",
    'sandbox download and unpacking. "Exit to final" runs from the `payload finished` line to',
    'the `job finished` line, written once the service accepted the final status. It includes',
    'packing and uploading the output sandbox (the job logs). Both ends come from the log, so',
    'from one clock with millisecond resolution. The status records are not used because the',
    "pilot stamps them with its estimate of the service's clock, taken from the 1-second `Date`",
    'header.',
    '',
    '| Input sandbox | Jobs | Match to start, median ms | 90th pct ms | ' +
      'Exit to final, median ms | 90th pct ms |',
    '|---|---:|---:|---:|---:|---:|',
    ...result.overhead.map(
      (row) =>
        `| ${describeInput(row.inputFileBytes)} | ${row.jobs} | ` +
        `${row.matchToStartMs.median.toFixed(0)} | ${row.matchToStartMs.p90.toFixed(0)} | ` +
        `${row.exitToFinalMs.median.toFixed(0)} | ${row.exitToFinalMs.p90.toFixed(0)} |`,
    ),
    '',
  ];
}

function describeInput(bytes: number): string {
  if (bytes === 0) return 'none';
  return `one file of ${(bytes / 1e6).toFixed(1)} MB, random bytes`;
}

function renderThroughput(result: PilotBenchResult): string[] {
  const { throughput } = result;
  return [
    '## Pilot throughput',
    '',
    `One pilot with \`--cores ${throughput.cores}\` runs ${throughput.jobs} trivial jobs without`,
    'input sandbox, each on one core. The time runs from the first `job matched` log line to',
    'the last `job finished` line.',
    '',
    '| Jobs | Cores | Seconds | Jobs per second |',
    '|---:|---:|---:|---:|',
    `| ${throughput.jobs} | ${throughput.cores} | ${throughput.seconds.toFixed(2)} | ` +
      `${throughput.jobsPerSecond.toFixed(1)} |`,
    '',
  ];
}

function renderMemory(result: PilotBenchResult): string[] {
  const row = (label: string, summary: PilotBenchResult['memory']['idle']): string =>
    `| ${label} | ${summary.count} | ${(summary.median / MIB).toFixed(1)} | ` +
    `${(summary.max / MIB).toFixed(1)} |`;
  return [
    '## Pilot memory',
    '',
    'VmRSS of the pilot process alone (payloads excluded), read from /proc every 50 ms.',
    '"Idle" samples a pilot that asks for jobs from a service without any, from its `time',
    'budget` log line until it leaves. "Busy" samples the throughput run above between its',
    'first match and last final status.',
    '',
    '| State | Samples | Median MiB | Peak MiB |',
    '|---|---:|---:|---:|',
    row('Idle', result.memory.idle),
    row('Busy', result.memory.busy),
    '',
  ];
}

function renderBundle(result: PilotBenchResult): string[] {
  const { bundle } = result;
  return [
    '## Bundle',
    '',
    '`dist/ctao-pilot.cjs` as `npm run build` writes it. `--version` is timed from spawn to exit',
    'with the code cache warm, after one untimed run. The start-up section above times `exec`',
    'of a one-line tool.',
    '',
    '| Bytes | MiB | `--version` runs | Median ms | 90th pct ms |',
    '|---:|---:|---:|---:|---:|',
    `| ${bundle.bytes} | ${(bundle.bytes / MIB).toFixed(2)} | ${bundle.versionMs.count} | ` +
      `${bundle.versionMs.median.toFixed(0)} | ${bundle.versionMs.p90.toFixed(0)} |`,
    '',
  ];
}

/** Returns the lines of the packing and upload section. */
export function renderPackingSection(result: PackingBenchResult): string[] {
  const megabytes = result.inputBytes / 1e6;
  const uploadMegabytes = result.uploadBytes / 1e6;
  const uploadMedian = result.uploadSeconds.median;
  return [
    '## Output sandbox packing and upload',
    '',
    `${megabytes.toFixed(1)} MB in ${result.files} files, generated the same on every run`,
    '(test/bench/sandbox-corpus.ts): 60% text logs, 40% 16-bit traces with a flat baseline,',
    'noise and rare pulses. MB/s is input megabytes (10^6 bytes) per second of wall time,',
    'median of the runs, which are interleaved. Ratio is input bytes over archive bytes.',
    '',
    '| Packer | Runs | Median s | MB/s | Archive MB | Ratio |',
    '|---|---:|---:|---:|---:|---:|',
    ...result.packers.map(
      (row) =>
        `| ${row.label} | ${row.seconds.count} | ${row.seconds.median.toFixed(2)} | ` +
        `${(megabytes / row.seconds.median).toFixed(1)} | ` +
        `${(row.archiveBytes / 1e6).toFixed(2)} | ` +
        `${(result.inputBytes / row.archiveBytes).toFixed(2)} |`,
    ),
    '',
    ...result.skipped.map((item) => `${item.label} was not timed: ${item.reason}.`),
    ...(result.skipped.length > 0 ? [''] : []),
    `Upload of the default packSandbox archive (${uploadMegabytes.toFixed(2)} MB) with one`,
    '`WmsClient.uploadSandbox` call, which also requests the upload URL, to the reference',
    'service on loopback, a fresh service per run:',
    `median ${(uploadMedian * 1000).toFixed(0)} ms over ${result.uploadSeconds.count} runs, ` +
      `${(uploadMegabytes / uploadMedian).toFixed(0)} MB/s of archive.`,
    '',
  ];
}
