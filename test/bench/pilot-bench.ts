/**
 * The pilot's own figures against the reference central service on loopback: overhead per job,
 * throughput of trivial jobs, resident memory idle and busy, and the bundle's size and start-up.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BUNDLE, startPilot, type PilotRun } from '../e2e/pilot-harness.js';
import { startReferenceService, type ReferenceService } from '../reference-service/index.js';
import { readJobTimelines, type JobTimeline } from './pilot-log.js';
import { summarize, type Summary } from './stats.js';

/** A CWL tool that runs `true`: no inputs, no outputs, next to no work. */
const TRIVIAL_TOOL =
  'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: "true"\ninputs: []\noutputs: []\n';

/** Time between two VmRSS samples of the pilot process, in milliseconds. */
const RSS_SAMPLE_INTERVAL_MS = 50;

/** Sizes of the pilot section's runs. */
export interface PilotBenchOptions {
  /** Jobs per overhead case, run one at a time. */
  overheadJobs: number;
  /** Size of the one file in the input sandbox of the second overhead case, in bytes. */
  inputFileBytes: number;
  /** Jobs in the throughput run. */
  throughputJobs: number;
  /** Value of the pilot's `--cores` in the throughput run. Each job takes one core. */
  throughputCores: number;
  /** Seconds the pilot stays without a job while its idle memory is sampled. */
  idleSeconds: number;
  /** Timed runs of `--version`. */
  versionRuns: number;
}

/** Overhead of the pilot around trivial payloads, in milliseconds per job. */
export interface OverheadResult {
  /** Bytes of the one input sandbox file, or 0 for a job without an input sandbox. */
  inputFileBytes: number;
  jobs: number;
  /** From the match response to the spawn of the payload. */
  matchToStartMs: Summary;
  /** From the exit of the payload to the service's acceptance of the final status. */
  exitToFinalMs: Summary;
}

/** Trivial jobs on every slot of the pilot. */
export interface ThroughputResult {
  jobs: number;
  cores: number;
  /** From the first match response to the last final status. */
  seconds: number;
  jobsPerSecond: number;
}

/** Resident memory (VmRSS) of the pilot process alone, in bytes. */
export interface MemoryResult {
  idle: Summary;
  busy: Summary;
}

/** Size of dist/ctao-pilot.cjs and the time of `node dist/ctao-pilot.cjs --version`. */
export interface BundleResult {
  bytes: number;
  versionMs: Summary;
}

export interface PilotBenchResult {
  overhead: OverheadResult[];
  throughput: ThroughputResult;
  memory: MemoryResult;
  bundle: BundleResult;
}

/**
 * Runs every case of the pilot section, each against a fresh reference service. Throws when a
 * job does not end Done, because its times would not describe the normal path.
 */
export async function benchPilot(options: PilotBenchOptions): Promise<PilotBenchResult> {
  const overhead = [
    await benchOverhead(options.overheadJobs, 0),
    await benchOverhead(options.overheadJobs, options.inputFileBytes),
  ];
  const busy = await benchThroughput(options.throughputJobs, options.throughputCores);
  const idle = await sampleIdle(options.idleSeconds);
  return {
    overhead,
    throughput: busy.throughput,
    memory: { idle: summarize(idle), busy: summarize(busy.rssBytes) },
    bundle: benchBundle(options.versionRuns),
  };
}

async function benchOverhead(jobs: number, inputFileBytes: number): Promise<OverheadResult> {
  const inputDir = inputFileBytes > 0 ? writeInputFolder(inputFileBytes) : undefined;
  try {
    const { timelines } = await runJobs({ jobs, cores: 1, inputSandboxDir: inputDir });
    return {
      inputFileBytes,
      jobs,
      matchToStartMs: summarize(timelines.map((job) => job.payloadStartMs - job.matchedMs)),
      exitToFinalMs: summarize(timelines.map((job) => job.finishedMs - job.payloadExitMs)),
    };
  } finally {
    if (inputDir !== undefined) rmSync(inputDir, { recursive: true, force: true });
  }
}

async function benchThroughput(
  jobs: number,
  cores: number,
): Promise<{ throughput: ThroughputResult; rssBytes: number[] }> {
  const run = await runJobs({ jobs, cores });
  const firstMatch = Math.min(...run.timelines.map((job) => job.matchedMs));
  const lastFinal = Math.max(...run.timelines.map((job) => job.finishedMs));
  const busySamples = run.samples.filter((item) => item.ms >= firstMatch && item.ms <= lastFinal);
  if (busySamples.length === 0) {
    throw new Error('no memory sample fell between the first match and the last final status');
  }
  const seconds = (lastFinal - firstMatch) / 1000;
  return {
    throughput: { jobs, cores, seconds, jobsPerSecond: jobs / seconds },
    rssBytes: busySamples.map((item) => item.bytes),
  };
}

