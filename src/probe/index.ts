/**
 * Node probe: the facts a pilot sends to the matcher (cores, memory, scratch space, platform,
 * GPUs, tags), the batch job it runs in, its time budget and a CPU benchmark.
 */
export { probeNode, DEFAULT_PROBE_TIMEOUT_MS, DEFAULT_WALL_TIME_SECONDS } from './probe-node.js';
export type { NodeProbe, ProbedNode, ProbedSlot, ProbeOptions } from './types.js';
export type { BatchInfo, BatchSystem, TimeBudget } from './time-budget.js';
export { parseSlurmTimeLeft } from './time-budget.js';
export { microarchitectureLevel } from './cpu.js';
export { runBenchmark, type BenchmarkResult } from './benchmark.js';
