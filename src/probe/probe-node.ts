import os from 'node:os';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { runBenchmark } from './benchmark.js';
import { architectureName, detectCores, microarchitectureLevel, readCpuFlags } from './cpu.js';
import { readSystemFile } from './external.js';
import { detectMemoryMb } from './memory.js';
import { freeDiskMb, glibcVersion, osReleaseTag, userNamespacesEnabled } from './platform.js';
import { containerRuntimeTags, cvmfsTags, nvidiaGpuCount } from './tags.js';
import { detectBatch, readTimeBudget, type TimeBudget } from './time-budget.js';
import type { NodeProbe, ProbedNode, ProbeOptions } from './types.js';

/** Default time limit of each external command and folder listing. */
export const DEFAULT_PROBE_TIMEOUT_MS = 5000;

/**
 * Slot wall time used when neither the configuration nor the batch system gives one: one
 * day, a common length of grid batch queues.
 * NOTE: this is a guess. A pilot in a shorter allocation can match jobs it cannot finish
 * unless its wall time is configured.
 */
export const DEFAULT_WALL_TIME_SECONDS = 86_400;

/**
 * Runs `probe` and returns its value, or logs a warning and returns `fallback` when it
 * throws, so one missing fact never stops the probe.
 */
async function orFallback<T>(log: Logger, fact: string, fallback: T, probe: () => Promise<T>) {
  try {
    return await probe();
  } catch (error) {
    // The reason alone: a stack trace would only repeat the probe's own call chain.
    log.warn({ fact, fallback, reason: describeError(error) }, 'node probe fell back to a default');
    return fallback;
  }
}

/**
 * Probes the node: cores, memory, scratch space, OS, platform, GPUs, tags, batch job, time
 * budget and a CPU benchmark. Configured values in `options` win over probed ones. Never
 * throws for a missing fact: each falls back to a safe value with a logged warning.
 */
export async function probeNode(options: ProbeOptions): Promise<NodeProbe> {
  const log = options.log ?? silentLogger;
  const env = options.env ?? process.env;
  const fsRoot = options.fsRoot ?? '/';
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;

  // External commands start first and run while the benchmark blocks the event loop.
  const gpuCount = orFallback(log, 'gpu', 0, () => nvidiaGpuCount(timeoutMs, env));
  const cvmfs = orFallback(log, 'cvmfs', [], () =>
    cvmfsTags(join(fsRoot, 'cvmfs'), timeoutMs, env),
  );
  const batch = await detectBatch(env);
  const timeBudget = orFallback<TimeBudget>(
    log,
    'time budget',
    { wallTimeLeftSeconds: null, source: `${batch.system} (unreadable)`, readAt: Date.now() },
    () => readTimeBudget(options.wallTimeSeconds, batch, timeoutMs, env),
  );

  const benchmark = await orFallback(log, 'benchmark', 1, async () => {
    return runBenchmark(options.benchmarkMs ?? 500).score;
  });
  const cores = await orFallback(log, 'cores', os.availableParallelism(), async () => {
    return (await detectCores(options.cores, env, fsRoot)).value;
  });
  const ramMb = await orFallback(log, 'memory', Math.floor(os.totalmem() / 2 ** 20), async () => {
    return (await detectMemoryMb(options.ramMb, cores, env, fsRoot)).value;
  });
  const scratchMb = await orFallback(log, 'scratch', 0, () => freeDiskMb(options.workDir));
  const budget = await timeBudget;

  const node: ProbedNode = {
    site: options.site ?? 'Unknown',
    ...(options.ce === undefined ? {} : { grid_ce: options.ce }),
    ...(options.queue === undefined ? {} : { queue: options.queue }),
    system: await probeSystem(log, fsRoot),
    cpu: {
      'num-nodes': 1,
      'num-cores': cores,
      'ram-mb': ramMb,
      architecture: await probeArchitecture(log, fsRoot),
    },
    gpu: { count: await gpuCount },
    tags: await collectTags(log, options.tags ?? [], await cvmfs, env, fsRoot),
  };
  if (budget.wallTimeLeftSeconds !== null) {
    node['wall-time'] = budget.wallTimeLeftSeconds;
    node['cpu-work'] = Math.round(budget.wallTimeLeftSeconds * benchmark);
  }

  const slotWallTime = budget.wallTimeLeftSeconds ?? DEFAULT_WALL_TIME_SECONDS;
  const slot = { cores, 'ram-mb': ramMb, 'wall-time': slotWallTime, 'scratch-mb': scratchMb };
  return { node, slot, benchmark, batch, timeBudget: budget };
}

async function probeSystem(log: Logger, fsRoot: string): Promise<ProbedNode['system']> {
  const glibc = await orFallback(log, 'glibc', undefined, async () => glibcVersion());
  const uid = process.getuid?.() ?? -1;
  const userNamespaces = await orFallback(log, 'user namespaces', false, () =>
    userNamespacesEnabled(fsRoot, uid),
  );
  return {
    name: os.platform(),
    ...(glibc === undefined ? {} : { glibc }),
    'user-namespaces': userNamespaces,
  };
}

async function probeArchitecture(
  log: Logger,
  fsRoot: string,
): Promise<ProbedNode['cpu']['architecture']> {
  const name = architectureName();
  if (name !== 'x86_64') return { name };
  const flags = await readCpuFlags(fsRoot);
  if (flags === undefined) {
    log.warn({ fact: 'microarchitecture level' }, 'node probe fell back to a default');
    return { name };
  }
  return { name, 'microarchitecture-level': microarchitectureLevel(flags) };
}

async function collectTags(
  log: Logger,
  configured: string[],
  cvmfs: string[],
  env: NodeJS.ProcessEnv,
  fsRoot: string,
): Promise<string[]> {
  const runtimes = await orFallback(log, 'container runtimes', [], () => containerRuntimeTags(env));
  const osRelease = await readSystemFile(fsRoot, 'etc/os-release');
  const osTag = osRelease === undefined ? undefined : osReleaseTag(osRelease);
  const tags = [...configured, ...cvmfs, ...runtimes, ...(osTag === undefined ? [] : [osTag])];
  return [...new Set(tags)];
}