/** Runs a pilot against a service without jobs and returns its VmRSS samples once it matches. */
async function sampleIdle(idleSeconds: number): Promise<number[]> {
  const run = await runJobs({ jobs: 0, cores: 1, idleTimeout: idleSeconds });
  const budgetLine = run.pilot.logLines.find((line) => line.msg === 'time budget');
  if (budgetLine === undefined) {
    throw new Error('the idle pilot logged no "time budget" line, so it never started matching');
  }
  const matchingFrom = Date.parse(String(budgetLine.time));
  const samples = run.samples.filter((item) => item.ms >= matchingFrom).map((item) => item.bytes);
  if (samples.length === 0) throw new Error('no memory sample of the idle pilot was taken');
  return samples;
}

interface JobsRunOptions {
  jobs: number;
  cores: number;
  inputSandboxDir?: string;
  /** Seconds without a match before the pilot leaves, by default 1. */
  idleTimeout?: number;
}

interface JobsRun {
  pilot: PilotRun;
  timelines: JobTimeline[];
  samples: RssSample[];
}

/** Submits `jobs` trivial jobs, runs one pilot until it leaves, and checks every job is Done. */
async function runJobs(options: JobsRunOptions): Promise<JobsRun> {
  const service = await startReferenceService();
  let workDir: string | undefined;
  try {
    const ids = await submitTrivialJobs(service, options.jobs, options.inputSandboxDir);
    const started = await startPilot({
      service,
      idleTimeout: options.idleTimeout ?? 1,
      args: ['--cores', String(options.cores)],
    });
    workDir = started.workDir;
    const sampler = sampleRss(started.child.pid);
    const pilot = await started.done;
    const samples = sampler.stop();
    if (pilot.exitCode !== 0) {
      const tail = pilot.stderr.trim().split('\n').pop() ?? '';
      throw new Error(`the pilot exited with ${pilot.exitCode ?? pilot.signal}: ${tail}`);
    }
    for (const id of ids) {
      const job = service.getJob(id);
      if (job.status !== 'Done') {
        throw new Error(`job ${id} ended ${job.status} (${job.minorStatus}), expected Done`);
      }
    }
    return { pilot, timelines: readJobTimelines(pilot.logLines), samples };
  } finally {
    await service.close();
    // startPilot makes the work folder inside a fresh temporary folder of its own.
    if (workDir !== undefined) rmSync(path.dirname(workDir), { recursive: true, force: true });
  }
}

async function submitTrivialJobs(
  service: ReferenceService,
  jobs: number,
  inputSandboxDir: string | undefined,
): Promise<number[]> {
  const ids: number[] = [];
  for (let index = 0; index < jobs; index += 1) {
    const spec = inputSandboxDir === undefined ? {} : { inputSandboxDir };
    ids.push(await service.submitJob({ workflow: TRIVIAL_TOOL, ...spec }));
  }
  return ids;
}

/** Writes a folder with one file of `bytes` pseudo-random, so incompressible, bytes. */
function writeInputFolder(bytes: number): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'ctao-bench-input-'));
  const data = Buffer.alloc(bytes);
  let state = 0x2545f491;
  for (let index = 0; index < bytes; index += 1) {
    // xorshift32: the same bytes on every run, without the cost of a cryptographic generator.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    data[index] = state & 0xff;
  }
  writeFileSync(path.join(folder, 'calibration.bin'), data);
  return folder;
}

interface RssSample {
  /** Local time of the sample, in milliseconds since the epoch, comparable to log times. */
  ms: number;
  bytes: number;
}

/** Samples VmRSS of `pid` alone, not of its children, until `stop` is called. */
function sampleRss(pid: number | undefined): { stop: () => RssSample[] } {
  const samples: RssSample[] = [];
  const sample = (): void => {
    if (pid === undefined) return;
    const bytes = readRssBytes(pid);
    if (bytes !== undefined) samples.push({ ms: Date.now(), bytes });
  };
  const timer = setInterval(sample, RSS_SAMPLE_INTERVAL_MS);
  return {
    stop: () => {
      clearInterval(timer);
      return samples;
    },
  };
}

/** Returns VmRSS from /proc, or undefined once the process has ended. */
function readRssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Measures the bundle's size and times `node dist/ctao-pilot.cjs --version` after one warm-up. */
function benchBundle(runs: number): BundleResult {
  const times: number[] = [];
  for (let run = -1; run < runs; run += 1) {
    const started = performance.now();
    const result = spawnSync(process.execPath, [BUNDLE, '--version'], { stdio: 'pipe' });
    const milliseconds = performance.now() - started;
    if (result.status !== 0) {
      throw new Error(`${BUNDLE} --version exited with ${result.status}. Run "npm run build".`);
    }
    if (run >= 0) times.push(milliseconds);
  }
  return { bytes: statSync(BUNDLE).size, versionMs: summarize(times) };
}
